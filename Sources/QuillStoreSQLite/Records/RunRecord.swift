import Foundation
import GRDB
import QuillCore
import QuillStore

/// A row of `runs`: one run, unique by id and by (project, name). JSON values are TEXT written by
/// ``JSONWriter``.
struct RunRecord: FetchableRecord, PersistableRecord, Sendable {
    static let databaseTableName = "runs"

    /// The table's columns.
    enum Columns {
        static let id = Column("id")
        static let projectID = Column("project_id")
        static let name = Column("name")
        static let description = Column("description")
        static let kind = Column("kind")
        static let parentID = Column("parent_id")
        static let status = Column("status")
        static let createdAt = Column("created_at")
        static let updatedAt = Column("updated_at")
        static let startedAt = Column("started_at")
        static let endedAt = Column("ended_at")
        static let user = Column("user")
        static let host = Column("host")
        static let git = Column("git")
        static let environment = Column("environment")
        static let config = Column("config")
        static let summary = Column("summary")
        static let deletedAt = Column("deleted_at")
    }

    var id: String
    var projectID: Int64
    var name: String
    var description: String?
    var kind: String
    var parentID: String?
    var status: String
    /// Times are microseconds since the epoch.
    var createdAt: Int64
    var updatedAt: Int64
    var startedAt: Int64
    var endedAt: Int64?
    var user: String?
    var host: String?
    var git: String?
    var environment: String?
    var config: String
    var summary: String
    /// When the run was moved to the trash, `nil` while active.
    var deletedAt: Int64?

    /// A row of the backend-neutral columns (``RunRow``).
    init(_ row: RunRow) {
        id = row.id
        projectID = row.projectID
        name = row.name
        description = row.description
        kind = row.kind
        parentID = row.parentID
        status = row.status
        createdAt = row.createdAt
        updatedAt = row.updatedAt
        startedAt = row.startedAt
        endedAt = row.endedAt
        user = row.user
        host = row.host
        git = row.git
        environment = row.environment
        config = row.config
        summary = row.summary
        deletedAt = row.deletedAt
    }

    /// The backend-neutral columns.
    var row: RunRow {
        RunRow(
            id: id,
            projectID: projectID,
            name: name,
            description: description,
            kind: kind,
            parentID: parentID,
            status: status,
            createdAt: createdAt,
            updatedAt: updatedAt,
            startedAt: startedAt,
            endedAt: endedAt,
            user: user,
            host: host,
            git: git,
            environment: environment,
            config: config,
            summary: summary,
            deletedAt: deletedAt
        )
    }

    init(row: Row) {
        id = row[Columns.id]
        projectID = row[Columns.projectID]
        name = row[Columns.name]
        description = row[Columns.description]
        kind = row[Columns.kind]
        parentID = row[Columns.parentID]
        status = row[Columns.status]
        createdAt = row[Columns.createdAt]
        updatedAt = row[Columns.updatedAt]
        startedAt = row[Columns.startedAt]
        endedAt = row[Columns.endedAt]
        user = row[Columns.user]
        host = row[Columns.host]
        git = row[Columns.git]
        environment = row[Columns.environment]
        config = row[Columns.config]
        summary = row[Columns.summary]
        deletedAt = row[Columns.deletedAt]
    }

    func encode(to container: inout PersistenceContainer) {
        container[Columns.id] = id
        container[Columns.projectID] = projectID
        container[Columns.name] = name
        container[Columns.description] = description
        container[Columns.kind] = kind
        container[Columns.parentID] = parentID
        container[Columns.status] = status
        container[Columns.createdAt] = createdAt
        container[Columns.updatedAt] = updatedAt
        container[Columns.startedAt] = startedAt
        container[Columns.endedAt] = endedAt
        container[Columns.user] = user
        container[Columns.host] = host
        container[Columns.git] = git
        container[Columns.environment] = environment
        container[Columns.config] = config
        container[Columns.summary] = summary
        container[Columns.deletedAt] = deletedAt
    }

    /// The run, as the store's protocols give it (``RunRow/stored()``).
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/malformed`` when the row's id is not a valid run id.
    func stored() throws -> StoredRun {
        try row.stored()
    }

    /// A JSON column's value; `nil` when NULL or not JSON.
    static func json(_ text: String?) -> JSONValue? {
        RunRow.json(text)
    }
}
