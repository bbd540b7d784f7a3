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
        router.get("healthz") { _, _ in try JSONResponse.make(APIHealth(status: "ok")) }
        let openAPI = OpenAPIDocument.document
        router.get("api/v1/openapi.json") { _, _ in JSONResponse.make(openAPI) }
        let authenticated = router.group().add(middleware: AuthMiddleware(authenticator: api.authenticator))
        authenticated.get("api/v1/status") { _, context in
            var status = APIStatus(
                version: QuillServer.version,
                serverID: try await api.store.serverID(),
                uptimeSeconds: Date().timeIntervalSince(api.started)
            )
            if Self.isAdministrator(context.caller) {
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
            switch context.caller {
            case .anonymous:
                throw QuillError(
                    .unauthorized,
                    "/metrics needs an administrator's API key; scrape it with `Authorization: Bearer <key>`"
                )
            case .user(let user) where !user.isAdmin:
                throw QuillError(.forbidden, "only an administrator may read /metrics")
            case .user, .singleUser:
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

    /// Whether the caller may see the server's global figures.
    static func isAdministrator(_ caller: Caller) -> Bool {
        switch caller {
        case .singleUser: return true
        case .user(let user): return user.isAdmin
        case .anonymous: return false
        }
    }
}
