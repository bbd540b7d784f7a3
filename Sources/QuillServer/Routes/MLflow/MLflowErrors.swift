import Foundation
import HTTPTypes
import Hummingbird
import Logging
import QuillAPI
import QuillCore

/// An error answered as MLflow's server answers it: `{"error_code", "message"}` with the code's status.
struct MLflowHTTPError: Error {
    let code: MLflowErrorCode
    let message: String

    init(_ code: MLflowErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }

    /// A required field missing from the request, in MLflow's words (its server's `_validate_param` text).
    static func missing(_ field: String) -> MLflowHTTPError {
        MLflowHTTPError(
            .invalidParameterValue,
            "Missing value for required parameter '\(field)'. See the API docs for more information about request parameters."
        )
    }
}

/// Renders every error of the MLflow routes in MLflow's shape, so MLflow's client reads them.
///
/// MLflow's client retries 429 and every 5xx for minutes, so only a real server failure is a 5xx: a store's
/// `not_found` is `RESOURCE_DOES_NOT_EXIST` (404), `conflict` `RESOURCE_ALREADY_EXISTS` (400), a bad value
/// or body `INVALID_PARAMETER_VALUE` (400), refused access `UNAUTHENTICATED` (401) or `PERMISSION_DENIED`
/// (403), a busy database `TEMPORARILY_UNAVAILABLE` (503, worth the retry), anything else `INTERNAL_ERROR`
/// (500, logged; the client never sees database text).
struct MLflowErrorMiddleware: RouterMiddleware {
    func handle(
        _ request: Request,
        context: QuillRequestContext,
        next: (Request, QuillRequestContext) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as MLflowHTTPError {
            return try Self.response(error.code, error.message)
        } catch let error as QuillError {
            return try Self.response(Self.code(for: error, context), error.message)
        } catch let error as HTTPError {
            let code: MLflowErrorCode
            switch error.status.code {
            case 404: code = .endpointNotFound
            case 401: code = .unauthenticated
            case 403: code = .permissionDenied
            case 500...: code = .internalError
            default: code = .badRequest
            }
            return try Self.response(code, error.body ?? error.status.reasonPhrase)
        } catch is DecodingError {
            return try Self.response(.invalidParameterValue, "the request body is not valid for this endpoint")
        } catch {
            context.logger.error("mlflow route failed", metadata: ["error": "\(String(reflecting: error))"])
            return try Self.response(.internalError, "Internal Server Error")
        }
    }

    /// The MLflow code a Quill error is answered with.
    static func code(for error: QuillError, _ context: QuillRequestContext) -> MLflowErrorCode {
        switch error.code {
        case .notFound, .unknownReference: return .resourceDoesNotExist
        case .conflict: return .resourceAlreadyExists
        case .invalidArgument, .malformed, .payloadTooLarge, .artifactTooLarge, .quotaExceeded, .ambiguous:
            return .invalidParameterValue
        case .runFinished: return .invalidState
        case .unauthorized: return .unauthenticated
        case .forbidden: return .permissionDenied
        case .unavailable: return .temporarilyUnavailable
        default:
            context.logger.error("mlflow route failed", metadata: ["error": "\(String(reflecting: error))"])
            return .internalError
        }
    }

    static func response(_ code: MLflowErrorCode, _ message: String) throws -> Response {
        let status = HTTPResponse.Status(code: code.status)
        let shown = code == .internalError ? "Internal Server Error" : message
        return try JSONResponse.make(MLflowErrorBody(code, shown), status: status)
    }
}
