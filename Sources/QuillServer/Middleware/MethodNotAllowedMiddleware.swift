import Foundation
import HTTPTypes
import Hummingbird
import QuillCore

/// The methods each documented path answers, read from ``OpenAPIDocument``, so a route and its
/// description cannot disagree about which methods exist.
struct AllowedMethods: Sendable {
    private struct Template: Sendable {
        /// The path's segments; `nil` stands for a `{parameter}`.
        let segments: [String?]
        let methods: [String]
    }

    private let templates: [Template]

    /// The methods of every path in `document` (an OpenAPI document's `paths` object).
    init(document: JSONValue) {
        var templates: [Template] = []
        if case .object(let paths)? = document["paths"] {
            for (path, item) in paths {
                guard case .object(let operations) = item else { continue }
                let methods = operations.keys.map { $0.uppercased() }.sorted()
                let segments = path.split(separator: "/").map { part -> String? in
                    part.hasPrefix("{") && part.hasSuffix("}") ? nil : String(part)
                }
                templates.append(Template(segments: segments, methods: methods))
            }
        }
        self.templates = templates
    }

    /// The methods the path answers, or `nil` when no documented path matches it.
    func methods(forPath path: String) -> [String]? {
        let parts = path.split(separator: "?", maxSplits: 1).first.map { $0.split(separator: "/") } ?? []
        // A literal segment wins over a parameter, as in the router: `/jobs/claim` is not `/jobs/{id}`.
        var found: [String]?
        var specificity = -1
        for template in templates where template.segments.count == parts.count {
            let matches = zip(template.segments, parts).allSatisfy { segment, part in
                segment.map { $0 == part } ?? !part.isEmpty
            }
            guard matches else { continue }
            let literals = template.segments.filter { $0 != nil }.count
            if literals > specificity {
                specificity = literals
                found = template.methods
            } else if literals == specificity {
                found = Array(Set((found ?? []) + template.methods)).sorted()
            }
        }
        return found
    }
}

/// Answers a known path asked with a method it does not have with `405 Method Not Allowed` and an
/// `Allow` header, as RFC 9110 asks, instead of the router's 404; and an unknown path with a JSON 404, like
/// every other error.
///
/// It looks only at requests the router found no route for, so the routes themselves pay nothing.
struct MethodNotAllowedMiddleware: RouterMiddleware {
    let allowed: AllowedMethods

    func handle(
        _ request: Request,
        context: QuillRequestContext,
        next: (Request, QuillRequestContext) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            guard let methods = allowed.methods(forPath: request.uri.path), !methods.isEmpty else {
                return JSONResponse.make(
                    [
                        "error": [
                            "code": "not_found",
                            "message": .string(
                                "no endpoint \(request.uri.path); the API is described at /api/v1/openapi.json"
                            ),
                        ]
                    ],
                    status: .notFound
                )
            }
            var response = JSONResponse.make(
                [
                    "error": [
                        "code": "method_not_allowed",
                        "message": .string(
                            "\(request.method.rawValue) is not allowed on \(request.uri.path); use \(methods.joined(separator: ", "))"
                        ),
                    ]
                ],
                status: .methodNotAllowed
            )
            response.headers[.allow] = methods.joined(separator: ", ")
            return response
        }
    }
}

/// Reads `+` in a query string as a space, as HTML forms and Python's `requests` encode it
/// (`?q=status+=+failed`); a literal plus arrives as `%2B` and stays one.
struct FormQueryMiddleware: RouterMiddleware {
    func handle(
        _ request: Request,
        context: QuillRequestContext,
        next: (Request, QuillRequestContext) async throws -> Response
    ) async throws -> Response {
        guard let path = request.head.path, let question = path.firstIndex(of: "?"),
            path[question...].contains("+")
        else { return try await next(request, context) }
        var head = request.head
        head.path = String(path[..<question]) + path[question...].replacingOccurrences(of: "+", with: "%20")
        return try await next(Request(head: head, body: request.body), context)
    }
}
