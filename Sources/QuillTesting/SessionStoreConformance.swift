import Foundation
import QuillCore
public import QuillStore
public import Testing

/// The behaviour every ``SessionStore`` backend must have, as checks run on a fresh store:
/// `@Test(arguments: SessionStoreConformance.allCases)`.
public enum SessionStoreConformance: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sessionStandsForItsKeyUntilItExpires
    case signingOutEndsASession
    case revokingTheKeyEndsItsSessions

    /// The check's name in test output.
    public var testDescription: String { rawValue }

    /// Runs the check on an empty store (sessions stand for API keys of its users).
    public func check(_ store: any SessionStore & AccountStore) async throws {
        _ = try await store.createUser(name: "alice", isAdmin: false)
        let secret = APIKeySecret.generate()
        let keyHash = APIKeySecret.hash(secret)
        let key = try await store.createAPIKey(
            NewAPIKey(user: "alice", label: "laptop", prefix: APIKeySecret.prefix(of: secret), hash: keyHash)
        )
        let now = Date()
        switch self {
        case .sessionStandsForItsKeyUntilItExpires:
            let token = String(repeating: "a", count: 64)
            let user = try await store.createSession(
                tokenHash: token,
                keyHash: keyHash,
                expiresAt: now.addingTimeInterval(3600)
            )
            #expect(user.name == "alice")
            #expect(try await store.sessionKeyHash(tokenHash: token, now: now) == keyHash)
            #expect(try await store.sessionKeyHash(tokenHash: token, now: now.addingTimeInterval(3601)) == nil)
            #expect(try await store.sessionKeyHash(tokenHash: String(repeating: "b", count: 64), now: now) == nil)
        case .signingOutEndsASession:
            let token = String(repeating: "a", count: 64)
            let other = String(repeating: "d", count: 64)
            try await store.createSession(tokenHash: token, keyHash: keyHash, expiresAt: now.addingTimeInterval(3600))
            try await store.createSession(tokenHash: other, keyHash: keyHash, expiresAt: now.addingTimeInterval(3600))
            try await store.deleteSession(tokenHash: token)
            #expect(try await store.sessionKeyHash(tokenHash: token, now: now) == nil)
            #expect(try await store.sessionKeyHash(tokenHash: other, now: now) == keyHash, "other sessions stay")
            try await store.deleteSession(tokenHash: token)  // signing out twice is fine
        case .revokingTheKeyEndsItsSessions:
            let token = String(repeating: "c", count: 64)
            try await store.createSession(tokenHash: token, keyHash: keyHash, expiresAt: now.addingTimeInterval(3600))
            _ = try await store.revokeAPIKey(id: key.id, user: "alice")
            #expect(
                try await store.sessionKeyHash(tokenHash: token, now: now) == nil,
                "revoking the key ends its sessions"
            )
            let refused = await #expect(throws: QuillError.self) {
                try await store.createSession(
                    tokenHash: String(repeating: "e", count: 64),
                    keyHash: keyHash,
                    expiresAt: now.addingTimeInterval(60)
                )
            }
            #expect(refused?.code == .unauthorized, "no session for a revoked key")
            let unknown = await #expect(throws: QuillError.self) {
                try await store.createSession(
                    tokenHash: String(repeating: "f", count: 64),
                    keyHash: APIKeySecret.hash(secret + "x"),
                    expiresAt: now.addingTimeInterval(60)
                )
            }
            #expect(unknown?.code == .unauthorized, "no session for an unknown key")
        }
    }
}
