import GRDB
import QuillCore

/// A row of `params`: one parameter of a run, its value as JSON text; unique by (run, key).
struct ParamRecord: FetchableRecord, TableRecord, Sendable {
    static let databaseTableName = "params"

    /// The table's columns.
    enum Columns {
        static let runID = Column("run_id")
        static let key = Column("key")
        static let value = Column("value")
    }

    var runID: String
    var key: String
    var value: String

    init(row: Row) {
        runID = row[Columns.runID]
        key = row[Columns.key]
        value = row[Columns.value]
    }

    /// The value (`null` when the text is not JSON).
    var json: JSONValue { RunRecord.json(value) ?? .null }
}
