import Foundation
import HTTPTypes
import Hummingbird
import QuillCore

/// Who may use whirr's API on this server.
///
/// whirr's API has no users: one queue, every job visible to every caller. So in single-user mode anyone may
/// use it, and on a server with users only an administrator. whirr's client cannot set headers, but httpx sends
/// a URL's user info as HTTP Basic credentials, so an administrator passes the API key as the password:
/// `WhirrClient("http://admin:<API key>@host:8080/whirr")`. `Authorization: Bearer <API key>` works too.
struct WhirrAuthMiddleware: RouterMiddleware {
    let authenticator: Authenticator
    let authorization: Authorization

    func handle(
        _ request: Request,
        context: QuillRequestContext,
        next: (Request, QuillRequestContext) async throws -> Response
    ) async throws -> Response {
        var context = context
        context.caller = try await authenticator.caller(authorization: Self.bearer(request.headers[.authorization]))
        guard authorization.seesGlobalFigures(context.caller) else {
            if context.caller == .anonymous {
                throw WhirrHTTPError(
                    .unauthorized,
                    "this server has users: give an administrator's API key as the URL's password, "
                        + "http://admin:<API key>@host:port/whirr"
                )
            }
            throw WhirrHTTPError(.forbidden, "whirr's API serves one shared queue: only an administrator may use it")
        }
        return try await next(request, context)
    }

    /// The header as a bearer credential: `Basic base64(user:key)` becomes `Bearer key`.
    static func bearer(_ header: String?) -> String? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic" else { return header }
        guard let decoded = Data(base64Encoded: String(parts[1]).trimmingWhitespace()),
            let text = String(data: decoded, encoding: .utf8),
            let colon = text.firstIndex(of: ":")
        else { return header }
        return "Bearer " + text[text.index(after: colon)...]
    }
}
