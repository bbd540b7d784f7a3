import Foundation
import QuillAPI
import QuillClient
import QuillCore

extension Run {
    /// Records a file that lives on another device (a machine running `quill worker`) as an artifact of this
    /// run, and by default has that device send it to the server.
    ///
    /// The call sends one small request to the run's server (`QUILL_TRACKING_URI`, or the run's tracking URI)
    /// and returns: the device's worker sends the file later, as the artifact `remote_<device>__<name>`. The
    /// worker sends only files inside the folders it shares (`quill worker --share DIR`); a request it refuses,
    /// or for a file that is missing, ends `failed` with the reason, listed by `quill artifacts RUN`. A request
    /// for a device that is offline waits for its worker.
    ///
    /// ```swift
    /// try run.logArtifact(remote: "/data/ckpt/best.pt", device: "gpu-box-1")
    /// try run.logArtifact(remote: "/scratch/huge.h5", device: "gpu-box-1", transfer: false)  // only record it
    /// ```
    ///
    /// - Parameters:
    ///   - path: The file's absolute path on the device.
    ///   - device: The device's name, as `quill devices` lists it.
    ///   - name: The artifact's name (the file's name when `nil`).
    ///   - transfer: Whether the device sends the bytes; `false` records only where the file is.
    /// - Returns: The request's id on the server.
    /// - Throws: ``QuillError`` with ``QuillError/Code/invalidArgument`` when the run has no server, or a
    ///   relative path; the server's error for an unknown device (``QuillError/Code/notFound``, naming the
    ///   known ones); ``QuillError/Code/io`` when the server cannot be reached.
    @discardableResult
    public func logArtifact(
        remote path: String,
        device: String,
        name: String? = nil,
        transfer: Bool = true
    ) throws
        -> Int64
    {
        let environment = ProcessInfo.processInfo.environment
        guard
            let server = streamer?.serverURL
                ?? environment["QUILL_TRACKING_URI"].flatMap({ $0.isEmpty ? nil : $0 })
        else {
            throw QuillError(
                .invalidArgument,
                "logArtifact(remote:) needs a Quill server: set QUILL_TRACKING_URI (or RunOptions.trackingURI) to the server that knows device '\(device)'"
            )
        }
        guard path.hasPrefix("/") else {
            throw QuillError(.invalidArgument, "the remote path must be absolute on device '\(device)', not '\(path)'")
        }
        let key =
            streamer?.apiKey ?? environment["QUILL_API_KEY"].flatMap { $0.isEmpty ? nil : $0 }
            ?? Credentials.apiKey(server: server)
        let client = BlockingHTTPClient(baseURL: server, apiKey: key, timeout: 10)
        let body = try APIEncoder().encode(
            APIRemoteArtifactCreate(device: device, path: path, name: name, transfer: transfer)
        )
        let target = APIPath.runRemoteArtifacts(id.rawValue)
        // The run's streamer makes the run on the server in its first pass: a request made right after the run
        // started may come first, so a missing run is asked again for a few seconds.
        let deadline = Date().addingTimeInterval(streamer == nil ? 0 : 5)
        while true {
            let response = try client.send("POST", target, json: body)
            if response.status == 201, let id = response.body?["id"]?.intValue {
                return Int64(id)
            }
            let failure = client.failure(response)
            let runMissing = failure.code == .notFound && failure.message.contains("run '")
            if runMissing, Date() < deadline {
                Thread.sleep(forTimeInterval: 0.2)
                continue
            }
            throw failure
        }
    }
}
