import Foundation
import HTTPTypes
import Hummingbird
import QuillAPI
import QuillCore
import QuillStore

/// `/api/v1/session`: the dashboard's sign-in and sign-out.
///
/// `POST` with `{"api_key": "…"}` checks the key and answers with the key's user and a `Set-Cookie` of a new
/// session (``SessionCookie``): the browser never stores the key itself. `DELETE` ends the session on the
/// server and clears the cookie. A server without users (single-user mode) has nothing to sign in to.
struct SessionRoutes {
    let api: APIContext
    let sessions: any SessionStore

    func register(_ group: RouterGroup<QuillRequestContext>) {
        group.post { request, context in try await signIn(request, context) }
        group.delete { request, _ in try await signOut(request) }
    }

    private var secure: Bool { api.configuration.publicURL?.lowercased().hasPrefix("https://") == true }

    private func signIn(_ request: Request, _ context: QuillRequestContext) async throws -> Response {
        try api.authorization.startSession(context.caller)
        let key = try await api.body(APISessionCreate.self, request).apiKey.trimmingWhitespace()
        let token = SessionCookie.newToken()
        // The key is checked once, by the write that records the session, which also names its user.
        let user = try await api.authorization.signIn(
            keyHash: APIKeySecret.hash(key),
            tokenHash: APIKeySecret.hash(token),
            expiresAt: Date().addingTimeInterval(SessionCookie.lifetime),
            sessions: sessions
        )
        var response = try JSONResponse.make(APISession(user: user.name, isAdmin: user.isAdmin))
        response.headers[.setCookie] = SessionCookie.setCookie(token, secure: secure)
        response.headers[.cacheControl] = "no-store"
        return response
    }

    private func signOut(_ request: Request) async throws -> Response {
        if let token = SessionCookie.token(in: request.headers[values: .cookie]) {
            try await sessions.deleteSession(tokenHash: APIKeySecret.hash(token))
        }
        var response = Response(status: .noContent)
        response.headers[.setCookie] = SessionCookie.clearCookie(secure: secure)
        return response
    }
}
