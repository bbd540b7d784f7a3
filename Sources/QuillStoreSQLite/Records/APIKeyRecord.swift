import Foundation
import GRDB
import QuillCore
import QuillStore

/// A row of `api_keys`: one API key of a user, stored as the hash of its secret (unique).
struct APIKeyRecord: FetchableRecord, PersistableRecord, Sendable {
    static let databaseTableName = "api_keys"

    /// The table's columns.
    enum Columns {
        static let id = Column("id")
        static let userID = Column("user_id")
        static let label = Column("label")
        static let prefix = Column("prefix")
        static let hash = Column("hash")
        static let createdAt = Column("created_at")
        static let revokedAt = Column("revoked_at")
    }

    /// `nil` before the row is inserted (SQLite assigns it).
    var id: Int64?
    var userID: Int64
    var label: String
    var prefix: String
    var hash: String
    /// Times are microseconds since the epoch.
    var createdAt: Int64
    var revokedAt: Int64?

    init(_ key: NewAPIKey, userID: Int64, createdAt: Int64) {
        self.userID = userID
        label = key.label
        prefix = key.prefix
        hash = key.hash
        self.createdAt = createdAt
    }

    init(row: Row) {
        id = row[Columns.id]
        userID = row[Columns.userID]
        label = row[Columns.label]
        prefix = row[Columns.prefix]
        hash = row[Columns.hash]
        createdAt = row[Columns.createdAt]
        revokedAt = row[Columns.revokedAt]
    }

    func encode(to container: inout PersistenceContainer) {
        container[Columns.id] = id
        container[Columns.userID] = userID
        container[Columns.label] = label
        container[Columns.prefix] = prefix
        container[Columns.hash] = hash
        container[Columns.createdAt] = createdAt
        container[Columns.revokedAt] = revokedAt
    }

    /// The key, as the store's protocols give it, with its user's name.
    func stored(user: String) -> StoredAPIKey {
        StoredAPIKey(
            id: id ?? 0,
            user: user,
            label: label,
            prefix: prefix,
            createdAt: Timestamp.date(microseconds: createdAt),
            revokedAt: revokedAt.map(Timestamp.date(microseconds:))
        )
    }

    /// A key with its user's name, as ``withUser`` selects it.
    struct WithUser: FetchableRecord, Sendable {
        /// The column holding the user's name; the others are the key's.
        static let user = Column("user_name")

        /// The key, as the store's protocols give it.
        var key: StoredAPIKey

        init(row: Row) {
            key = APIKeyRecord(row: row).stored(user: row[Self.user])
        }
    }

    /// Selects ``WithUser`` rows; append a `WHERE` clause on `k` (the key) or `u` (the user).
    static let withUser = "SELECT k.*, u.name AS user_name FROM api_keys k JOIN users u ON u.id = k.user_id"
}
