import Foundation
import QuillCore

/// The run folder a whirr worker (`whirr worker`) gives its job: `WHIRR_RUN_DIR` and `WHIRR_JOB_ID` (its run
/// is `job-<id>`, the folder's name). The worker itself writes `output.log` (the job's output) and makes
/// `artifacts/`; it uploads nothing: the server reads the folder (Quill's `/whirr` routes import it into the
/// job's Quill run when the worker shares its data directory with the server).
struct WhirrWorkerRun {
    let directory: RunDirectory
    let jobID: Int

    /// The folder of the environment, when both variables are set (as whirr's own SDK requires).
    init?(environment: [String: String]) {
        guard let path = environment["WHIRR_RUN_DIR"], !path.isEmpty,
            let job = environment["WHIRR_JOB_ID"].flatMap({ Int($0.trimmingWhitespace()) })
        else { return nil }
        directory = RunDirectory(path: path)
        jobID = job
    }
}

extension Quill {
    /// Logs into a whirr worker's run folder (only `WHIRR_RUN_DIR`/`WHIRR_JOB_ID` set), in the format both
    /// whirr's readers and Quill's read, never replacing a file whirr wrote:
    ///
    /// - `metrics.jsonl`: rows `{"_idx", "_timestamp", "step", metrics…}` appended after the rows already
    ///   there (whirr's `read_metrics` and ``MetricsFile`` both read them);
    /// - `meta.json`: written only when the folder has none (Quill's metadata keeps whirr's required fields:
    ///   `id`, `name`, `status`, `started_at`, `config_file`, `metrics_file`, `artifacts_dir`), then updated
    ///   under the run's lock like any Quill run, unknown fields kept; the run's status is written at the end
    ///   only when this process made the file;
    /// - `config.json`: written only when missing, else merged;
    /// - log messages go to standard error, which the worker captures into its `output.log` (appending to
    ///   that file would be overwritten by the worker's own writes).
    ///
    /// Nothing is uploaded: whirr's worker shares the folder with the server, which imports it.
    static func attach(
        toWhirr whirr: WhirrWorkerRun,
        project: String?,
        name: String?,
        config: [String: JSONValue],
        tags: [String],
        kind: RunKind,
        description: String?,
        options: RunOptions
    ) throws -> Run {
        let directory = whirr.directory
        do {
            try FileManager.default.createDirectory(atPath: directory.artifactsPath, withIntermediateDirectories: true)
        } catch {
            throw QuillError(
                .io,
                "could not use whirr's run folder '\(directory.path)' (WHIRR_RUN_DIR); check that it is writable",
                underlying: error
            )
        }
        let (meta, created) = try FileIO.withLock(directory.lockPath) { () throws -> (RunMeta, Bool) in
            if directory.exists {
                var meta = try directory.readMeta()
                meta.addTags(tags)
                try directory.writeMeta(meta)
                return (meta, false)
            }
            let id = RunID(directory.name) ?? RunID.random()
            var meta = RunMeta(
                id: id,
                name: name ?? id.rawValue,
                project: Project(displayName: project ?? options.defaultProject),
                kind: kind,
                parent: nil,
                startedAt: Date()
            )
            meta.description = description
            meta.addTags(tags)
            meta.extra["job_id"] = .int(whirr.jobID)
            if options.captureHost { meta.host = EnvironmentCapture.host() }
            try directory.writeMeta(meta)
            return (meta, true)
        }
        try FileIO.withLock(directory.lockPath) {
            if FileIO.exists(directory.configPath) {
                guard !config.isEmpty else { return }
                var merged = try directory.readConfig().objectValue ?? [:]
                merged.merge(config) { _, new in new }
                try FileIO.replaceAtomically(directory.configPath, with: JSONWriter.pretty(.object(merged)))
            } else {
                try FileIO.replaceAtomically(directory.configPath, with: JSONWriter.pretty(.object(config)))
            }
        }
        return try open(
            meta: meta,
            directory: directory,
            ownsStatus: created,
            sampling: false,
            streaming: false,
            logToStandardError: true,
            options: options
        )
    }
}
