import Foundation
import HTTPTypes
import Hummingbird
import QuillCore
import QuillStore

/// The web dashboard: the page shell at every page URL of the dashboard's URL scheme, and its files under
/// `/assets/`.
///
/// The pages read the public REST API from the browser, so the server adds no page-specific data here and
/// access is decided by the API, as for any client: a private project's page shows "not found" to
/// whoever may not read it. Files under `/assets/<digest>/` are cached for a year (`immutable`);
/// `/assets/<path>` without the current digest is served with `no-cache`, so an old page still loads.
struct DashboardRoutes {
    let assets: DashboardAssets?

    /// First path segments the server uses; a page URL never starts with them and no namespace may take them
    /// (``AccountName/reserved``, the same list as `RESERVED` in `js/url.js`).
    static var reservedSegments: Set<String> { AccountName.reserved }

    /// The page URLs of the dashboard's scheme (`js/url.js`).
    static let pagePaths = [
        "/", "runs/:id", "steps", "steps/:namespace/:hash", "stats", "signin", "jobs", "jobs/:id", "devices",
        ":namespace/:slug", ":namespace/:slug/compare", ":namespace/:slug/runs/:id",
    ]

    func register(_ router: Router<QuillRequestContext>) {
        for path in Self.pagePaths {
            router.get(RouterPath(path)) { request, context in try page(request, context) }
        }
        router.get("assets/**") { request, context in try asset(request, context) }
        router.get("favicon.ico") { _, _ in Response(status: .noContent) }
    }

    private func page(_ request: Request, _ context: QuillRequestContext) throws -> Response {
        if let namespace = context.parameters.get("namespace"), Self.reservedSegments.contains(namespace) {
            throw QuillError(.notFound, "no route for \(request.uri.path); the API is under /api/v1")
        }
        guard let assets else {
            throw QuillError(
                .notFound,
                "this quill binary was installed without its dashboard files (quill_QuillServer.resources beside it); the API is under /api/v1"
            )
        }
        return Self.respond(assets.index, request, cache: "no-cache")
    }

    private func asset(_ request: Request, _ context: QuillRequestContext) throws -> Response {
        guard let assets else { throw QuillError(.notFound, "no dashboard files in this installation") }
        var parts = context.parameters.getCatchAll().map(String.init)
        var cache = "no-cache"
        if parts.first == assets.digest {
            parts.removeFirst()
            cache = "public, max-age=31536000, immutable"
        }
        let path = parts.joined(separator: "/")
        guard !parts.contains(where: { $0 == ".." || $0 == "." || $0.isEmpty }), let file = assets.files[path] else {
            throw QuillError(.notFound, "no dashboard file '\(path)'")
        }
        return Self.respond(file, request, cache: cache)
    }

    private static func respond(_ file: DashboardAssets.File, _ request: Request, cache: String) -> Response {
        var headers: HTTPFields = [
            .contentType: file.contentType, .cacheControl: cache, .eTag: file.etag,
            .xContentTypeOptions: "nosniff",
        ]
        if file.contentType.hasPrefix("text/html") {
            headers[.contentSecurityPolicy] =
                "default-src 'self'; img-src 'self' data: blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
            if let name = HTTPField.Name("Referrer-Policy") { headers[name] = "same-origin" }
        }
        if let match = request.headers[.ifNoneMatch],
            match.split(separator: ",").contains(where: {
                $0.trimmingCharacters(in: .whitespaces) == file.etag
            })
        {
            return Response(status: .notModified, headers: headers)
        }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: file.bytes)))
    }
}
