import GRDB
import GRDBSQLite

/// A prepared SQLite statement driven through the C API, for the two loops that touch every metric point
/// (the batch insert and the history read).
///
/// GRDB's `execute(arguments:)` builds `StatementArguments` (an array of existentials) and binds every
/// parameter for each row; here a parameter that does not change between rows (the run id, the key) is
/// bound once, and numbers are bound and read without boxing. Use it only inside a GRDB access block, on
/// the `Database` it was prepared on; it is finalized when it goes out of scope.
struct RawStatement: ~Copyable {
    private let handle: OpaquePointer
    private let connection: OpaquePointer
    private let sql: String

    /// The destructor value that tells SQLite to copy a bound string before the call returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    init(_ db: Database, sql: String) throws {
        guard let connection = db.sqliteConnection else {
            throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "the database connection is closed", sql: sql)
        }
        var handle: OpaquePointer?
        let code = sqlite3_prepare_v2(connection, sql, -1, &handle, nil)
        guard code == SQLITE_OK, let handle else {
            throw DatabaseError(
                resultCode: ResultCode(rawValue: code),
                message: String(cString: sqlite3_errmsg(connection)),
                sql: sql
            )
        }
        self.handle = handle
        self.connection = connection
        self.sql = sql
    }

    deinit {
        sqlite3_finalize(handle)
    }

    /// Binds a string (1-based index); SQLite keeps its own copy.
    func bind(_ text: String, at index: Int32) {
        sqlite3_bind_text(handle, index, text, -1, Self.transient)
    }

    func bind(_ value: Int64, at index: Int32) {
        sqlite3_bind_int64(handle, index, value)
    }

    /// Binds a number, or NULL for `nil`.
    func bind(_ value: Double?, at index: Int32) {
        if let value {
            sqlite3_bind_double(handle, index, value)
        } else {
            sqlite3_bind_null(handle, index)
        }
    }

    /// Runs a statement that returns no rows, then resets it (bindings stay).
    func run() throws {
        let code = sqlite3_step(handle)
        sqlite3_reset(handle)
        guard code == SQLITE_DONE else { throw error(code) }
    }

    /// Rows changed by the last statement of the connection.
    var changes: Int32 { sqlite3_changes(connection) }

    /// Rewinds a statement that returned rows, so it can run again (bindings stay).
    func reset() {
        sqlite3_reset(handle)
    }

    /// Steps to the next row: `true` when there is one, `false` at the end.
    func next() throws -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let code: throw error(code)
        }
    }

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }

    /// A TEXT column (empty when it is NULL).
    func text(_ column: Int32) -> String {
        guard let bytes = sqlite3_column_text(handle, column) else { return "" }
        return String(cString: bytes)
    }

    /// A REAL column, `nil` when it is NULL.
    func double(_ column: Int32) -> Double? {
        sqlite3_column_type(handle, column) == SQLITE_NULL ? nil : sqlite3_column_double(handle, column)
    }

    private func error(_ code: Int32) -> DatabaseError {
        DatabaseError(
            resultCode: ResultCode(rawValue: code),
            message: String(cString: sqlite3_errmsg(connection)),
            sql: sql
        )
    }
}
