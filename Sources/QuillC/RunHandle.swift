import Quill
import QuillCore

// A run handle is the run itself, retained once for the caller: `quill_run_start` and `quill_run_resume`
// pass it out with `Unmanaged.passRetained`, `quill_run_release` releases it. Calls borrow it without
// touching the reference count. The run stays valid after `quill_finish` (its calls answer `run_finished`)
// until it is released. The SDK keeps every run of the process (`Quill.runsInThisProcess`), so a call through a
// released handle still reaches a live run (and answers `run_finished` once it is finished); the ABI does not
// promise it, and a caller must not rely on it.

/// The error for a NULL run handle.
let nullRunMessage = "run is NULL; pass the handle quill_run_start or quill_run_resume returned"

/// Passes a run to the caller, retained.
func retainedHandle(_ run: Run) -> UnsafeMutableRawPointer {
    Unmanaged.passRetained(run).toOpaque()
}

/// Calls `body` with the run a handle holds.
///
/// - Throws: ``QuillError`` with code `invalid_argument` for a NULL handle; what `body` throws.
@inline(__always)
func withRun<T>(_ handle: UnsafeMutableRawPointer?, _ body: (Run) throws -> T) throws -> T {
    guard let handle else {
        throw QuillError(.invalidArgument, nullRunMessage)
    }
    return try Unmanaged<Run>.fromOpaque(handle)._withUnsafeGuaranteedRef(body)
}

/// Releases a run handle once.
///
/// The caller passes a handle from `quill_run_start` or `quill_run_resume` and must not use it afterwards;
/// NULL does nothing. Releasing does not finish the run: an unfinished run is still closed as `crashed` when
/// the process exits.
///
/// - Parameter run: The handle, or NULL.
@_cdecl("quill_run_release")
public func quillRunRelease(_ run: UnsafeMutableRawPointer?) {
    guard let run else { return }
    Unmanaged<Run>.fromOpaque(run).release()
}
