import Foundation
import Hummingbird
import QuillAPI
import QuillCore
import QuillStore

/// `/healthz`, `/api/v1/status` and the Prometheus `/metrics`.
///
/// `/healthz` and the version and uptime in `/api/v1/status` are for everyone. The global counts in
/// `/api/v1/status` and the whole of `/metrics` (request counts, points ingested) describe every user's
/// activity, so only administrators see them, or anyone in single-user mode; Prometheus scrapes `/metrics`
/// with an administrator's key as its bearer token.
struct StatusRoutes {
    let api: APIContext

    func register(_ router: Router<QuillRequestContext>) {
        router.get("healthz") { _, _ in
            guard let backend = api.store as? any StoreBackend else {
                return try JSONResponse.make(APIHealth(status: "ok"))
            }
            let health = await backend.health()
            guard health.reachable else {
                return try JSONResponse.make(
                    APIHealth(status: "unavailable", database: "unreachable", message: health.message),
                    status: .serviceUnavailable
                )
            }
            return try JSONResponse.make(APIHealth(status: "ok", database: "ok"))
        }
        let openAPI = OpenAPIDocument.document
        router.get("api/v1/openapi.json") { _, _ in JSONResponse.make(openAPI) }
        let authenticated = router.group().add(
            middleware: AuthMiddleware(authenticator: api.authorization.authenticator)
        )
        authenticated.get("api/v1/status") { _, context in
            var status = APIStatus(
                version: QuillServer.version,
                serverID: try await api.store.serverID(),
                uptimeSeconds: Date().timeIntervalSince(api.started)
            )
            if api.authorization.seesGlobalFigures(context.caller) {
                let counts = try await api.store.counts()
                status.counts = APIServerCounts(
                    projects: counts.projects,
                    runs: counts.runs,
                    metricPoints: counts.metricPoints
                )
            }
            return try JSONResponse.make(status)
        }
        authenticated.get("metrics") { _, context in
            try api.authorization.readServerMetrics(context.caller)
            return Response(
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
