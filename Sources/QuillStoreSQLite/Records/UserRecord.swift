import Foundation
import GRDB
import QuillCore
import QuillStore

/// A row of `users`: one user, unique by name, which no organization may share (`account_names`).
struct UserRecord: FetchableRecord, PersistableRecord, Sendable {
    static let databaseTableName = "users"

    /// The table's columns.
    enum Columns {
        static let id = Column("id")
        static let name = Column("name")
        static let isAdmin = Column("is_admin")
        static let createdAt = Column("created_at")
    }

    /// `nil` before the row is inserted (SQLite assigns it).
    var id: Int64?
    var name: String
    var isAdmin: Bool
    /// Microseconds since the epoch.
    var createdAt: Int64

    init(name: String, isAdmin: Bool, createdAt: Int64) {
        self.name = name
        self.isAdmin = isAdmin
        self.createdAt = createdAt
    }

    init(row: Row) {
        id = row[Columns.id]
        name = row[Columns.name]
        isAdmin = row[Columns.isAdmin]
        createdAt = row[Columns.createdAt]
    }

    func encode(to container: inout PersistenceContainer) {
        container[Columns.id] = id
        container[Columns.name] = name
        container[Columns.isAdmin] = isAdmin
        container[Columns.createdAt] = createdAt
    }

    /// The user, as the store's protocols give it.
    var stored: StoredUser {
        StoredUser(id: id ?? 0, name: name, isAdmin: isAdmin, createdAt: Timestamp.date(microseconds: createdAt))
    }
}
