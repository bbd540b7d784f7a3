package import Foundation
import GRDB
import QuillCore
package import QuillStore

extension SQLiteTrackingStore: SessionStore {
    @discardableResult
    package func createSession(tokenHash: String, keyHash: String, expiresAt: Date) async throws -> StoredUser {
        let now = Timestamp.microseconds(Date())
        let expires = Timestamp.microseconds(expiresAt)
        return try await write { db in
            // The one check of the key: valid now, in the transaction that records the session.
            guard
                let key = try APIKeyRecord.WithUser.fetchOne(
                    db,
                    sql: "\(APIKeyRecord.withUser) WHERE k.hash = ? AND k.revoked_at IS NULL",
                    arguments: [keyHash]
                )?.key
            else {
                throw AccountRules.keyNotValidForSession
            }
            let user = try Self.requireUser(db, key.user)
            // Expired sessions go whenever a new one is made, so the table holds only live ones.
            try db.execute(sql: "DELETE FROM sessions WHERE expires_at <= ?", arguments: [now])
            try db.execute(
                sql: "INSERT INTO sessions (token_hash, api_key_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
                arguments: [tokenHash, key.id, now, expires]
            )
            return user
        }
    }

    package func sessionKeyHash(tokenHash: String, now: Date) async throws -> String? {
        let now = Timestamp.microseconds(now)
        return try await read { db in
            try String.fetchOne(
                db,
                sql: """
                    SELECT api_keys.hash FROM sessions JOIN api_keys ON api_keys.id = sessions.api_key_id
                    WHERE sessions.token_hash = ? AND sessions.expires_at > ? AND api_keys.revoked_at IS NULL
                    """,
                arguments: [tokenHash, now]
            )
        }
    }

    package func deleteSession(tokenHash: String) async throws {
        try await write { db in
            try db.execute(sql: "DELETE FROM sessions WHERE token_hash = ?", arguments: [tokenHash])
        }
    }
}
