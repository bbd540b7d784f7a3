import GRDB
import QuillCore

/// A row of `logs`: one line of a run's output, in the order logged (`id`).
struct LogRecord: FetchableRecord, TableRecord, Sendable {
    static let databaseTableName = "logs"

    /// The table's columns.
    enum Columns {
        static let id = Column("id")
        static let runID = Column("run_id")
        static let timestamp = Column("ts")
        static let level = Column("level")
        static let message = Column("message")
    }

    /// Microseconds since the epoch; `nil` for captured program output.
    var timestamp: Int64?
    var level: String?
    var message: String

    init(row: Row) {
        timestamp = row[Columns.timestamp]
        level = row[Columns.level]
        message = row[Columns.message]
    }

    /// The line.
    var line: LogLine {
        LogLine(
            timestamp: timestamp.map(Timestamp.date(microseconds:)),
            level: level.flatMap(LogLevel.init(rawValue:)),
            message: message
        )
    }
}
