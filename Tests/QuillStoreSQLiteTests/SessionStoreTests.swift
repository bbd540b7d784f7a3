import Foundation
import QuillCore
import QuillStore
import QuillStoreSQLite
import QuillTesting
import Testing

@Suite("SQLite: dashboard sessions")
struct SessionStoreTests {
    @Test("a session stands for its key until it expires, is deleted, or its key is revoked")
    func sessionLifecycle() async throws {
        let temp = TemporaryDirectory("quill-sessions")
        let store = try SQLiteTrackingStore(path: temp.file("quill.db"))
        _ = try await store.createUser(name: "alice", isAdmin: false)
        let secret = APIKeySecret.generate()
        let keyHash = APIKeySecret.hash(secret)
        let key = try await store.createAPIKey(
            NewAPIKey(user: "alice", label: "laptop", prefix: APIKeySecret.prefix(of: secret), hash: keyHash)
        )
        let token = String(repeating: "a", count: 64)
        let now = Date()
        try await store.createSession(tokenHash: token, keyHash: keyHash, expiresAt: now.addingTimeInterval(3600))
        #expect(try await store.sessionKeyHash(tokenHash: token, now: now) == keyHash)
        #expect(try await store.sessionKeyHash(tokenHash: token, now: now.addingTimeInterval(3601)) == nil)
        #expect(try await store.sessionKeyHash(tokenHash: String(repeating: "b", count: 64), now: now) == nil)

        try await store.deleteSession(tokenHash: token)
        #expect(try await store.sessionKeyHash(tokenHash: token, now: now) == nil)
        try await store.deleteSession(tokenHash: token)  // signing out twice is fine

        let second = String(repeating: "c", count: 64)
        try await store.createSession(tokenHash: second, keyHash: keyHash, expiresAt: now.addingTimeInterval(3600))
        _ = try await store.revokeAPIKey(id: key.id, user: "alice")
        #expect(
            try await store.sessionKeyHash(tokenHash: second, now: now) == nil,
            "revoking the key ends its sessions"
        )

        let refused = await #expect(throws: QuillError.self) {
            try await store.createSession(tokenHash: second, keyHash: keyHash, expiresAt: now.addingTimeInterval(60))
        }
        #expect(refused?.code == .unauthorized, "no session for a revoked key")
    }
}
