import Foundation
import HTTPTypes
import Hummingbird
import QuillCore
import QuillStore
import Synchronization

/// Resolves the caller of every request from its `Authorization: Bearer …` header, or else from the
/// dashboard's session cookie.
///
/// - A server whose store has no users runs in single-user mode: every request is ``Caller/singleUser``
///   and the header is ignored. The first user created turns authentication on (seen within half a second
///   when another process, such as `quill users create`, creates it).
/// - Otherwise a request without the header is ``Caller/anonymous``, one with a valid key is that key's
///   user, and one with an unknown or revoked key is refused with 401.
/// - Without the header, a live `quill_session` cookie (see ``SessionCookie``) stands for the key its
///   session was made with; an unknown or expired one is simply anonymous, so public pages still show. A
///   request that changes something with only the cookie must come from the dashboard's own origin
///   (`Origin` or `Sec-Fetch-Site`), or it is refused with 403: the cookie is `SameSite=Strict` too, so a
///   cross-site form or script never acts as the user.
struct AuthMiddleware: RouterMiddleware {
    let authenticator: Authenticator

    func handle(
        _ request: Request,
        context: QuillRequestContext,
        next: (Request, QuillRequestContext) async throws -> Response
    ) async throws -> Response {
        var context = context
        if let authorization = request.headers[.authorization] {
            context.caller = try await authenticator.caller(authorization: authorization)
        } else if let token = SessionCookie.token(in: request.headers[values: .cookie]) {
            context.caller = try await authenticator.caller(sessionToken: token)
            if context.caller != .singleUser, context.caller != .anonymous, !Self.isSafe(request.method) {
                try SessionCookie.refuseCrossSite(request)
            }
        } else {
            context.caller = try await authenticator.caller(authorization: nil)
        }
        return try await next(request, context)
    }

    private static func isSafe(_ method: HTTPRequest.Method) -> Bool {
        method == .get || method == .head || method == .options
    }
}

/// Turns API keys into callers, with a short cache so the logging hot path does not query the accounts
/// tables on every request.
final class Authenticator: Sendable {
    /// How long a resolved key (and its memberships) is reused. Changes made through this server's API
    /// clear the cache at once; changes made by another process show within this time.
    static let cacheSeconds: Double = 5

    private struct Entry {
        var caller: Caller
        var expires: Double
    }

    private struct State {
        var hasUsers = false
        var hasUsersCheckedAt = -Double.infinity
        var keys: [String: Entry] = [:]
    }

    private let accounts: any AccountStore
    private let sessions: any SessionStore
    private let state = Mutex(State())
    /// The hash of the server's own in-memory credential (``ServerConfiguration/internalCredential``).
    private let internalKeyHash: String?

    /// The caller a request with the server's own credential is: an administrator named for what it is.
    static let internalCaller = Caller.user(AuthenticatedUser(name: "quill-server", isAdmin: true, organizations: [:]))

    init(accounts: any AccountStore, sessions: any SessionStore, internalCredential: String? = nil) {
        self.accounts = accounts
        self.sessions = sessions
        self.internalKeyHash = internalCredential.flatMap { $0.isEmpty ? nil : APIKeySecret.hash($0) }
    }

    /// The caller for a session token from the dashboard's cookie: the user of the key the session was made
    /// with, or ``Caller/anonymous`` when the session is unknown, expired or its key was revoked.
    func caller(sessionToken: String) async throws -> Caller {
        let now = Date()
        guard try await hasUsers(now: now.timeIntervalSinceReferenceDate) else { return .singleUser }
        guard let keyHash = try await sessions.sessionKeyHash(tokenHash: APIKeySecret.hash(sessionToken), now: now)
        else { return .anonymous }
        return try await caller(keyHash: keyHash, now: now.timeIntervalSinceReferenceDate)
    }

    /// Forgets every cached key and the single-user flag, after users, keys or memberships changed.
    func invalidate() {
        state.withLock { $0 = State() }
    }

    /// The caller for an `Authorization` header value (or none).
    func caller(authorization: String?) async throws -> Caller {
        let now = Date().timeIntervalSinceReferenceDate
        guard try await hasUsers(now: now) else { return .singleUser }
        guard let authorization else { return .anonymous }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw QuillError(
                .unauthorized,
                "the Authorization header must be 'Bearer <API key>'; set QUILL_API_KEY or run `quill login`"
            )
        }
        return try await caller(keyHash: APIKeySecret.hash(String(parts[1]).trimmingWhitespace()), now: now)
    }

    /// The caller for the hash of an API key, from the cache or the store.
    private func caller(keyHash hash: String, now: Double) async throws -> Caller {
        if let internalKeyHash, hash == internalKeyHash { return Self.internalCaller }
        if let entry = state.withLock({ $0.keys[hash] }), entry.expires > now { return entry.caller }
        guard let (_, user) = try await accounts.apiKey(hash: hash) else {
            throw QuillError(
                .unauthorized,
                "the API key is not valid (mistyped or revoked); create a key with `quill keys create` and set QUILL_API_KEY, or run `quill login`"
            )
        }
        var organizations: [String: MembershipRole] = [:]
        for membership in try await accounts.memberships(user: user.name) {
            organizations[membership.organization] = membership.role
        }
        let caller = Caller.user(
            AuthenticatedUser(name: user.name, isAdmin: user.isAdmin, organizations: organizations)
        )
        state.withLock { state in
            if state.keys.count > 10_000 { state.keys.removeAll() }
            state.keys[hash] = Entry(caller: caller, expires: now + Self.cacheSeconds)
        }
        return caller
    }

    /// Whether the store has users; once it has, that is remembered (users are never deleted).
    private func hasUsers(now: Double) async throws -> Bool {
        let known = state.withLock { state -> Bool? in
            if state.hasUsers { return true }
            return now - state.hasUsersCheckedAt < 0.5 ? false : nil
        }
        if let known { return known }
        let count = try await accounts.userCount()
        state.withLock { state in
            state.hasUsers = count > 0
            state.hasUsersCheckedAt = now
        }
        return count > 0
    }
}
