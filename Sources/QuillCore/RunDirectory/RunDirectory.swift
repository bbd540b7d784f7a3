import Foundation

/// One run's folder: the language-neutral record of a run.
///
/// ```
/// <QUILL_HOME>/runs/<run_id>/
///   meta.json        status, times, name, project, kind, tags, params, summary, git, host (replaced atomically)
///   config.json      the run's config
///   metrics.jsonl    one object a line: _idx, _timestamp, step, metric keys
///   system.jsonl     system samples: _timestamp, cpu_percent, memory_percent, process_rss_mb, gpu…
///   events.jsonl     params, tags, links, artifacts, summary updates, status changes, with times
///   output.log       log messages and captured output
///   requirements.txt or Package.resolved   the dependency snapshot
///   git.diff         the uncommitted diff at start, size-capped
///   artifacts/       stored files
/// ```
///
/// See `Docs/RunDirectoryFormat.md` for the full specification.
public struct RunDirectory: Sendable, Hashable {
    /// `meta.json`.
    public static let metaFileName = "meta.json"
    /// `config.json`.
    public static let configFileName = "config.json"
    /// `metrics.jsonl`.
    public static let metricsFileName = "metrics.jsonl"
    /// `system.jsonl`.
    public static let systemFileName = "system.jsonl"
    /// `events.jsonl`.
    public static let eventsFileName = "events.jsonl"
    /// `output.log`.
    public static let logFileName = "output.log"
    /// `requirements.txt`.
    public static let requirementsFileName = "requirements.txt"
    /// `Package.resolved`.
    public static let packageResolvedFileName = "Package.resolved"
    /// `git.diff`.
    public static let gitDiffFileName = "git.diff"
    /// `artifacts`.
    public static let artifactsDirectoryName = "artifacts"
    /// `.lock`: the advisory lock every writer of shared files holds.
    public static let lockFileName = ".lock"

    /// The folder.
    public let path: String

    /// Wraps a folder path.
    public init(path: String) {
        self.path = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
    }

    /// The folder's name, which is the run id for runs Quill created.
    public var name: String { (path as NSString).lastPathComponent }

    /// The path of a file in the folder.
    public func file(_ name: String) -> String { path + "/" + name }

    /// The path of `meta.json`.
    public var metaPath: String { file(Self.metaFileName) }
    /// The path of `config.json`.
    public var configPath: String { file(Self.configFileName) }
    /// The path of `metrics.jsonl`.
    public var metricsPath: String { file(Self.metricsFileName) }
    /// The path of `system.jsonl`.
    public var systemPath: String { file(Self.systemFileName) }
    /// The path of `events.jsonl`.
    public var eventsPath: String { file(Self.eventsFileName) }
    /// The path of `output.log`.
    public var logPath: String { file(Self.logFileName) }
    /// The path of `artifacts/`.
    public var artifactsPath: String { file(Self.artifactsDirectoryName) }
    /// The path of the lock file.
    public var lockPath: String { file(Self.lockFileName) }

    /// Whether the folder holds a `meta.json`.
    public var exists: Bool { FileIO.exists(metaPath) }

    // MARK: meta.json

    /// Reads `meta.json`.
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/notFound`` when it is missing, or
    ///   ``QuillError/Code/malformed`` when it does not parse.
    public func readMeta() throws -> RunMeta {
        guard let bytes = try FileIO.read(metaPath) else {
            throw QuillError(.notFound, "no meta.json in '\(path)'; is this a run directory?")
        }
        let json: JSONValue
        do {
            json = try JSONParser.parse(bytes)
        } catch {
            throw QuillError(
                .malformed,
                "'\(metaPath)' is not valid JSON (\(error)); restore it from a backup or remove the run",
                underlying: error
            )
        }
        return try RunMeta(json: json, directoryName: name)
    }

    /// Replaces `meta.json` atomically. Call with the run's lock held when other processes may write it.
    public func writeMeta(_ meta: RunMeta) throws {
        try FileIO.replaceAtomically(metaPath, with: JSONWriter.pretty(meta.json))
    }

    /// Reads, changes and writes `meta.json` under the run's lock, so concurrent writers do not lose updates.
    @discardableResult
    public func updateMeta(_ change: (inout RunMeta) throws -> Void) throws -> RunMeta {
        try FileIO.withLock(lockPath) {
            var meta = try readMeta()
            try change(&meta)
            try writeMeta(meta)
            return meta
        }
    }

    // MARK: Other files

    /// Reads `config.json`; an empty object when it is missing.
    public func readConfig() throws -> JSONValue {
        guard let bytes = try FileIO.read(configPath) else { return .object([:]) }
        do {
            return try JSONParser.parse(bytes)
        } catch {
            throw QuillError(.malformed, "'\(configPath)' is not valid JSON (\(error))", underlying: error)
        }
    }

    /// Reads every row of `metrics.jsonl`, including superseded ones.
    public func readMetricRows() throws -> (rows: [MetricRow], diagnostics: ReadDiagnostics) {
        try MetricsFile.read(metricsPath)
    }

    /// Reads the surviving rows of `metrics.jsonl`: rows superseded by a resume (see ``ResumePoint``) are dropped.
    public func readMetrics(meta: RunMeta? = nil) throws -> (rows: [MetricRow], diagnostics: ReadDiagnostics) {
        let (rows, diagnostics) = try readMetricRows()
        let meta = try meta ?? readMeta()
        guard !meta.resumes.isEmpty else { return (rows, diagnostics) }
        return (rows.filter { !meta.isSuperseded(index: $0.index, step: $0.step) }, diagnostics)
    }

    /// Reads `events.jsonl`.
    public func readEvents() throws -> (events: [RunEvent], diagnostics: ReadDiagnostics) {
        var diagnostics = ReadDiagnostics()
        guard let bytes = try FileIO.read(eventsPath) else { return ([], diagnostics) }
        var events: [RunEvent] = []
        JSONLines.forEachObject(in: bytes, diagnostics: &diagnostics) { members in
            if let event = RunEvent(members: members) { events.append(event) }
        }
        return (events, diagnostics)
    }

    /// Reads `system.jsonl`.
    public func readSystem() throws -> (samples: [SystemSample], diagnostics: ReadDiagnostics) {
        var diagnostics = ReadDiagnostics()
        guard let bytes = try FileIO.read(systemPath) else { return ([], diagnostics) }
        var samples: [SystemSample] = []
        JSONLines.forEachObject(in: bytes, diagnostics: &diagnostics) { members in
            let time = members["_timestamp"]?.stringValue.flatMap(Timestamp.parse) ?? Date(timeIntervalSince1970: 0)
            var values: [String: Double] = [:]
            for (key, value) in members where key != "_timestamp" {
                if let number = value.doubleValue { values[key] = number }
            }
            samples.append(SystemSample(timestamp: time, values: values))
        }
        return (samples, diagnostics)
    }

    /// Reads the log file, one ``LogLine`` a line.
    public func readLog() throws -> [LogLine] {
        guard let bytes = try FileIO.read(logPath) else { return [] }
        var lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        return lines.map { LogLine(parsing: String($0)) }
    }

    /// Lists the files under `artifacts/` with their sizes, sorted by path.
    public func listArtifacts() -> [(path: String, size: Int64)] {
        FileIO.regularFiles(under: artifactsPath)
    }
}
