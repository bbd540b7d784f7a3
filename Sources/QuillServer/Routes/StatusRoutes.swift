import Foundation
import Hummingbird
import QuillCore
import QuillStore

/// `/healthz`, `/api/v1/status` and the Prometheus `/metrics`.
struct StatusRoutes {
    let api: APIContext

    func register(_ router: Router<QuillRequestContext>) {
        router.get("healthz") { _, _ in JSONResponse.make(["status": "ok"]) }
        let openAPI = OpenAPIDocument.document
        router.get("api/v1/openapi.json") { _, _ in JSONResponse.make(openAPI) }
        router.get("api/v1/status") { _, _ in
            let counts = try await api.store.counts()
            return JSONResponse.make([
                "version": .string(QuillServer.version),
                "server_id": .string(try await api.store.serverID()),
                "uptime_seconds": .double(Date().timeIntervalSince(api.started)),
                "counts": [
                    "projects": .int(counts.projects), "runs": .int(counts.runs),
                    "metric_points": .int(counts.metricPoints),
                ],
            ])
        }
        router.get("metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4"],
                body: ResponseBody(
                    byteBuffer: ByteBuffer(
                        string: api.metrics.prometheusText(uptime: Date().timeIntervalSince(api.started))
                    )
                )
            )
        }
    }
}
