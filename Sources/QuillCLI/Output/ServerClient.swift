import ArgumentParser
import Foundation
import Quill
import QuillClient
import QuillCore

/// A connection to a Quill server for the account commands (`login`, `keys`, `orgs`), with the caller's
/// API key.
struct ServerClient {
    let client: BlockingHTTPClient

    /// The server named by `--server`, else `QUILL_TRACKING_URI`; the key is `apiKey`, else
    /// `QUILL_API_KEY`, else the one `quill login` saved.
    init(server: String?, apiKey: String? = nil) throws {
        let environment = ProcessInfo.processInfo.environment
        guard let url = server ?? environment["QUILL_TRACKING_URI"].flatMap({ $0.isEmpty ? nil : $0 }) else {
            throw QuillError(.invalidArgument, "no server: pass --server http://HOST:PORT or set QUILL_TRACKING_URI")
        }
        let base = Credentials.normalize(url)
        client = BlockingHTTPClient(
            baseURL: base,
            apiKey: apiKey ?? Credentials.apiKey(server: base, environment: environment)
        )
    }

    var baseURL: String { client.baseURL }

    /// The SDK's client over this connection: the job commands call the server through it.
    var jobs: Quill.Client { Quill.Client(http: client) }

    /// Sends a request and returns the JSON body of a 2xx answer; any other answer throws the server's
    /// error with its code.
    @discardableResult
    func call(_ method: String, _ path: String, json: JSONValue? = nil) throws -> JSONValue {
        try client.call(method, path, json: json)
    }

    /// Sends a request and decodes a 2xx answer into a wire type, with the JSON the server sent.
    func call<Value: Decodable>(
        _ type: Value.Type,
        _ method: String,
        _ path: String,
        json: JSONValue? = nil
    ) throws -> (value: Value, json: JSONValue) {
        try client.call(type, method, path, json: json)
    }
}

/// `--server` for the account commands.
struct AccountServerOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The server (default: $QUILL_TRACKING_URI).", valueName: "url"))
    var server: String?

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        try ServerURL.check(server: server)
    }
}
