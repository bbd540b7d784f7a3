package import Foundation
import QuillAPI
package import QuillCore

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The same requests as the blocking calls, for async callers (the SDK's ``Quill/Client``, the CLI's job
/// commands): they suspend instead of blocking a thread of the cooperative pool, and a cancelled task
/// cancels its request. Paths, headers, the API key and the error mapping are the blocking calls' own.
extension BlockingHTTPClient {
    /// Sends a request and returns the JSON body of a 2xx answer (`null` when it has none); any other answer
    /// throws the server's error (as ``call(_:_:json:)`` does).
    @discardableResult
    package func request(_ method: String, _ path: String, json: JSONValue? = nil) async throws -> JSONValue {
        let response = try await exchange(method, path, json: json)
        guard (200..<300).contains(response.status) else { throw failure(response) }
        return response.body ?? .null
    }

    /// Sends a request and decodes a 2xx answer into a QuillAPI wire type, returning it with the JSON the
    /// server sent (as ``call(_:_:_:json:)`` does).
    package func request<Value: Decodable>(
        _ type: Value.Type,
        _ method: String,
        _ path: String,
        json body: JSONValue? = nil
    ) async throws -> (value: Value, json: JSONValue) {
        let json = try await request(method, path, json: body)
        return (try decode(type, json, method, path), json)
    }

    /// Sends a request and returns the status and JSON body; throws only when the server cannot be reached.
    package func exchange(_ method: String, _ path: String, json: JSONValue?) async throws -> Response {
        var request = try makeRequest(method, path)
        if let json {
            request.httpBody = Data(JSONWriter.bytes(json))
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await reaching(method, path) { try await URLSession.shared.data(for: request) }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        return Response(status: status, body: data.isEmpty ? nil : try? JSONParser.parse(Array(data)))
    }

    /// The bytes of a 2xx answer (an artifact's content); any other answer throws the server's error.
    package func bytes(_ path: String) async throws -> Data {
        let request = try makeRequest("GET", path)
        let (data, response) = try await reaching("GET", path) { try await URLSession.shared.data(for: request) }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            throw failure(Response(status: status, body: data.isEmpty ? nil : try? JSONParser.parse(Array(data))))
        }
        return data
    }

    /// Runs a URLSession call, turning a failure to reach the server into one line that says what to do;
    /// a cancelled task's error stays `CancellationError`.
    func reaching<T>(_ method: String, _ path: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as QuillError {
            throw error
        } catch {
            if Task.isCancelled { throw CancellationError() }
            throw QuillError(
                .io,
                "cannot reach the server at \(baseURL) (\(Self.reason(error))); start it with `quill serve` or check the server URL"
            )
        }
    }

    /// A 2xx answer's JSON as a wire type.
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/malformed`` when the answer is not that shape.
    package func decode<Value: Decodable>(
        _ type: Value.Type,
        _ json: JSONValue,
        _ method: String,
        _ path: String
    ) throws -> Value {
        do {
            return try APIDecoder().decode(type, from: json)
        } catch let error as QuillError {
            throw QuillError(
                .malformed,
                "the server at \(baseURL) answered \(method) \(path) with an unexpected body (\(error.message)); is it a Quill server of the same version?"
            )
        }
    }
}
