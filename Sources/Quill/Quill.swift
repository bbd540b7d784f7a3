import Foundation
import Logging
import QuillClient
public import QuillCore

/// The entry points of the Quill SDK: start, scope and resume runs.
///
/// ```swift
/// try Quill.withRun(project: "mnist", config: ["lr": 0.001]) { run in
///     for step in 0..<100 {
///         try run.log(["loss": 1.0 / Double(step + 1)], step: step)
///     }
/// }
/// ```
///
/// Runs are recorded in run directories under the Quill home (see <doc:RunDirectoryFormat>).
public enum Quill: Sendable {
    /// Starts a run.
    ///
    /// Gets or creates the project, reserves a unique name (a random readable one when none is given; a
    /// taken name gets a numeric suffix, `baseline_1`), writes `config.json` and `meta.json`, captures
    /// git, host and dependencies as the options say, and starts the background writer and the system
    /// sampler. When `QUILL_RUN_DIR` is set (by `quill run` or a job's worker), the run of that directory is
    /// used instead, and when only whirr's `WHIRR_RUN_DIR` and `WHIRR_JOB_ID` are set (whirr's worker), whirr's
    /// run folder; an attached run never uploads by itself (see <doc:InsideJobs>).
    ///
    /// - Parameters:
    ///   - project: The project's display name; ``RunOptions/defaultProject`` when `nil`.
    ///   - name: The run's name; a random one when `nil`.
    ///   - config: The run's configuration.
    ///   - tags: Tags: a plain word is a label tag, `key=value` a key-value tag (`key:value` is read too).
    ///   - kind: What the run does.
    ///   - parent: The parent run, for nested runs.
    ///   - description: Free text.
    ///   - options: Where and how to record; from the environment by default.
    /// - Returns: The running run.
    /// - Throws: ``QuillError`` with code ``QuillError/Code/io`` when the run directory cannot be written.
    public static func startRun(
        project: String? = nil,
        name: String? = nil,
        config: [String: JSONValue] = [:],
        tags: [String] = [],
        kind: RunKind = .training,
        parent: RunID? = nil,
        description: String? = nil,
        options: RunOptions = .fromEnvironment()
    ) throws -> Run {
        if options.attachToEnvironmentRun, let attached = ProcessInfo.processInfo.environment["QUILL_RUN_DIR"],
            !attached.isEmpty
        {
            return try attach(to: RunDirectory(path: attached), config: config, tags: tags, options: options)
        }
        if options.attachToEnvironmentRun, let whirr = WhirrWorkerRun(environment: ProcessInfo.processInfo.environment)
        {
            return try attach(
                toWhirr: whirr,
                project: project,
                name: name,
                config: config,
                tags: tags,
                kind: kind,
                description: description,
                options: options
            )
        }
        let home = options.home
        let project = try home.project(named: project ?? options.defaultProject)
        let directory = try home.makeRunDirectory()
        guard let id = RunID(directory.name) else { preconditionFailure("run directories are named by id") }
        let runName = try home.reserveRunName(name, project: project, runID: id)
        var meta = RunMeta(id: id, name: runName, project: project, kind: kind, parent: parent, startedAt: Date())
        meta.description = description
        meta.addTags(tags)
        let workingDirectory = options.workingDirectory ?? FileManager.default.currentDirectoryPath
        if options.captureHost {
            meta.host = EnvironmentCapture.host()
        }
        if options.captureGit, let (git, diff) = EnvironmentCapture.git(in: workingDirectory) {
            meta.git = git
            if let diff { try FileIO.replaceAtomically(directory.file(RunDirectory.gitDiffFileName), with: diff) }
        }
        if options.captureDependencies, let (fileName, bytes) = EnvironmentCapture.dependencies(in: workingDirectory) {
            try FileIO.replaceAtomically(directory.file(fileName), with: bytes)
            meta.dependencyFile = fileName
        }
        try FileIO.replaceAtomically(directory.configPath, with: JSONWriter.pretty(.object(config)))
        try directory.writeMeta(meta)
        return try open(meta: meta, directory: directory, ownsStatus: true, sampling: true, options: options)
    }

    /// Starts a run whose config is any `Encodable` value (a struct of hyperparameters).
    ///
    /// The value is encoded to JSON; nested structs become nested objects, addressable by dotted paths.
    /// - Throws: ``QuillError`` with code ``QuillError/Code/invalidArgument`` when the value does not encode
    ///   to a JSON object.
    public static func startRun<Config: Encodable>(
        project: String? = nil,
        name: String? = nil,
        config: Config,
        tags: [String] = [],
        kind: RunKind = .training,
        parent: RunID? = nil,
        description: String? = nil,
        options: RunOptions = .fromEnvironment()
    ) throws -> Run {
        try startRun(
            project: project,
            name: name,
            config: encodeConfig(config),
            tags: tags,
            kind: kind,
            parent: parent,
            description: description,
            options: options
        )
    }

    /// Encodes an `Encodable` config to JSON members.
    package static func encodeConfig<Config: Encodable>(_ config: Config) throws -> [String: JSONValue] {
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity",
            negativeInfinity: "-Infinity",
            nan: "NaN"
        )
        encoder.dateEncodingStrategy = .iso8601
        do {
            let data = try encoder.encode(config)
            guard case .object(let members) = try JSONParser.parse(Array(data)) else {
                throw QuillError(
                    .invalidArgument,
                    "a run config must encode to a JSON object (a struct or dictionary), not \(Config.self)"
                )
            }
            return members
        } catch let error as QuillError {
            throw error
        } catch {
            throw QuillError(
                .invalidArgument,
                "could not encode the run config of type \(Config.self)",
                underlying: error
            )
        }
    }

    /// Runs a body inside a run and finishes it: `completed` when the body returns, `failed` when it throws
    /// (the error is re-thrown), `killed` on SIGINT or SIGTERM.
    ///
    /// ```swift
    /// let accuracy = try Quill.withRun(project: "mnist", name: "baseline") { run in
    ///     try train(run)
    /// }
    /// ```
    public static func withRun<T>(
        project: String? = nil,
        name: String? = nil,
        config: [String: JSONValue] = [:],
        tags: [String] = [],
        kind: RunKind = .training,
        parent: RunID? = nil,
        options: RunOptions = .fromEnvironment(),
        _ body: (Run) throws -> T
    ) throws -> T {
        let run = try startRun(
            project: project,
            name: name,
            config: config,
            tags: tags,
            kind: kind,
            parent: parent,
            options: options
        )
        return try closeScoped(run, after: Result { try body(run) })
    }

    /// Runs an async body inside a run and finishes it, as the synchronous form does.
    public static func withRun<T>(
        project: String? = nil,
        name: String? = nil,
        config: [String: JSONValue] = [:],
        tags: [String] = [],
        kind: RunKind = .training,
        parent: RunID? = nil,
        options: RunOptions = .fromEnvironment(),
        isolation: isolated (any Actor)? = #isolation,
        _ body: (Run) async throws -> T
    ) async throws -> T {
        let run = try startRun(
            project: project,
            name: name,
            config: config,
            tags: tags,
            kind: kind,
            parent: parent,
            options: options
        )
        let outcome: Result<T, any Error>
        do {
            outcome = .success(try await body(run))
        } catch {
            outcome = .failure(error)
        }
        return try closeScoped(run, after: outcome)
    }

    /// Runs a body inside a run whose config is any `Encodable` value (a struct of hyperparameters), and
    /// finishes it as the dictionary form does.
    ///
    /// ```swift
    /// struct Config: Codable { var lr = 0.001 }
    /// try Quill.withRun(project: "mnist", config: Config()) { run in
    ///     try run.log("loss", 0.5, step: 0)
    /// }
    /// ```
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/invalidArgument`` when the value does not encode
    ///   to a JSON object, before the run starts; otherwise what the body throws.
    public static func withRun<Config: Encodable, T>(
        project: String? = nil,
        name: String? = nil,
        config: Config,
        tags: [String] = [],
        kind: RunKind = .training,
        parent: RunID? = nil,
        options: RunOptions = .fromEnvironment(),
        _ body: (Run) throws -> T
    ) throws -> T {
        try withRun(
            project: project,
            name: name,
            config: encodeConfig(config),
            tags: tags,
            kind: kind,
            parent: parent,
            options: options,
            body
        )
    }

    /// Runs an async body inside a run whose config is any `Encodable` value, and finishes it as the
    /// dictionary form does.
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/invalidArgument`` when the value does not encode
    ///   to a JSON object, before the run starts; otherwise what the body throws.
    public static func withRun<Config: Encodable, T>(
        project: String? = nil,
        name: String? = nil,
        config: Config,
        tags: [String] = [],
        kind: RunKind = .training,
        parent: RunID? = nil,
        options: RunOptions = .fromEnvironment(),
        isolation: isolated (any Actor)? = #isolation,
        _ body: (Run) async throws -> T
    ) async throws -> T {
        try await withRun(
            project: project,
            name: name,
            config: encodeConfig(config),
            tags: tags,
            kind: kind,
            parent: parent,
            options: options,
            isolation: isolation,
            body
        )
    }

    /// Finishes a scoped run: `completed` with the body's value, or `failed` re-throwing the body's error.
    private static func closeScoped<T>(_ run: Run, after outcome: Result<T, any Error>) throws -> T {
        switch outcome {
        case .success(let value):
            try run.finish(.completed)
            return value
        case .failure(let error):
            try? run.finish(.failed, error: String(describing: error))
            throw error
        }
    }

    /// Reopens a run whose process ended, to keep logging into it (training restarted from a checkpoint).
    ///
    /// Logging continues with `_idx` after the last row. When `fromStep` is given, rows logged before the
    /// resume at that step or later are superseded: readers drop them, so the curve shows what the
    /// resumed process logs instead of two interleaved copies.
    ///
    /// ```swift
    /// let run = try Quill.resumeRun("brave_pasta_123", fromStep: checkpoint.step + 1)
    /// ```
    ///
    /// - Parameters:
    ///   - reference: The run's id, unique id prefix or name.
    ///   - fromStep: The first step the resumed process will log.
    ///   - options: Where and how to record.
    /// - Throws: ``QuillError`` with ``QuillError/Code/notFound`` when there is no such run, or
    ///   ``QuillError/Code/invalidArgument`` when its process is still running.
    public static func resumeRun(
        _ reference: String,
        fromStep: Int? = nil,
        options: RunOptions = .fromEnvironment()
    ) throws -> Run {
        let store = LocalRunStore(home: options.home)
        let found = try store.resolve(reference)
        if found.meta.status == .running {
            let pid = found.meta.host.map { String($0.pid) } ?? "?"
            throw QuillError(
                .invalidArgument,
                "run '\(found.meta.name)' (\(found.meta.id)) is still running (pid \(pid)); stop that process before resuming"
            )
        }
        let directory = found.directory
        let host = options.captureHost ? EnvironmentCapture.host() : nil
        let now = Date()
        let meta = try FileIO.withLock(directory.lockPath) { () throws -> RunMeta in
            let path = directory.metricsPath
            let fd = Platform.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw QuillError.posix("opening", path: path, errno: errno) }
            defer { close(fd) }
            let next = try MetricsFile.prepareForAppend(fd: fd, path: path)
            var meta = try directory.readMeta()
            meta.status = .running
            meta.finishedAt = nil
            meta.error = nil
            meta.exitCode = nil
            meta.signal = nil
            meta.updatedAt = now
            meta.heartbeatAt = now
            if let host { meta.host = host }
            meta.resumes.append(ResumePoint(atIndex: next, fromStep: fromStep, timestamp: now))
            try directory.writeMeta(meta)
            return meta
        }
        var fields: [String: JSONValue] = ["at_idx": .int(meta.resumes.last?.atIndex ?? 0)]
        fields["from_step"] = fromStep.map(JSONValue.int) ?? .null
        try FileIO.append(directory.eventsPath, RunEvent(kind: .resume, timestamp: now, fields: fields).line)
        var resumed = meta
        resumed.startedAt = now
        return try open(meta: resumed, directory: directory, ownsStatus: true, sampling: true, options: options)
    }

    /// The runs this process started, running and finished, as value snapshots.
    public static var runsInThisProcess: [RunSnapshot] {
        RunRegistry.shared.allRuns.map { $0.snapshot() }
    }

    /// Logs into an existing run directory owned by another process (`quill run`, a job's worker).
    private static func attach(
        to directory: RunDirectory,
        config: [String: JSONValue],
        tags: [String],
        options: RunOptions
    ) throws -> Run {
        let meta = try directory.updateMeta { meta in meta.addTags(tags) }
        if !config.isEmpty {
            try FileIO.withLock(directory.lockPath) {
                var merged = try directory.readConfig().objectValue ?? [:]
                merged.merge(config) { _, new in new }
                try FileIO.replaceAtomically(directory.configPath, with: JSONWriter.pretty(.object(merged)))
            }
        }
        return try open(meta: meta, directory: directory, ownsStatus: false, sampling: false, options: options)
    }

    /// Opens the run of an existing run directory that another process owns and uploads (a job's, prepared by
    /// its worker), for `quill run --attach`: output and system samples of this machine are written into it, but
    /// it never uploads and never sets the run's status (its owner does).
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/notFound`` when the directory has no `meta.json`,
    ///   ``QuillError/Code/io`` when it cannot be written.
    package static func attachForCommand(to directory: RunDirectory, options: RunOptions) throws -> Run {
        let meta = try directory.readMeta()
        return try open(
            meta: meta,
            directory: directory,
            ownsStatus: false,
            sampling: true,
            streaming: false,
            options: options
        )
    }

    static func open(
        meta: RunMeta,
        directory: RunDirectory,
        ownsStatus: Bool,
        sampling: Bool,
        streaming: Bool? = nil,
        logToStandardError: Bool = false,
        options: RunOptions
    ) throws -> Run {
        var configuration = options.writerConfiguration
        configuration.logToStandardError = logToStandardError
        let writer = RunWriter(directory: directory, configuration: configuration, logger: options.logger)
        try writer.start()
        let sampler = sampling ? options.systemMetricsInterval.map { SystemSampler(interval: $0) } : nil
        let streamer =
            streaming ?? ownsStatus
            ? options.trackingURI.map {
                RunStreamer(
                    directory: directory,
                    runName: meta.name,
                    serverURL: $0,
                    apiKey: options.apiKey ?? Credentials.apiKey(server: $0)
                )
            } : nil
        let run = Run(
            meta: meta,
            directory: directory,
            writer: writer,
            ownsStatus: ownsStatus,
            sampler: sampler,
            streamer: streamer,
            logger: options.logger
        )
        streamer?.start()
        RunRegistry.shared.add(run, handleSignals: options.handleSignals)
        sampler?.start(writingTo: run)
        return run
    }
}
