import Foundation
import QuillClient
import QuillCore

extension ServerOptions {
    /// The server the command reads from: `--server`, else `QUILL_TRACKING_URI`; `nil` with `--local` or
    /// when neither is set.
    var serverURL: String? {
        guard !local else { return nil }
        return server ?? ProcessInfo.processInfo.environment["QUILL_TRACKING_URI"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Where the command reads runs: the server (with the API key `QUILL_API_KEY` or `quill login` gave),
    /// else the run directories of the Quill home.
    func reader(_ home: HomeOptions) -> any RunReader {
        if let url = serverURL { return RemoteRunReader(server: url) }
        return LocalRunReader(home: home.quillHome)
    }
}
