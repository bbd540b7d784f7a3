import Quill
import QuillCore

/// Records params: hyperparameters set after the start (`Run.logParams`).
///
/// The caller passes a JSON object of params (any JSON values; NaN and infinities accepted) and keeps it.
///
/// - Returns: 0 on success; 1 with `*error` set on failure: `run_finished`, or `invalid_argument` for a NULL
///   handle or anything but a JSON object.
@_cdecl("quill_log_params")
public func quillLogParams(
    _ run: UnsafeMutableRawPointer?,
    _ paramsJSON: UnsafePointer<CChar>?,
    _ error: ErrorOut
)
    -> Int32
{
    answer(error) {
        let params = try parseObject(paramsJSON, "params_json")
        try withRun(run) { try $0.logParams(params) }
    }
}

/// Sets a tag: `key` with a value, or a label tag when `value` is NULL or empty (`Run.setTag`).
///
/// The caller passes NUL-terminated UTF-8 strings and keeps them.
///
/// - Returns: 0 on success; 1 with `*error` set on failure: `run_finished`, or `invalid_argument` for a NULL
///   handle or key, an empty key, or bad UTF-8.
@_cdecl("quill_set_tag")
public func quillSetTag(
    _ run: UnsafeMutableRawPointer?,
    _ key: UnsafePointer<CChar>?,
    _ value: UnsafePointer<CChar>?,
    _ error: ErrorOut
) -> Int32 {
    answer(error) {
        let key = try string(key, "key")
        guard !key.isEmpty else { throw QuillError(.invalidArgument, "key is empty; a tag needs a name") }
        let value = try optionalString(value, "value") ?? ""
        try withRun(run) { try $0.setTag(key, value) }
    }
}

/// Adds an external link (a paper, a dashboard, a pull request) to the run (`Run.addLink`).
///
/// The caller passes NUL-terminated UTF-8 strings and keeps them.
///
/// - Returns: 0 on success; 1 with `*error` set on failure: `run_finished`, or `invalid_argument` for a NULL
///   handle, label or URL, or bad UTF-8.
@_cdecl("quill_add_link")
public func quillAddLink(
    _ run: UnsafeMutableRawPointer?,
    _ label: UnsafePointer<CChar>?,
    _ url: UnsafePointer<CChar>?,
    _ error: ErrorOut
) -> Int32 {
    answer(error) {
        let label = try string(label, "label")
        let url = try string(url, "url")
        try withRun(run) { try $0.addLink(label, url: url) }
    }
}

/// Merges values into the run's summary (final metrics, best scores); later values win per key
/// (`Run.logSummary`).
///
/// The caller passes a JSON object and keeps it.
///
/// - Returns: 0 on success; 1 with `*error` set on failure: `run_finished`, or `invalid_argument` for a NULL
///   handle or anything but a JSON object.
@_cdecl("quill_log_summary")
public func quillLogSummary(
    _ run: UnsafeMutableRawPointer?,
    _ summaryJSON: UnsafePointer<CChar>?,
    _ error: ErrorOut
)
    -> Int32
{
    answer(error) {
        let summary = try parseObject(summaryJSON, "summary_json")
        try withRun(run) { try $0.logSummary(summary) }
    }
}

/// Writes a text message with a level and the current time to the run's log file (`Run.logMessage`).
///
/// The caller passes the text and a level (`debug`, `info`, `warning` or `error`; NULL is `info`) as
/// NUL-terminated UTF-8 and keeps them.
///
/// - Returns: 0 on success; 1 with `*error` set on failure: `run_finished`, or `invalid_argument` for a NULL
///   handle or text, bad UTF-8, or an unknown level.
@_cdecl("quill_log_message")
public func quillLogMessage(
    _ run: UnsafeMutableRawPointer?,
    _ text: UnsafePointer<CChar>?,
    _ level: UnsafePointer<CChar>?,
    _ error: ErrorOut
) -> Int32 {
    answer(error) {
        let text = try string(text, "text")
        var logLevel = LogLevel.info
        if let name = try optionalString(level, "level") {
            guard let parsed = LogLevel(rawValue: name.lowercased()) else {
                throw QuillError(
                    .invalidArgument,
                    "level '\(name)' is unknown; use one of \(LogLevel.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
            logLevel = parsed
        }
        try withRun(run) { try $0.logMessage(text, level: logLevel) }
    }
}

/// Copies a file or folder into the run's `artifacts/` folder and records it (`Run.logArtifact`).
///
/// The caller passes the source `path` (relative to the working directory, or absolute) and an optional
/// `name` (NULL: the folder inside `artifacts/` follows a relative path's folders), and keeps both. The copy
/// is made before the call returns. `*out_record_json` (when not NULL) receives
/// `{"name","path","file","size","sha256","timestamp"}` (`path` inside `artifacts/`, `file` the stored
/// copy's absolute path, `sha256` null for a folder), which the caller frees with `quill_free`.
///
/// - Returns: 0 on success; 1 with `*error` set on failure: `not_found` for a missing source,
///   `invalid_argument` for a name leaving `artifacts/`, `run_finished`, or `io`.
@_cdecl("quill_save_artifact")
public func quillSaveArtifact(
    _ run: UnsafeMutableRawPointer?,
    _ path: UnsafePointer<CChar>?,
    _ name: UnsafePointer<CChar>?,
    _ outRecordJSON: StringOut,
    _ error: ErrorOut
) -> Int32 {
    answer(error) {
        let path = try string(path, "path")
        guard !path.isEmpty else {
            throw QuillError(.invalidArgument, "path is empty; pass the file or folder to store")
        }
        let name = try optionalString(name, "name").flatMap { $0.isEmpty ? nil : $0 }
        let (record, file) = try withRun(run) { run in
            let record = try run.logArtifact(path, name: name)
            return (record, run.directory.artifactsPath + "/" + record.path)
        }
        guard let outRecordJSON else { return }
        let digest = try? SHA256.hex(ofFileAt: file)
        let object: JSONValue = [
            "name": .string(record.name),
            "path": .string(record.path),
            "file": .string(file),
            "size": .int(Int(record.size)),
            "sha256": digest.map { .string($0.sha256) } ?? .null,
            "timestamp": .string(Timestamp.string(record.timestamp)),
        ]
        try deliver(object, to: outRecordJSON)
    }
}
