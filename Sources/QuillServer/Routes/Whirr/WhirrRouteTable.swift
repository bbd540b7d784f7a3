import HTTPTypes
import Hummingbird

/// Registers whirr's routes so that every path under `/whirr` answers as whirr's server does: a known path
/// asked with another method 405 `{"detail": "Method Not Allowed"}`, an unknown path 404
/// `{"detail": "Not Found"}` (instead of Quill's own error shapes).
final class WhirrRouteTable: @unchecked Sendable {
    // @unchecked Sendable: used only while the routes are registered, on one thread, before the server runs.
    typealias Handler = @Sendable (Request, QuillRequestContext) async throws -> Response

    private let group: RouterGroup<QuillRequestContext>
    private var methods: [String: Set<HTTPRequest.Method>] = [:]
    private var order: [String] = []

    init(group: RouterGroup<QuillRequestContext>) {
        self.group = group
    }

    /// Answers `method` on `path` (relative to `/whirr`) with `handler`.
    func add(_ path: String, _ method: HTTPRequest.Method, _ handler: @escaping Handler) {
        group.on(RouterPath(path), method: method, use: handler)
        if methods[path] == nil { order.append(path) }
        methods[path, default: []].insert(method)
    }

    /// Answers the other methods of every path with 405, and every other path with 404.
    func finish() {
        let all: [HTTPRequest.Method] = [.get, .post, .put, .delete, .patch, .head, .options]
        for path in order {
            for method in all where !(methods[path]?.contains(method) ?? false) {
                group.on(RouterPath(path), method: method) { _, _ -> Response in
                    throw WhirrHTTPError(.methodNotAllowed, "Method Not Allowed")
                }
            }
        }
        for method in all {
            group.on("**", method: method) { _, _ -> Response in throw WhirrHTTPError(.notFound, "Not Found") }
        }
    }
}
