import Foundation
public import HTTPTypes
public import Hummingbird
public import QuillCore

/// The one place error codes become HTTP statuses. The body is always `{"error": {"code", "message"}}`;
/// errors that are not ``QuillError`` become a bare 500 whose text never reaches the client.
extension QuillError: HTTPResponseError {
    /// The HTTP status for the error's code.
    public var status: HTTPResponse.Status {
        switch code {
        case .notFound: .notFound
        case .invalidArgument, .malformed: .badRequest
        case .ambiguous, .conflict, .runFinished: .conflict
        case .payloadTooLarge, .artifactTooLarge: .contentTooLarge
        case .unauthorized: .unauthorized
        case .forbidden: .forbidden
        case .quotaExceeded: HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage")
        case .unknownReference: .unprocessableContent
        case .unavailable: .serviceUnavailable
        default: .internalServerError
        }
    }

    /// The error as a JSON response: the message only (an underlying cause, such as a database's own text, is
    /// for the server log); internal errors keep even their message out of the response.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let message = status == .internalServerError ? "internal error; the server log has the details" : self.message
        return JSONResponse.make(
            ["error": ["code": .string(code.description), "message": .string(message)]],
            status: status
        )
    }
}

/// JSON responses.
enum JSONResponse {
    static func make(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        var bytes = JSONWriter.bytes(value)
        bytes.append(UInt8(ascii: "\n"))
        return Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }
}
