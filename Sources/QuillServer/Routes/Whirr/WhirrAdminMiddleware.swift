import Foundation
import HTTPTypes
import Hummingbird
import QuillCore

/// Who may use whirr's API on this server.
///
/// whirr's API has no users: one queue, every job visible to every caller. So in single-user mode anyone may
/// use it, and on a server with users only an administrator. whirr's client cannot set headers, but httpx sends
/// a URL's user info as HTTP Basic credentials, so an administrator passes the API key as the password:
/// `WhirrClient("http://admin:<API key>@host:8080/whirr")`. `Authorization: Bearer <API key>` works too. The
/// caller is read before, by ``PeerClientAuthMiddleware``.
struct WhirrAdminMiddleware: RouterMiddleware {
    let authorization: Authorization

    func handle(
        _ request: Request,
        context: QuillRequestContext,
        next: (Request, QuillRequestContext) async throws -> Response
    ) async throws -> Response {
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
}
