import Foundation
import Hummingbird
import Logging
import Synchronization

/// Counters the server exposes at `/metrics` in the Prometheus text format.
final class ServerMetrics: Sendable {
    private struct State {
        var requests: [String: Int] = [:]
        var pointsIngested = 0
    }

    private let state = Mutex(State())

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

/// Counts every request by method and status, and gives each request a `quill.request.id` in its logger.
struct RequestMetricsMiddleware: RouterMiddleware {
    let metrics: ServerMetrics

    func handle(
        _ request: Request,
        context: QuillRequestContext,
        next: (Request, QuillRequestContext) async throws -> Response
    ) async throws -> Response {
        var context = context
        context.logger[metadataKey: "quill.request.id"] = "\(UInt64.random(in: 0...UInt64.max))"
        do {
            let response = try await next(request, context)
            metrics.recordRequest(method: request.method.rawValue, status: response.status.code)
            return response
        } catch let error as any HTTPResponseError {
            metrics.recordRequest(method: request.method.rawValue, status: error.status.code)
            throw error
        } catch {
            metrics.recordRequest(method: request.method.rawValue, status: 500)
            throw error
        }
    }
}
