public import Foundation

/// Browser sessions of the dashboard: a sign-in with an API key gets a random session token, kept by the
/// browser in an HttpOnly cookie; the store keeps only the token's hash and the key it stands for.
///
/// A session is as good as its key: revoking the key (or deleting its user) ends every session made with it,
/// because ``sessionKeyHash(tokenHash:now:)`` answers only while the key is valid.
public protocol SessionStore: Sendable {
    /// Records a session for the API key whose hash is `keyHash`, until `expiresAt`, and returns the key's
    /// user: the key is checked once, in the write that records the session, so a key revoked a moment
    /// before gets no session.
    ///
    /// - Throws: ``QuillError`` with code `unauthorized` when no valid key has that hash.
    @discardableResult
    func createSession(tokenHash: String, keyHash: String, expiresAt: Date) async throws -> StoredUser

    /// The hash of the API key a live session stands for, or `nil` when the session is unknown, expired or
    /// its key was revoked.
    func sessionKeyHash(tokenHash: String, now: Date) async throws -> String?

    /// Ends a session (signing out); ending an unknown session does nothing.
    func deleteSession(tokenHash: String) async throws
}
