import Foundation
import HTTPTypes
import Hummingbird
import Logging
import QuillAPI
import QuillCore

/// An error answered as whirr's server answers it: `{"detail": "<sentence>"}` with a status.
struct WhirrHTTPError: Error {
    let status: HTTPResponse.Status
    let detail: String

    init(_ status: HTTPResponse.Status, _ detail: String) {
        self.status = status
        self.detail = detail
    }
}

/// A request that failed validation: answered 422 with FastAPI's list of problems.
struct WhirrValidationFailure: Error {
    let items: [WhirrValidationError.Item]

    init(_ items: [WhirrValidationError.Item]) {
        self.items = items
    }

    /// A member missing from the body.
    static func missing(_ field: String, body: JSONValue) -> WhirrValidationFailure {
        WhirrValidationFailure([
            .init(type: "missing", loc: ["body", .string(field)], msg: "Field required", input: body)
        ])
    }

    /// A whole number outside `range` (`lease_seconds`, `limit`).
    static func outOfRange(_ location: [JSONValue], _ value: Int, _ range: ClosedRange<Int>, input: JSONValue) -> Self {
        if value < range.lowerBound {
            return WhirrValidationFailure([
                .init(
                    type: "greater_than_equal",
                    loc: location,
                    msg: "Input should be greater than or equal to \(range.lowerBound)",
                    input: input,
                    ctx: ["ge": .int(range.lowerBound)]
                )
            ])
        }
        return WhirrValidationFailure([
            .init(
                type: "less_than_equal",
                loc: location,
                msg: "Input should be less than or equal to \(range.upperBound)",
                input: input,
                ctx: ["le": .int(range.upperBound)]
            )
        ])
    }

    /// A path or query value that is not a whole number.
    static func notAnInteger(_ location: [JSONValue], _ text: String) -> WhirrValidationFailure {
        WhirrValidationFailure([
            .init(
                type: "int_parsing",
                loc: location,
                msg: "Input should be a valid integer, unable to parse string as an integer",
                input: .string(text)
            )
        ])
    }
}

/// Renders every error of the `/whirr` routes in whirr's shapes, so whirr's client reads them: its own
/// errors as they are, a store's `not_found` as 404, refused access as 401 or 403, anything else as
/// 500 `Internal Server Error` (logged, never shown: the client sees no database text).
struct WhirrErrorMiddleware: RouterMiddleware {
    func handle(
        _ request: Request,
        context: QuillRequestContext,
        next: (Request, QuillRequestContext) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as WhirrHTTPError {
            return try JSONResponse.make(WhirrError(detail: error.detail), status: error.status)
        } catch let error as WhirrValidationFailure {
            return try JSONResponse.make(WhirrValidationError(detail: error.items), status: .unprocessableContent)
        } catch let error as QuillError {
            switch error.code {
            case .notFound: return try JSONResponse.make(WhirrError(detail: error.message), status: .notFound)
            case .unauthorized: return try JSONResponse.make(WhirrError(detail: error.message), status: .unauthorized)
            case .forbidden: return try JSONResponse.make(WhirrError(detail: error.message), status: .forbidden)
            case .payloadTooLarge:
                return try JSONResponse.make(WhirrError(detail: error.message), status: .contentTooLarge)
            default:
                context.logger.error("whirr route failed", metadata: ["error": "\(String(reflecting: error))"])
                return try JSONResponse.make(WhirrError(detail: "Internal Server Error"), status: .internalServerError)
            }
        } catch let error as HTTPError {
            return try JSONResponse.make(
                WhirrError(detail: error.status.reasonPhrase),
                status: error.status
            )
        } catch {
            context.logger.error("whirr route failed", metadata: ["error": "\(String(reflecting: error))"])
            return try JSONResponse.make(WhirrError(detail: "Internal Server Error"), status: .internalServerError)
        }
    }
}
