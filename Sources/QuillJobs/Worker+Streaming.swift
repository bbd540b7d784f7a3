import Foundation
import Logging
package import QuillCore
package import QuillStore

/// Uploads jobs' run directories to the server while they run: the seam through which a ``Worker`` streams
/// what a job writes into `QUILL_RUN_DIR` (`metrics.jsonl`, the events the SDK writes, files under
/// `artifacts/`). The `quill` CLI provides it with the SDK's run uploader (`RunUploader`, the one uploader
/// of run directories, used by `quill sync` too), over HTTP, for `quill worker` and for the workers
/// `quill serve` embeds alike; the queue logic itself knows no HTTP.
///
/// The job's output is not part of it: the worker sends output lines through its ``JobChannel``, fenced by
/// the attempt, so each line travels one path.
package protocol RunDirectoryUploads: Sendable {
    /// An upload of one attempt's run directory, called once a second while the job runs and once at its end.
    func session(for directory: RunDirectory, claim: JobClaim) -> any RunDirectoryUpload
}

/// The upload of one attempt's run directory; it keeps its own offsets (in the directory's `sync.json`).
package protocol RunDirectoryUpload: Sendable {
    /// Sends what is new since the last successful call; throws when the server could not take it (the rest
    /// is sent by the next call, without duplicates).
    func upload() async throws
}

extension Worker {
    /// Uploads the run directory every ``WorkerConfiguration/uploadInterval`` until the command ended, unless
    /// the attempt was lost to another worker (then nothing more is sent, so a lost attempt never writes over
    /// the new one).
    func stream(_ upload: any RunDirectoryUpload, monitor: AttemptMonitor) async {
        while await monitor.sleep(configuration.uploadInterval) {
            if monitor.abandoned { return }
            do {
                try await upload.upload()
            } catch {
                logger.debug("streaming a job's run directory failed; retrying", metadata: ["error": "\(error)"])
            }
        }
    }

    /// The last upload, after the command ended: tried three times, half a second apart, unless the attempt
    /// was lost. What it could not send stays in the run directory (`quill sync DIR` sends it later).
    func finalUpload(_ upload: any RunDirectoryUpload, monitor: AttemptMonitor, metadata: Logger.Metadata) async {
        for attempt in 1...3 {
            if monitor.abandoned { return }
            do {
                try await upload.upload()
                return
            } catch {
                if attempt == 3 {
                    logger.warning(
                        "the job's run directory is not fully uploaded; it stays on the worker",
                        metadata: metadata.merging(["error": "\(error)"]) { $1 }
                    )
                    return
                }
                await AttemptMonitor.sleep(.milliseconds(500))
            }
        }
    }
}
