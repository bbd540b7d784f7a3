import GRDB

/// A row of `tags`: one tag of a run; unique by (run, key).
struct TagRecord: FetchableRecord, PersistableRecord, Sendable {
    static let databaseTableName = "tags"

    /// The table's columns.
    enum Columns {
        static let runID = Column("run_id")
        static let key = Column("key")
        static let value = Column("value")
    }

    var runID: String
    var key: String
    var value: String

    init(runID: String, key: String, value: String) {
        self.runID = runID
        self.key = key
        self.value = value
    }

    init(row: Row) {
        runID = row[Columns.runID]
        key = row[Columns.key]
        value = row[Columns.value]
    }

    func encode(to container: inout PersistenceContainer) {
        container[Columns.runID] = runID
        container[Columns.key] = key
        container[Columns.value] = value
    }
}
