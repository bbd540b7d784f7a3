import QuillAPI
package import QuillCore

extension BlockingHTTPClient {
    /// Sends a request and returns the JSON body of a 2xx answer (`null` when it has none); any other answer
    /// throws the server's error.
    ///
    /// - Throws: ``QuillError`` with the server's error code (``QuillError/Code/notFound``,
    ///   ``QuillError/Code/unauthorized``, …) and its message, prefixed with the server's URL; code
    ///   ``QuillError/Code/io`` when the server cannot be reached.
    @discardableResult
    package func call(_ method: String, _ path: String, json: JSONValue? = nil) throws -> JSONValue {
        let response = try send(method, path, json: json)
        guard (200..<300).contains(response.status) else { throw failure(response) }
        return response.body ?? .null
    }

    /// Sends a request and decodes a 2xx answer into a QuillAPI wire type, returning it with the JSON the
    /// server sent (what `--json` prints as it is).
    ///
    /// - Throws: the server's error for any other answer (``call(_:_:json:)``), or ``QuillError`` with code
    ///   ``QuillError/Code/malformed`` when the answer is not the expected shape.
    package func call<Value: Decodable>(
        _ type: Value.Type,
        _ method: String,
        _ path: String,
        json body: JSONValue? = nil
    ) throws -> (value: Value, json: JSONValue) {
        let json = try call(method, path, json: body)
        return (try decode(type, json, method, path), json)
    }

    /// The error a non-2xx answer stands for: the server's code and message (`{"error": {"code", "message"}}`),
    /// else one that follows from the status.
    package func failure(_ response: Response) -> QuillError {
        let error = response.body.flatMap { try? APIDecoder().decode(APIErrorBody.self, from: $0) }?.error
        let message = error?.message ?? "HTTP \(response.status)"
        let code: QuillError.Code =
            switch error?.code {
            case "not_found": .notFound
            case "unauthorized": .unauthorized
            case "forbidden": .forbidden
            case "conflict": .conflict
            case "invalid_argument": .invalidArgument
            case "unavailable": .unavailable
            case nil:
                switch response.status {
                case 400: .invalidArgument
                case 401: .unauthorized
                case 403: .forbidden
                case 404: .notFound
                case 409: .conflict
                case 503: .unavailable
                default: .io
                }
            default: .io
            }
        return QuillError(code, "\(baseURL): \(message)")
    }
}
