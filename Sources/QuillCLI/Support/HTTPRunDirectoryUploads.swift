import Dispatch
import Foundation
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
    /// What the files to upload looked like at the last successful upload (none at first): an upload with
    /// nothing new is skipped without a request, so a job that writes nothing costs no round trip.
    private let uploaded = Mutex<[String: Int64]>([:])

    init(directory: RunDirectory, indexBase: Int, serverURL: @escaping @Sendable () -> String?, apiKey: String?) {
        self.directory = directory
        self.indexBase = indexBase
        self.serverURL = serverURL
        self.apiKey = apiKey
    }

    func upload() async throws {
        let seen = Self.fingerprint(directory)
        if seen == uploaded.withLock({ $0 }) { return }
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
        uploaded.withLock { $0 = seen }
    }

    /// The size and modification time of each file the upload reads (`metrics.jsonl`, `events.jsonl`,
    /// `system.jsonl`, files under `artifacts/`), by path; files that are missing or empty are left out.
    static func fingerprint(_ directory: RunDirectory) -> [String: Int64] {
        var seen: [String: Int64] = [:]
        func note(_ path: String) {
            var info = stat()
            guard stat(path, &info) == 0, info.st_size > 0 else { return }
            let modified = Platform.modificationTime(of: info)
            seen[path + ":size"] = Int64(info.st_size)
            seen[path + ":mtime"] = Int64(modified.tv_sec) * 1_000_000_000 + Int64(modified.tv_nsec)
        }
        note(directory.metricsPath)
        note(directory.eventsPath)
        note(directory.systemPath)
        for (path, _) in directory.listArtifacts() { note(directory.artifactsPath + "/" + path) }
        return seen
    }
}
