import Foundation
import Quill
import QuillCore
import Synchronization

// A run handle is the run itself, retained once for the caller: `quill_run_start` and `quill_run_resume`
// pass it out with `Unmanaged.passRetained`, `quill_run_release` releases it. Calls borrow it without
// touching the reference count. The run stays valid after `quill_finish` (its calls answer `run_finished`)
// until it is released. The SDK keeps every run of the process (`Quill.runsInThisProcess`), so a call through a
// released handle still reaches a live run (and answers `run_finished` once it is finished); the ABI does not
// promise it, and a caller must not rely on it.

/// The error for a NULL run handle.
let nullRunMessage = "run is NULL; pass the handle quill_run_start or quill_run_resume returned"

/// This process's id, kept right in a forked child by a `pthread_atfork` handler, so that each call can tell
/// a run of this process from one inherited across `fork` without a system call.
let currentProcess = Atomic<Int32>(getpid())

/// Installs the fork handler once, before the first run is handed out.
private let forkHandlerInstalled: Bool = {
    pthread_atfork(nil, nil) { currentProcess.store(getpid(), ordering: .relaxed) }
    return true
}()

/// Passes a run to the caller, retained.
func retainedHandle(_ run: Run) -> UnsafeMutableRawPointer {
    _ = forkHandlerInstalled
    return Unmanaged.passRetained(run).toOpaque()
}

/// Calls `body` with the run a handle holds.
///
/// - Throws: ``QuillError`` with code `invalid_argument` for a NULL handle, `conflict` in a child forked
///   after the run started (the run's writer thread stayed in the parent: logging would be lost, flushing
///   and finishing would wait forever); what `body` throws.
@inline(__always)
func withRun<T>(_ handle: UnsafeMutableRawPointer?, _ body: (Run) throws -> T) throws -> T {
    guard let handle else {
        throw QuillError(.invalidArgument, nullRunMessage)
    }
    return try Unmanaged<Run>.fromOpaque(handle)._withUnsafeGuaranteedRef { run in
        guard run.processID == currentProcess.load(ordering: .relaxed) else { throw forkedError(run) }
        return try body(run)
    }
}

/// The error for a run used in a child forked from the process that opened it.
private func forkedError(_ run: Run) -> QuillError {
    QuillError(
        .conflict,
        "run \(run.id) belongs to process \(run.processID), which this process was forked from; its writer did not come along, so start a run in this process instead (or use the spawn start method)"
    )
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
