import Foundation
import QuillCore

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

extension BlockingHTTPClient {
    /// A completion handler that stores the status and JSON body (or the error) in `box`, then signals.
    static func collect(
        into box: ResultBox,
        _ done: DispatchSemaphore
    ) -> @Sendable (Data?, URLResponse?, (any Error)?) -> Void {
        { data, response, error in
            if let error {
                box.set(.failure(error))
            } else {
                let status = (response as? HTTPURLResponse)?.statusCode ?? 0
                let body = data.flatMap { $0.isEmpty ? nil : try? JSONParser.parse(Array($0)) }
                box.set(.success(Response(status: status, body: body)))
            }
            done.signal()
        }
    }

    /// Sends a file as the raw request body, streamed from disk by URLSession (never read whole), and
    /// returns the status and JSON body of the response.
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/io`` when the server cannot be reached.
    package func upload(_ method: String, _ path: String, fromFile file: String) throws -> Response {
        var request = try makeRequest(method, path)
        request.setValue("application/octet-stream", forHTTPHeaderField: "Content-Type")
        let box = ResultBox()
        let done = DispatchSemaphore(value: 0)
        let task = URLSession.shared.uploadTask(
            with: request,
            fromFile: URL(fileURLWithPath: file),
            completionHandler: Self.collect(into: box, done)
        )
        task.resume()
        done.wait()
        return try result(box, method, path)
    }

    /// Downloads a response body into a file (streamed to disk by URLSession), replacing the file, when the
    /// status is 2xx; otherwise the file is left alone and the error body is returned.
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/io`` when the server cannot be reached or the
    ///   file cannot be written.
    package func download(_ path: String, to destination: String) throws -> Response {
        let request = try makeRequest("GET", path)
        let box = ResultBox()
        let done = DispatchSemaphore(value: 0)
        let task = URLSession.shared.downloadTask(with: request) { location, response, error in
            defer { done.signal() }
            if let error {
                box.set(.failure(error))
                return
            }
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            guard let location else {
                box.set(.success(Response(status: status, body: nil)))
                return
            }
            if (200..<300).contains(status) {
                do {
                    let target = URL(fileURLWithPath: destination)
                    if FileManager.default.fileExists(atPath: destination) {
                        try FileManager.default.removeItem(at: target)
                    }
                    try FileManager.default.moveItem(at: location, to: target)
                    box.set(.success(Response(status: status, body: nil)))
                } catch {
                    // Not the underlying error: it names URLSession's temporary file, not the destination.
                    box.set(
                        .failure(
                            QuillError(
                                .io,
                                "could not write '\(destination)'; check that its folder exists and is writable"
                            )
                        )
                    )
                }
            } else {
                let data = try? Data(contentsOf: location)
                let body = data.flatMap { $0.isEmpty ? nil : try? JSONParser.parse(Array($0)) }
                box.set(.success(Response(status: status, body: body)))
            }
        }
        task.resume()
        done.wait()
        return try result(box, "GET", path)
    }

    func makeRequest(_ method: String, _ path: String) throws -> URLRequest {
        try Self.checkServerURL(baseURL)
        guard let url = URL(string: baseURL + path), url.host != nil else {
            throw QuillError(
                .invalidArgument,
                "'\(baseURL)' is not a server URL; pass one like http://127.0.0.1:8080 (--server or QUILL_TRACKING_URI)"
            )
        }
        // The timeout is the longest wait for the next bytes, so large files are not cut off.
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = method
        if let apiKey { request.setValue("Bearer \(apiKey)", forHTTPHeaderField: "Authorization") }
        if let authorization { request.setValue(authorization, forHTTPHeaderField: "Authorization") }
        return request
    }

    func result(_ box: ResultBox, _ method: String, _ path: String) throws -> Response {
        switch box.get() {
        case .success(let response): return response
        case .failure(let error as QuillError): throw error
        case .failure(let error):
            // One line: the URL error's own description is a long dump of its user info.
            throw QuillError(
                .io,
                "cannot reach the server at \(baseURL) (\(Self.reason(error))); start it with `quill serve` or check --server"
            )
        case nil: throw QuillError(.io, "no response from \(baseURL) to \(method) \(path)")
        }
    }
}
