import Foundation
import GRDB
import QuillCore
import QuillStore

/// A row of `projects`: one project, unique by (namespace, slug). Its tags are rows of `project_tags`
/// (``ProjectTagRecord``).
struct ProjectRecord: FetchableRecord, PersistableRecord, Sendable {
    static let databaseTableName = "projects"

    /// The table's columns.
    enum Columns {
        static let id = Column("id")
        static let namespace = Column("namespace")
        static let slug = Column("slug")
        static let displayName = Column("display_name")
        static let visibility = Column("visibility")
        static let createdAt = Column("created_at")
        static let createdBy = Column("created_by")
        static let deletedAt = Column("deleted_at")
        static let updatedAt = Column("updated_at")
    }

    /// `nil` before the row is inserted (SQLite assigns it).
    var id: Int64?
    var namespace: String
    var slug: String
    var displayName: String
    var visibility: String
    /// Microseconds since the epoch.
    var createdAt: Int64
    var createdBy: String?
    /// When it was moved to the trash (microseconds), `nil` while active.
    var deletedAt: Int64?
    /// When its name, tags or lifecycle last changed (microseconds), `nil` when never.
    var updatedAt: Int64?

    init(namespace: String, project: Project, createdAt: Int64, createdBy: String?) {
        self.namespace = namespace
        slug = project.slug
        displayName = project.displayName
        visibility = ProjectVisibility.private.rawValue
        self.createdAt = createdAt
        self.createdBy = createdBy
    }

    init(row: Row) {
        id = row[Columns.id]
        namespace = row[Columns.namespace]
        slug = row[Columns.slug]
        displayName = row[Columns.displayName]
        visibility = row[Columns.visibility]
        createdAt = row[Columns.createdAt]
        createdBy = row[Columns.createdBy]
        deletedAt = row[Columns.deletedAt]
        updatedAt = row[Columns.updatedAt]
    }

    func encode(to container: inout PersistenceContainer) {
        container[Columns.id] = id
        container[Columns.namespace] = namespace
        container[Columns.slug] = slug
        container[Columns.displayName] = displayName
        container[Columns.visibility] = visibility
        container[Columns.createdAt] = createdAt
        container[Columns.createdBy] = createdBy
        container[Columns.deletedAt] = deletedAt
        container[Columns.updatedAt] = updatedAt
    }

    /// The project, as the store's protocols give it, with its tags (read them with
    /// ``ProjectTagRecord/tags(_:projectIDs:)``).
    func stored(tags: [String: String]) -> StoredProject {
        var project = StoredProject(
            id: id ?? 0,
            namespace: namespace,
            slug: slug,
            displayName: displayName,
            visibility: ProjectVisibility(rawValue: visibility) ?? .private,
            createdAt: Timestamp.date(microseconds: createdAt),
            createdBy: createdBy
        )
        project.tags = tags
        project.deletedAt = deletedAt.map(Timestamp.date(microseconds:))
        project.updatedAt = updatedAt.map(Timestamp.date(microseconds:))
        return project
    }
}
