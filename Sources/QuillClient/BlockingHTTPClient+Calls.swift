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
            case nil:
                switch response.status {
                case 400: .invalidArgument
                case 401: .unauthorized
                case 403: .forbidden
                case 404: .notFound
                case 409: .conflict
                default: .io
                }
            default: .io
            }
        return QuillError(code, "\(baseURL): \(message)")
    }
}
