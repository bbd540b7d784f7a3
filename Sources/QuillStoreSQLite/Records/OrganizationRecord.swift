import Foundation
import GRDB
import QuillCore
import QuillStore

/// A row of `organizations`: one organization, unique by name, which no user may share (`account_names`).
struct OrganizationRecord: FetchableRecord, PersistableRecord, Sendable {
    static let databaseTableName = "organizations"

    /// The table's columns.
    enum Columns {
        static let id = Column("id")
        static let name = Column("name")
        static let createdAt = Column("created_at")
    }

    /// `nil` before the row is inserted (SQLite assigns it).
    var id: Int64?
    var name: String
    /// Microseconds since the epoch.
    var createdAt: Int64

    init(name: String, createdAt: Int64) {
        self.name = name
        self.createdAt = createdAt
    }

    init(row: Row) {
        id = row[Columns.id]
        name = row[Columns.name]
        createdAt = row[Columns.createdAt]
    }

    func encode(to container: inout PersistenceContainer) {
        container[Columns.id] = id
        container[Columns.name] = name
        container[Columns.createdAt] = createdAt
    }

    /// The organization, as the store's protocols give it.
    var stored: StoredOrganization {
        StoredOrganization(id: id ?? 0, name: name, createdAt: Timestamp.date(microseconds: createdAt))
    }
}
