import Foundation
import QuillAPI
import QuillClient
import QuillCore

/// Checks, before a command sends work to a server, that the server answers and takes the caller's key,
/// so a dead server or a refused key is one line up front instead of one failure per run.
enum ServerCheck {
    /// Asks the server who the caller is.
    ///
    /// - Throws: ``QuillError`` when the server cannot be reached (``QuillError/Code/io``), refuses the key
    ///   or wants one (``QuillError/Code/unauthorized``); each message says what to do.
    static func requireAccess(_ client: BlockingHTTPClient) throws {
        let response = try client.send("GET", APIPath.whoami)
        let login = "run `quill login --server \(client.baseURL)` or set QUILL_API_KEY"
        switch response.status {
        case 401:
            // The server's own message repeats the advice; one line says it once.
            throw QuillError(.unauthorized, "the server at \(client.baseURL) refused the API key; \(login)")
        case 200 where response.body.flatMap { try? APIDecoder().decode(APIWhoAmI.self, from: $0) }?.mode == "anonymous":
            throw QuillError(
                .unauthorized,
                "the server at \(client.baseURL) needs an API key and none was sent; \(login)"
            )
        default:
            // Any other answer (a server without /whoami) is left to the requests themselves.
            return
        }
    }

    /// Checks that the server still answers at all (after a request failed).
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/io`` when it does not.
    static func requireReachable(_ client: BlockingHTTPClient) throws {
        _ = try client.send("GET", APIPath.health)
    }
}
