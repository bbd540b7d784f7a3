import Foundation
import HTTPTypes
import Hummingbird
import Logging
import QuillCore
import Synchronization

/// Counters the server exposes at `/metrics` in the Prometheus text format.
final class ServerMetrics: Sendable {
    private struct State {
        var requests: [String: Int] = [:]
        var inFlight = 0
        var pointsIngested = 0
    }

    private let state = Mutex(State())

    /// A request began: its headers are read and it is being handled (its body may still be arriving).
    func requestStarted() {
        state.withLock { $0.inFlight += 1 }
    }

    /// A request that began has ended, whichever way.
    func requestEnded() {
        state.withLock { $0.inFlight -= 1 }
    }

    /// A request was answered with `status`.
    func recordRequest(method: String, status: Int) {
        state.withLock { $0.requests["method=\"\(method)\",status=\"\(status)\"", default: 0] += 1 }
    }

    func recordIngest(points: Int) {
        state.withLock { $0.pointsIngested += points }
    }

    func prometheusText(uptime: Double) -> String {
        let snapshot = state.withLock { $0 }
        var lines = [
            "# HELP quill_http_requests_total HTTP requests served, by method and status.",
            "# TYPE quill_http_requests_total counter",
        ]
        for (labels, count) in snapshot.requests.sorted(by: { $0.key < $1.key }) {
            lines.append("quill_http_requests_total{\(labels)} \(count)")
        }
        lines += [
            "# HELP quill_http_requests_in_flight Requests being handled now (this one included).",
            "# TYPE quill_http_requests_in_flight gauge",
            "quill_http_requests_in_flight \(snapshot.inFlight)",
            "# HELP quill_metric_points_ingested_total Metric points stored.",
            "# TYPE quill_metric_points_ingested_total counter",
            "quill_metric_points_ingested_total \(snapshot.pointsIngested)",
            "# HELP quill_uptime_seconds Seconds since the server started.",
            "# TYPE quill_uptime_seconds gauge",
            "quill_uptime_seconds \(uptime)",
        ]
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Counts every request by method and status and gives each request an id: in its logger
/// (`quill.request.id`) and in the response's `X-Request-Id` header (a proxy's own `X-Request-Id` is kept
/// when it is a short token). Every response with a 5xx status is logged at error level with that id, the
/// method, the path and the error, so a user's report ("request 3f2a… failed") finds its cause in the log.
struct RequestMetricsMiddleware: RouterMiddleware {
    let metrics: ServerMetrics

    func handle(
        _ request: Request,
        context: QuillRequestContext,
        next: (Request, QuillRequestContext) async throws -> Response
    ) async throws -> Response {
        var context = context
        metrics.requestStarted()
        defer { metrics.requestEnded() }
        let id = Self.requestID(request)
        context.logger[metadataKey: "quill.request.id"] = "\(id)"
        var response: Response
        var failure: (any Error)?
        do {
            response = try await next(request, context)
        } catch let error as QuillError where error.status == .internalServerError {
            response = Self.internalError(code: error.code.description, id: id)
            failure = error
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
            failure = error
        } catch {
            response = Self.internalError(code: "internal", id: id)
            failure = error
        }
        metrics.recordRequest(method: request.method.rawValue, status: response.status.code)
        if response.status.code >= 500 {
            context.logger.error(
                "request failed with \(response.status.code)",
                metadata: [
                    "quill.request.id": "\(id)", "method": "\(request.method.rawValue)", "path": "\(request.uri.path)",
                    "error": "\(failure.map { String(reflecting: $0) } ?? "none thrown")",
                ]
            )
        }
        response.headers[.requestID] = id
        return response
    }

    /// A 500 whose text names the request id to quote, and nothing of the cause (that is in the log).
    static func internalError(code: String, id: String) -> Response {
        JSONResponse.make(
            [
                "error": [
                    "code": .string(code),
                    "message": .string("internal error; the server log has the details under request id \(id)"),
                ]
            ],
            status: .internalServerError
        )
    }

    /// The client's or proxy's `X-Request-Id` when it is 1 to 64 letters, digits, `-`, `_` or `.`, else a
    /// new random one.
    static func requestID(_ request: Request) -> String {
        if let given = request.headers[.requestID], (1...64).contains(given.utf8.count),
            given.utf8.allSatisfy(isTokenByte)
        {
            return given
        }
        return String(UInt64.random(in: 0...UInt64.max), radix: 16)
    }

    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
            true
        default: false
        }
    }
}

extension HTTPField.Name {
    /// `X-Request-Id`: the id of a request, in the server log and on its response.
    static var requestID: Self {
        guard let name = Self("X-Request-Id") else { preconditionFailure("X-Request-Id is a valid field name") }
        return name
    }
}
