import HTTPTypes
import Hummingbird
import QuillAPI

/// Registers MLflow's routes under each of their prefixes (`/api/2.0/mlflow` and the `/ajax-api/2.0/mlflow`
/// alias the MLflow UI uses), so that every path under them answers as MLflow's server does in MLflow's error
/// shape: a known path asked with another method is `405`, an unknown path `404 ENDPOINT_NOT_FOUND`.
final class MLflowRouteTable: @unchecked Sendable {
    // @unchecked Sendable: used only while the routes are registered, on one thread, before the server runs.
    typealias Handler = @Sendable (Request, QuillRequestContext) async throws -> Response

    private let groups: [RouterGroup<QuillRequestContext>]
    private var methods: [String: Set<HTTPRequest.Method>] = [:]
    private var order: [String] = []

    /// A table over `groups`, each one prefix with the MLflow middleware already added.
    init(groups: [RouterGroup<QuillRequestContext>]) {
        self.groups = groups
    }

    /// Answers `method` on `path` (relative to the prefix, e.g. `runs/create`) with `handler`.
    func add(_ path: String, _ method: HTTPRequest.Method, _ handler: @escaping Handler) {
        for group in groups { group.on(RouterPath(path), method: method, use: handler) }
        if methods[path] == nil { order.append(path) }
        methods[path, default: []].insert(method)
    }

    /// Answers the other methods of every path with 405, and every other path with 404.
    func finish() {
        let all: [HTTPRequest.Method] = [.get, .post, .put, .patch, .delete, .head, .options]
        for path in order {
            let allowed = methods[path] ?? []
            for method in all where !allowed.contains(method) {
                for group in groups {
                    group.on(RouterPath(path), method: method) { request, _ -> Response in
                        // 405 as MLflow's server answers, with the body in MLflow's error shape.
                        let use = allowed.map(\.rawValue).sorted().joined(separator: ", ")
                        var response = try JSONResponse.make(
                            MLflowErrorBody(
                                .badRequest,
                                "\(request.method.rawValue) is not allowed on \(request.uri.path); use \(use)"
                            ),
                            status: .methodNotAllowed
                        )
                        response.headers[.allow] = use
                        return response
                    }
                }
            }
        }
        for method in all {
            for group in groups {
                group.on("**", method: method) { request, _ -> Response in
                    throw MLflowHTTPError(.endpointNotFound, "no MLflow endpoint \(request.uri.path) on this server")
                }
            }
        }
    }
}
