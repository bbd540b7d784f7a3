import Foundation
package import QuillCore

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A small JSON-over-HTTP client for the uploader's own thread: each call blocks that thread (never the
/// caller's training loop) until the response arrives or the timeout passes.
package struct BlockingHTTPClient: Sendable {
    /// The server's base URL, e.g. `http://127.0.0.1:8080`.
    package let baseURL: String
    /// Sent as `Authorization: Bearer …` when set.
    package let apiKey: String?
    /// Seconds before a request fails.
    var timeout: Double = 30
    /// The whole `Authorization` header, sent instead of the API key's Bearer one when set (another server's
    /// credentials: `quill import mlflow` sends MLflow's Basic or Bearer credentials).
    package var authorization: String?

    /// A client for a server.
    package init(baseURL: String, apiKey: String?, timeout: Double = 30) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.apiKey = apiKey
        self.timeout = timeout
    }

    package struct Response {
        package var status: Int
        package var body: JSONValue?
    }

    /// Sends a request; throws when the server cannot be reached.
    package func send(_ method: String, _ path: String, json: JSONValue? = nil) throws -> Response {
        try send(method, path, body: json.map(JSONWriter.bytes))
    }

    /// Sends a request with a body of JSON bytes as they are; throws when the server cannot be reached.
    package func send(_ method: String, _ path: String, body: [UInt8]?) throws -> Response {
        var request = try makeRequest(method, path)
        if let body {
            request.httpBody = Data(body)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let box = ResultBox()
        let done = DispatchSemaphore(value: 0)
        let task = URLSession.shared.dataTask(with: request, completionHandler: Self.collect(into: box, done))
        task.resume()
        if done.wait(timeout: .now() + timeout + 5) == .timedOut {
            task.cancel()
            throw QuillError(.io, "the server at \(baseURL) did not answer \(method) \(path) within \(Int(timeout)) s")
        }
        return try result(box, method, path)
    }
}

/// Hands a result from URLSession's callback thread to the waiting thread.
final class ResultBox: @unchecked Sendable {
    // @unchecked Sendable: `value` is only touched under `lock`.
    private let lock = NSLock()
    private var value: Result<BlockingHTTPClient.Response, any Error>?

    func set(_ result: Result<BlockingHTTPClient.Response, any Error>) {
        lock.lock()
        value = result
        lock.unlock()
    }

    func get() -> Result<BlockingHTTPClient.Response, any Error>? {
        lock.lock()
        defer { lock.unlock() }
        return value
    }
}
