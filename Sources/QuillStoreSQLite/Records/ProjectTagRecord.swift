import GRDB

/// A row of `project_tags`: one tag of a project; unique by (project, key) (migration "v16").
struct ProjectTagRecord: FetchableRecord, PersistableRecord, Sendable {
    static let databaseTableName = "project_tags"

    /// The table's columns.
    enum Columns {
        static let projectID = Column("project_id")
        static let key = Column("key")
        static let value = Column("value")
    }

    var projectID: Int64
    var key: String
    var value: String

    init(projectID: Int64, key: String, value: String) {
        self.projectID = projectID
        self.key = key
        self.value = value
    }

    init(row: Row) {
        projectID = row[Columns.projectID]
        key = row[Columns.key]
        value = row[Columns.value]
    }

    func encode(to container: inout PersistenceContainer) {
        container[Columns.projectID] = projectID
        container[Columns.key] = key
        container[Columns.value] = value
    }

    /// The tags of some projects (every project when `projectIDs` is `nil`), by project id, in one query.
    static func tags(_ db: Database, projectIDs: [Int64]?) throws -> [Int64: [String: String]] {
        var request = ProjectTagRecord.all()
        if let projectIDs { request = request.filter(projectIDs.contains(Columns.projectID)) }
        var tags: [Int64: [String: String]] = [:]
        for tag in try request.fetchAll(db) { tags[tag.projectID, default: [:]][tag.key] = tag.value }
        return tags
    }
}
