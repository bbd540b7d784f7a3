import GRDB
import QuillCore

/// A row of `links`: one link of a run, in the order logged (`id`); unique by (run, label, url).
struct LinkRecord: FetchableRecord, TableRecord, Sendable {
    static let databaseTableName = "links"

    /// The table's columns.
    enum Columns {
        static let id = Column("id")
        static let runID = Column("run_id")
        static let label = Column("label")
        static let url = Column("url")
        static let createdAt = Column("created_at")
    }

    var runID: String
    var label: String
    var url: String
    /// Microseconds since the epoch.
    var createdAt: Int64

    init(row: Row) {
        runID = row[Columns.runID]
        label = row[Columns.label]
        url = row[Columns.url]
        createdAt = row[Columns.createdAt]
    }

    /// The link, with the time it was logged.
    var link: RunLink { RunLink(label: label, url: url, timestamp: Timestamp.date(microseconds: createdAt)) }
}
