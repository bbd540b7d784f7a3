import Foundation
import QuillCore
import Synchronization

/// SLURM's command-line client, the one place Quill runs `sbatch`, `squeue`, `scontrol`, `sacct` and `scancel`
/// (for jobs and cached steps alike).
///
/// Every call runs the tool as a child process off Swift's cooperative pool (``SlurmCommand``), with
/// `SLURM_CONF` set when the client names a configuration, and a time limit.
///
/// ```swift
/// let slurm = SlurmClient(configuration: .init(slurmConf: "/etc/slurm/slurm.conf"))
/// let id = try await slurm.submit(script, writingTo: "/shared/job.sh")
/// let states = try await slurm.poll([id])      // one squeue call for every id
/// ```
package final class SlurmClient: Sendable {
    /// How the client runs SLURM's tools.
    package struct Configuration: Sendable, Hashable {
        /// The `slurm.conf` the tools read (`SLURM_CONF`), or `nil` for the environment's or the system's.
        package var slurmConf: String?
        /// How long one tool may take before it is killed.
        package var commandTimeout: Duration
        /// The directory holding the tools, or `nil` to look them up on `PATH`.
        package var toolDirectory: String?

        /// A configuration; by default the environment's SLURM, 30 seconds per call.
        package init(slurmConf: String? = nil, commandTimeout: Duration = .seconds(30), toolDirectory: String? = nil) {
            self.slurmConf = slurmConf
            self.commandTimeout = commandTimeout
            self.toolDirectory = toolDirectory
        }
    }

    /// How the client runs the tools.
    package let configuration: Configuration
    private let accounting = Mutex<Bool?>(nil)

    /// The most ids one `squeue` call names (a longer list is split so the command line stays short).
    package static let idsPerCall = 2000

    /// A client.
    package init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// The environment the tools get on top of quill's (`SLURM_CONF` when set); batch jobs inherit it.
    package var environment: [String: String] {
        configuration.slurmConf.map { ["SLURM_CONF": $0] } ?? [:]
    }

    /// Runs a tool with arguments.
    package func run(_ tool: String, _ arguments: [String]) async throws -> SlurmCommandResult {
        let path = configuration.toolDirectory.map { ($0 as NSString).appendingPathComponent(tool) } ?? tool
        return try await SlurmCommand.run(
            [path] + arguments,
            environment: environment,
            timeout: configuration.commandTimeout
        )
    }

    // MARK: Submitting

    /// Writes `script`'s text to `path` (executable) and submits it with `sbatch --parsable`.
    ///
    /// - Returns: The job's id (the array job's id for an array; its tasks are ``SlurmJobID/task(_:)``).
    /// - Throws: ``QuillCore/QuillError`` with code `invalidArgument` for an invalid script, `io` when the script
    ///   cannot be written, `process` when SLURM refuses the job (its reason), `unavailable` when `sbatch` cannot
    ///   run or answer.
    package func submit(_ script: SlurmBatchScript, writingTo path: String) async throws -> SlurmJobID {
        try script.validate()
        do {
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent,
                withIntermediateDirectories: true
            )
            try FileManager.default.createDirectory(
                atPath: (script.outputPath as NSString).deletingLastPathComponent,
                withIntermediateDirectories: true
            )
            try Data(script.text.utf8).write(to: URL(fileURLWithPath: path))
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        } catch {
            throw QuillError(.io, "could not write the batch script '\(path)': \(error.localizedDescription)")
        }
        let result = try await run("sbatch", script.sbatchArguments + [path])
        guard result.status == 0 else {
            throw QuillError(.process, "SLURM refused the job: \(Self.trimmed(result.firstErrorLine))")
        }
        // --parsable prints `id` or `id;cluster`.
        let line = result.output.split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
        guard let first = line.split(separator: ";").first, let job = Int64(first.trimmingCharacters(in: .whitespaces))
        else {
            throw QuillError(.process, "sbatch printed no job id: '\(result.output.prefix(200))'")
        }
        return SlurmJobID(job: job)
    }

    // MARK: Following

    /// The records of many jobs and array tasks, in one `squeue` call for all of them (an array job's id
    /// returns each of its tasks, keyed by task); ids `squeue` no longer lists are asked of `sacct` (one call)
    /// when accounting is on, else of `scontrol show job`. An id SLURM forgot is absent from the result.
    ///
    /// - Throws: ``QuillCore/QuillError`` with code `unavailable` when SLURM cannot be asked.
    package func poll(_ ids: [SlurmJobID]) async throws -> [SlurmJobID: SlurmJobInfo] {
        let unique = Array(Set(ids)).sorted()
        guard !unique.isEmpty else { return [:] }
        var found: [SlurmJobID: SlurmJobInfo] = [:]
        for start in stride(from: 0, to: unique.count, by: Self.idsPerCall) {
            let chunk = unique[start..<min(unique.count, start + Self.idsPerCall)]
            for info in try await squeue(Array(chunk)) { found[info.id] = info }
        }
        let missing = unique.filter { id in
            found[id] == nil && (id.task != nil || !found.keys.contains { $0.job == id.job })
        }
        guard !missing.isEmpty else { return found }
        let rest: [SlurmJobInfo]
        if try await accountingEnabled() {
            rest = try await sacct(missing)
        } else {
            rest = try await scontrolShow(missing)
        }
        for info in rest where found[info.id] == nil { found[info.id] = info }
        return found
    }

    /// The records of one job (or all tasks of an array job).
    package func poll(_ id: SlurmJobID) async throws -> [SlurmJobInfo] {
        try await poll([id]).values.filter { $0.id == id || (id.task == nil && $0.id.job == id.job) }.sorted {
            $0.id < $1.id
        }
    }

    /// The `squeue -O` fields, in the order ``parseSqueue(_:)`` reads them.
    static let squeueFormat = "JobID:|,ArrayJobID:|,ArrayTaskID:|,State:|,Reason:|,exit_code:|,RestartCnt:|"

    func squeue(_ ids: [SlurmJobID]) async throws -> [SlurmJobInfo] {
        let list = ids.map(\.description).joined(separator: ",")
        let result = try await run(
            "squeue",
            ["--noheader", "--states=all", "--array", "--jobs=\(list)", "--Format=\(Self.squeueFormat)"]
        )
        if result.status != 0 {
            // Every id unknown: squeue fails instead of printing nothing.
            if result.error.contains("Invalid job id") { return [] }
            throw QuillError(.unavailable, "squeue failed: \(Self.trimmed(result.firstErrorLine))")
        }
        return Self.parseSqueue(result.output)
    }

    /// Records from `squeue -O` lines (``squeueFormat``).
    static func parseSqueue(_ text: String) -> [SlurmJobInfo] {
        text.split(whereSeparator: \.isNewline).compactMap { line in
            let fields = line.split(separator: "|", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard fields.count >= 7, let raw = Int64(fields[0]) else { return nil }
            let id: SlurmJobID
            if let task = Int(fields[2]), let array = Int64(fields[1]) {
                id = SlurmJobID(job: array, task: task)
            } else {
                id = SlurmJobID(job: raw)
            }
            let status = Int(fields[5]).map(SlurmJobInfo.split(waitStatus:))
            return SlurmJobInfo(
                id: id,
                rawID: raw,
                state: SlurmJobInfo.stateName(Substring(fields[3])),
                reason: SlurmJobInfo.reason(Substring(fields[4])),
                exitCode: status?.exitCode,
                signal: status?.signal,
                restarts: Int(fields[6]) ?? 0
            )
        }
    }

    func scontrolShow(_ ids: [SlurmJobID]) async throws -> [SlurmJobInfo] {
        var infos: [SlurmJobInfo] = []
        for id in ids {
            let result = try await run("scontrol", ["--oneliner", "show", "job", id.description])
            if result.status != 0 {
                if result.error.contains("Invalid job id") { continue }
                throw QuillError(.unavailable, "scontrol show job failed: \(Self.trimmed(result.firstErrorLine))")
            }
            infos += Self.parseScontrol(result.output)
        }
        return infos
    }

    /// Records from `scontrol --oneliner show job` lines (`Key=Value` separated by spaces).
    static func parseScontrol(_ text: String) -> [SlurmJobInfo] {
        text.split(whereSeparator: \.isNewline).compactMap { line in
            let fields = keyValues(line)
            guard let raw = fields["JobId"].flatMap({ Int64($0) }), let state = fields["JobState"] else { return nil }
            let id: SlurmJobID
            if let task = fields["ArrayTaskId"].flatMap({ Int($0) }),
                let array = fields["ArrayJobId"].flatMap({ Int64($0) })
            {
                id = SlurmJobID(job: array, task: task)
            } else {
                id = SlurmJobID(job: raw)
            }
            let status = fields["ExitCode"].map(SlurmJobInfo.split(exitCode:))
            return SlurmJobInfo(
                id: id,
                rawID: raw,
                state: SlurmJobInfo.stateName(Substring(state)),
                reason: fields["Reason"].flatMap { SlurmJobInfo.reason(Substring($0)) },
                exitCode: status?.exitCode,
                signal: status?.signal,
                restarts: fields["Restarts"].flatMap { Int($0) } ?? 0
            )
        }
    }

    /// `Key=Value` pairs of one `scontrol` line; a value runs to the next ` Key=` (a reason may hold spaces).
    static func keyValues(_ line: Substring) -> [String: String] {
        var result: [String: String] = [:]
        var key: String?
        var value = ""
        for word in line.split(separator: " ") {
            if let equals = word.firstIndex(of: "="),
                word[..<equals].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "/" || $0 == ":" }),
                equals != word.startIndex
            {
                if let key { result[key] = value }
                key = String(word[..<equals])
                value = String(word[word.index(after: equals)...])
            } else if key != nil {
                value += " " + word
            }
        }
        if let key { result[key] = value }
        return result
    }

    func sacct(_ ids: [SlurmJobID]) async throws -> [SlurmJobInfo] {
        let list = ids.map(\.description).joined(separator: ",")
        let result = try await run(
            "sacct",
            ["--noheader", "--parsable2", "--allocations", "--jobs=\(list)", "--format=JobIDRaw,JobID,State,ExitCode"]
        )
        guard result.status == 0 else {
            throw QuillError(.unavailable, "sacct failed: \(Self.trimmed(result.firstErrorLine))")
        }
        return Self.parseSacct(result.output)
    }

    /// Records from `sacct --parsable2 --format=JobIDRaw,JobID,State,ExitCode` lines.
    static func parseSacct(_ text: String) -> [SlurmJobInfo] {
        text.split(whereSeparator: \.isNewline).compactMap { line in
            let fields = line.split(separator: "|", omittingEmptySubsequences: false)
            guard fields.count >= 4, let raw = Int64(fields[0]), let id = SlurmJobID(String(fields[1])) else {
                return nil
            }
            let status = SlurmJobInfo.split(exitCode: String(fields[3]))
            return SlurmJobInfo(
                id: id,
                rawID: raw,
                state: SlurmJobInfo.stateName(fields[2]),
                exitCode: status.exitCode,
                signal: status.signal
            )
        }
    }

    /// Whether the cluster keeps accounting (`sacct` answers); asked once (`scontrol show config`).
    package func accountingEnabled() async throws -> Bool {
        if let known = accounting.withLock({ $0 }) { return known }
        let result = try await run("scontrol", ["show", "config"])
        guard result.status == 0 else {
            throw QuillError(.unavailable, "scontrol show config failed: \(Self.trimmed(result.firstErrorLine))")
        }
        let line = result.output.split(whereSeparator: \.isNewline).first { $0.hasPrefix("AccountingStorageType") }
        let enabled =
            line.map { !$0.contains("accounting_storage/none") && $0.contains("accounting_storage/") } ?? false
        accounting.withLock { $0 = enabled }
        return enabled
    }

    // MARK: Controlling

    /// Cancels jobs or array tasks with one `scancel` call; a job that already ended or that SLURM forgot is
    /// not an error.
    ///
    /// - Throws: ``QuillCore/QuillError`` with code `unavailable` when `scancel` fails otherwise.
    package func cancel(_ ids: [SlurmJobID]) async throws {
        try await scancel([], ids)
    }

    /// Kills jobs or array tasks at once: SIGKILL to the batch script and every step (`scancel --signal=KILL
    /// --full`), without the SIGTERM and `KillWait` grace of ``cancel(_:)``; for jobs nobody follows any more
    /// (the jobs of a lost worker). A job that already ended is not an error.
    ///
    /// - Throws: ``QuillCore/QuillError`` with code `unavailable` when `scancel` fails otherwise.
    package func kill(_ ids: [SlurmJobID]) async throws {
        try await scancel(["--signal=KILL", "--full"], ids)
    }

    /// One `scancel` call; the errors of jobs that already ended or that SLURM forgot are not errors.
    private func scancel(_ options: [String], _ ids: [SlurmJobID]) async throws {
        guard !ids.isEmpty else { return }
        let result = try await run("scancel", options + ids.map(\.description))
        guard result.status == 0 else {
            let harmless = result.error.split(whereSeparator: \.isNewline).allSatisfy {
                $0.contains("already completing or completed") || $0.contains("Invalid job id")
            }
            if harmless { return }
            let command = (["scancel"] + options).joined(separator: " ")
            throw QuillError(.unavailable, "\(command) failed: \(Self.trimmed(result.firstErrorLine))")
        }
    }

    /// Requeues a running job as a preemption would (`scontrol requeue`); with `now`, makes it eligible at
    /// once (SLURM otherwise holds a requeued batch job back for about two minutes): once the job is PENDING
    /// again (an update while it is still COMPLETING does not hold), within `timeout`.
    package func requeue(_ id: SlurmJobID, now: Bool = false, timeout: Duration = .seconds(60)) async throws {
        let result = try await run("scontrol", ["requeue", id.description])
        guard result.status == 0 else {
            throw QuillError(.process, "scontrol requeue \(id) failed: \(Self.trimmed(result.firstErrorLine))")
        }
        if now {
            let deadline = ContinuousClock.now + timeout
            while try await poll([id])[id]?.state != "PENDING" {
                guard ContinuousClock.now < deadline else {
                    throw QuillError(
                        .unavailable,
                        "SLURM job \(id) was not PENDING again within \(timeout) of its requeue"
                    )
                }
                try await Task.sleep(for: .milliseconds(200))
            }
            let update = try await run("scontrol", ["update", "JobId=\(id)", "StartTime=now"])
            guard update.status == 0 else {
                throw QuillError(
                    .process,
                    "scontrol update \(id) StartTime=now failed: \(Self.trimmed(update.firstErrorLine))"
                )
            }
        }
    }

    /// Checks the controller answers (`sinfo`).
    ///
    /// - Throws: ``QuillCore/QuillError`` with code `unavailable` saying why not.
    package func ping() async throws {
        let result = try await run("sinfo", ["--noheader", "--format=%P %a"])
        guard result.status == 0 else {
            throw QuillError(
                .unavailable,
                "the SLURM controller does not answer: \(Self.trimmed(result.firstErrorLine))"
            )
        }
    }

    private static func trimmed(_ line: String) -> String {
        var text = line
        for prefix in ["sbatch: error: ", "squeue: error: ", "scontrol: error: ", "sacct: error: ", "scancel: error: "]
        where text.hasPrefix(prefix) {
            text.removeFirst(prefix.count)
        }
        return text
    }
}
