import Dispatch
import QuillClient
import QuillCore
import QuillJobs
import QuillStore
import Synchronization

/// A worker's uploads of its jobs' run directories, through the SDK's ``QuillClient/RunUploader`` (the one
/// uploader of run directories: offsets in `sync.json`, rows with their `_idx`, artifacts by hash), over HTTP.
/// `quill worker --server URL` uploads with its API key; the workers `quill serve` embeds upload over loopback
/// with the server's in-memory credential, through the same path.
///
/// Each attempt's rows go with the attempt's index base (``QuillJobs/JobRunDirectory/indexBase(attempt:)``);
/// `output.log` is left out (the worker sends output lines through its job channel), and files under
/// `artifacts/` are sent whether or not an event names them.
struct HTTPRunDirectoryUploads: RunDirectoryUploads {
    /// The server, once known (an embedded worker learns its server's port when the server listens).
    let serverURL: @Sendable () -> String?
    /// The key the uploads send.
    let apiKey: String?

    func session(for directory: RunDirectory, claim: JobClaim) -> any RunDirectoryUpload {
        HTTPRunDirectoryUpload(
            directory: directory,
            indexBase: JobRunDirectory.indexBase(attempt: claim.attempt.number),
            serverURL: serverURL,
            apiKey: apiKey
        )
    }
}

/// The upload of one attempt's run directory: one ``QuillClient/RunUploader`` (made when the server's address
/// is known), run on a dispatch thread because its HTTP client blocks.
final class HTTPRunDirectoryUpload: RunDirectoryUpload {
    private let directory: RunDirectory
    private let indexBase: Int
    private let serverURL: @Sendable () -> String?
    private let apiKey: String?
    private let uploader = Mutex<RunUploader?>(nil)

    init(directory: RunDirectory, indexBase: Int, serverURL: @escaping @Sendable () -> String?, apiKey: String?) {
        self.directory = directory
        self.indexBase = indexBase
        self.serverURL = serverURL
        self.apiKey = apiKey
    }

    func upload() async throws {
        guard let url = serverURL() else {
            throw QuillError(.io, "the server's address is not known yet; the run directory is uploaded later")
        }
        let uploader = self.uploader.withLock { current in
            if let current { return current }
            var made = RunUploader(directory: directory, serverURL: url, apiKey: apiKey, timeout: 10)
            made.indexBase = indexBase
            made.uploadsLog = false
            made.uploadsUnloggedArtifacts = true
            current = made
            return made
        }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            DispatchQueue.global().async {
                continuation.resume(with: Result { _ = try uploader.syncOnce() })
            }
        }
    }
}
