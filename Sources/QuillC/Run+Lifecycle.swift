import Quill
import QuillCore

/// Waits until everything logged before the call is written to the run directory (`Run.flush`).
///
/// The caller passes `durable` non-zero to also `fsync` `metrics.jsonl`, so the rows survive power loss.
/// After `quill_finish` there is nothing left to write and the call succeeds.
///
/// - Returns: 0 on success; 1 with `*error` set on failure: `writer_failed` when the writer could not
///   write, `invalid_argument` for a NULL handle.
@_cdecl("quill_flush")
public func quillFlush(_ run: UnsafeMutableRawPointer?, _ durable: Int32, _ error: ErrorOut) -> Int32 {
    answer(error) {
        try withRun(run) { try $0.flush(durable: durable != 0) }
    }
}

/// Ends the run: writes everything still queued and records the status, end time and error
/// (`Run.finish`).
///
/// The caller passes `status` (`completed`, `failed`, `killed` or `crashed`; NULL is `completed`) and an
/// optional `error_text` (why the run failed), both NUL-terminated UTF-8. The handle stays valid until
/// `quill_run_release`: logging through it afterwards answers `run_finished`; finishing again does nothing
/// and succeeds.
///
/// - Returns: 0 on success; 1 with `*error` set on failure: `invalid_argument` for a NULL handle, bad
///   UTF-8 or an unknown status, `writer_failed` when the last rows could not be written.
@_cdecl("quill_finish")
public func quillFinish(
    _ run: UnsafeMutableRawPointer?,
    _ status: UnsafePointer<CChar>?,
    _ errorText: UnsafePointer<CChar>?,
    _ error: ErrorOut
) -> Int32 {
    answer(error) {
        var final = RunStatus.completed
        if let name = try optionalString(status, "status") {
            let allowed: [RunStatus] = [.completed, .failed, .killed, .crashed]
            guard let parsed = RunStatus(rawValue: name.lowercased()), allowed.contains(parsed) else {
                throw QuillError(
                    .invalidArgument,
                    "status '\(name)' cannot end a run; use one of \(allowed.map(\.rawValue).joined(separator: ", "))"
                )
            }
            final = parsed
        }
        let text = try optionalString(errorText, "error_text")
        try withRun(run) { try $0.finish(final, error: text) }
    }
}

/// A run's snapshot as JSON.
func snapshotJSON(_ snapshot: RunSnapshot) -> JSONValue {
    [
        "id": .string(snapshot.id.rawValue),
        "name": .string(snapshot.name),
        "project": .string(snapshot.project),
        "kind": .string(snapshot.kind.label),
        "status": .string(snapshot.status.rawValue),
        "started_at": .string(Timestamp.string(snapshot.startedAt)),
        "finished_at": snapshot.finishedAt.map { .string(Timestamp.string($0)) } ?? .null,
        "rows_written": .int(snapshot.rowsWritten),
        "rows_pending": .int(snapshot.rowsPending),
        "last_values": .object(snapshot.lastValues.mapValues(JSONValue.double)),
        "params": .object(snapshot.params),
        "tags": .object(snapshot.tags.mapValues(JSONValue.string)),
        "summary": .object(snapshot.summary),
        "dir": .string(snapshot.directory),
    ]
}

/// What the run is and what it has logged so far (`Run.snapshot`), also after `quill_finish`.
///
/// `*out_json` receives `{"id","name","project","kind","status","started_at","finished_at","rows_written",
/// "rows_pending","last_values","params","tags","summary","dir"}` (non-finite values as the strings
/// `"NaN"`, `"Infinity"`, `"-Infinity"`), which the caller frees with `quill_free`.
///
/// - Returns: 0 on success; 1 with `*error` set on failure: `invalid_argument` for a NULL handle or
///   `out_json`.
@_cdecl("quill_run_snapshot")
public func quillRunSnapshot(_ run: UnsafeMutableRawPointer?, _ outJSON: StringOut, _ error: ErrorOut) -> Int32 {
    answer(error) {
        let out = try required(outJSON, "out_json")
        let snapshot = try withRun(run) { $0.snapshot() }
        try deliver(snapshotJSON(snapshot), to: out)
    }
}
