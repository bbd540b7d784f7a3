import Quill
import QuillClient
import QuillCore

/// The request fields that become ``RunOptions``, shared by start and resume.
private let optionFields: Set<String> = [
    "home", "tracking_uri", "api_key", "flush_interval_ms", "capture_git", "capture_host", "capture_dependencies",
    "system_metrics_interval_s",
]

/// The fields of `quill_run_start`'s request.
private let startFields: Set<String> =
    optionFields.union(["project", "name", "config", "tags", "kind", "parent", "description", "attach"])

/// The fields of `quill_run_resume`'s request.
private let resumeFields: Set<String> = optionFields.union(["run", "from_step"])

/// ``RunOptions`` from the environment (as `RunOptions.fromEnvironment()` reads it), with the request's
/// fields on top; signals are left to the caller (Python installs its own handlers).
func runOptions(_ request: Request) throws -> RunOptions {
    var options = RunOptions.fromEnvironment()
    options.handleSignals = false
    if let home = try request.nonEmptyString("home") { options.home = QuillHome(path: home) }
    if let uri = try request.string("tracking_uri") {
        if uri.isEmpty {
            options.trackingURI = nil
        } else {
            try BlockingHTTPClient.checkServerURL(uri)
            options.trackingURI = uri
        }
    }
    if let key = try request.string("api_key") { options.apiKey = key.isEmpty ? nil : key }
    if let millis = try request.int("flush_interval_ms") {
        // Clamped to 1–200 ms, as QUILL_FLUSH_INTERVAL_MS is.
        options.flushInterval = .milliseconds(min(200, max(1, millis)))
    }
    if let flag = try request.bool("capture_git") { options.captureGit = flag }
    if let flag = try request.bool("capture_host") { options.captureHost = flag }
    if let flag = try request.bool("capture_dependencies") { options.captureDependencies = flag }
    if let seconds = try request.double("system_metrics_interval_s") {
        // A year at most, so the conversion to milliseconds cannot overflow.
        guard seconds >= 0, seconds <= 31_536_000 else {
            throw QuillError(
                .invalidArgument,
                "\(request.name).system_metrics_interval_s must be 0 (off) to 31536000 seconds, not \(seconds)"
            )
        }
        options.systemMetricsInterval = seconds > 0 ? .milliseconds(max(1, Int64(seconds * 1000))) : nil
    }
    return options
}

/// What `quill_run_start` and `quill_run_resume` answer about the run.
func runInfo(_ run: Run) -> JSONValue {
    let config = (try? run.directory.readConfig()) ?? .object([:])
    return [
        "id": .string(run.id.rawValue),
        "name": .string(run.name),
        "project": .string(run.project.displayName),
        "kind": .string(run.kind.label),
        "parent": run.parent.map { .string($0.rawValue) } ?? .null,
        "dir": .string(run.directory.path),
        "config": config,
        "attached": .bool(!run.ownsStatus),
        "started_at": .string(Timestamp.string(run.startedAt)),
    ]
}

/// Starts a run (`Quill.startRun`), or attaches to the run of `QUILL_RUN_DIR` when the process runs inside
/// `quill run` or a job and `attach` is not false.
///
/// The caller passes a JSON object with any of `project`, `name`, `config` (object), `tags` (strings:
/// `label` or `key=value`), `kind`, `parent` (a run id), `description`, and the options `home`,
/// `tracking_uri`, `api_key`, `flush_interval_ms` (clamped to 1–200), `capture_git`, `capture_host`,
/// `capture_dependencies`, `system_metrics_interval_s` (0 = off) and `attach`; options not given come from
/// the environment (`QUILL_HOME`, `QUILL_TRACKING_URI`, …). SIGINT and SIGTERM are left to the caller.
///
/// On success `*out_run` receives a handle the caller owns and gives back with `quill_run_release`, and
/// `*out_info_json` (when not NULL) a JSON object `{"id","name","project","kind","parent","dir","config",
/// "attached","started_at"}` the caller frees with `quill_free`.
///
/// - Returns: 0 on success; 1 with `*error` set (free it with `quill_free`) on failure.
@_cdecl("quill_run_start")
public func quillRunStart(
    _ requestJSON: UnsafePointer<CChar>?,
    _ outRun: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
    _ outInfoJSON: StringOut,
    _ error: ErrorOut
) -> Int32 {
    answer(error) {
        let out = try required(outRun, "out_run")
        let run = try startRun(Request(requestJSON, "request_json", known: startFields))
        try hand(run, to: out, info: outInfoJSON)
    }
}

/// Starts the run a request describes.
private func startRun(_ request: Request) throws -> Run {
    var options = try runOptions(request)
    if let attach = try request.bool("attach") { options.attachToEnvironmentRun = attach }
    var parent: RunID?
    if let text = try request.string("parent") {
        guard let id = RunID(text) else {
            throw QuillError(.invalidArgument, "request_json.parent '\(text)' is not a run id; pass the parent's id")
        }
        parent = id
    }
    var kind = RunKind.training
    if let label = try request.nonEmptyString("kind") { kind = RunKind(label) }
    return try Quill.startRun(
        project: try request.nonEmptyString("project"),
        name: try request.nonEmptyString("name"),
        config: try request.object("config") ?? [:],
        tags: try request.strings("tags") ?? [],
        kind: kind,
        parent: parent,
        description: try request.string("description"),
        options: options
    )
}

/// Reopens a finished or crashed run to keep logging into it (`Quill.resumeRun`).
///
/// The caller passes a JSON object with `run` (an id, a unique id prefix or a name), optionally
/// `from_step` (rows logged before at this step or later are superseded) and the options of
/// `quill_run_start` (`home`, `tracking_uri`, `api_key`, …). Outputs and ownership are those of
/// `quill_run_start`.
///
/// - Returns: 0 on success; 1 with `*error` set on failure: `not_found`, `ambiguous`, or `invalid_argument`
///   when the run's process is still running.
@_cdecl("quill_run_resume")
public func quillRunResume(
    _ requestJSON: UnsafePointer<CChar>?,
    _ outRun: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
    _ outInfoJSON: StringOut,
    _ error: ErrorOut
) -> Int32 {
    answer(error) {
        let out = try required(outRun, "out_run")
        let request = try Request(requestJSON, "request_json", known: resumeFields)
        guard let reference = try request.nonEmptyString("run") else {
            throw QuillError(.invalidArgument, "request_json.run is missing; pass the run's id, id prefix or name")
        }
        let fromStep = try request.int("from_step")
        if let fromStep, !MetricBounds.steps.contains(fromStep) {
            throw QuillError(
                .invalidArgument,
                "request_json.from_step \(fromStep) is out of range; steps are at most 2^53-1 in magnitude"
            )
        }
        let run = try Quill.resumeRun(reference, fromStep: fromStep, options: try runOptions(request))
        try hand(run, to: out, info: outInfoJSON)
    }
}

/// Passes a started run out: the info first (the only step that can fail), then the retained handle.
private func hand(
    _ run: Run,
    to out: UnsafeMutablePointer<UnsafeMutableRawPointer?>,
    info: StringOut
) throws {
    if let info {
        do {
            try deliver(runInfo(run), to: info)
        } catch {
            try? run.finish(.failed, error: "the C caller could not receive the run")
            throw error
        }
    }
    out.pointee = retainedHandle(run)
}
