import Dispatch
import Foundation
import GRDB
import GRDBSQLite
import QuillCore
import Synchronization

/// What the SQLite side of `quill db copy` hands to the PostgreSQL side.
enum DbCopyEvent: Sendable {
    /// The snapshot's row counts per table and SQLite's `sqlite_sequence` (the largest id each table ever
    /// handed out, deleted rows included).
    case inventory(counts: [String: Int], sequences: [String: Int64])
    /// Rows of a table in COPY's text format (tab-separated, `\N` for NULL, one row a line).
    case rows(table: String, columns: [String], data: [UInt8], count: Int)
    /// Values of a one-column table to insert where missing (`account_names`).
    case missing(table: String, column: String, values: [String])
    /// Runs' parents, set once every run is copied.
    case parents(ids: [String], parents: [String])
}

/// Reads a SQLite store in one read transaction (a consistent snapshot, even while a server writes) on a
/// thread of its own, a few batches ahead of the PostgreSQL writes it feeds.
final class DbSnapshotReader: Sendable {
    private let path: String
    private let plans: [DbTablePlan]
    private let batch: Int
    /// The most points a chunk of `metrics` holds.
    private let chunkSize: Int
    /// Batches the reader may have handed over but the writer has not finished with. Made with 0 and
    /// signalled up: libdispatch traps when a semaphore is released below the value it was made with.
    private let permits = DispatchSemaphore(value: 0)
    private let stopped = Mutex(false)

    init(path: String, plans: [DbTablePlan], batch: Int, chunkSize: Int) {
        self.path = path
        self.plans = plans
        self.batch = batch
        self.chunkSize = max(1, chunkSize)
        for _ in 0..<3 { permits.signal() }
    }

    /// The events, read on a thread of their own; call ``consumed()`` after handling each one.
    func events() -> AsyncThrowingStream<DbCopyEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: DbCopyEvent.self)
        continuation.onTermination = { _ in self.stop() }
        DispatchQueue(label: "quill.db-copy.sqlite").async {
            do {
                try self.read { event in
                    self.permits.wait()
                    if self.stopped.withLock({ $0 }) { throw CancellationError() }
                    continuation.yield(event)
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        return stream
    }

    /// The writer is done with one event: the reader may read one more batch.
    func consumed() { permits.signal() }

    /// Stops the reader at its next batch.
    func stop() {
        stopped.withLock { $0 = true }
        permits.signal()
    }

    private func read(_ send: (DbCopyEvent) throws -> Void) throws {
        var configuration = GRDB.Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        try queue.read { db in
            var counts: [String: Int] = [:]
            for plan in plans {
                counts[plan.table.name] =
                    try Int.fetchOne(db, sql: "SELECT count(*) FROM \(DbCopyTable.quoted(plan.table.name))") ?? 0
            }
            var sequences: [String: Int64] = [:]
            if try db.tableExists("sqlite_sequence") {
                for row in try Row.fetchAll(db, sql: "SELECT name, seq FROM sqlite_sequence") {
                    let name: String = row[0]
                    let seq: Int64 = row[1]
                    sequences[name] = seq
                }
            }
            try send(.inventory(counts: counts, sequences: sequences))
            for plan in plans {
                switch plan.table.mode {
                case .copy: try copy(plan, db, send)
                case .insertMissing: try missing(plan, db, send)
                case .chunks: try chunks(plan, db, send)
                }
                if plan.table.name == "runs" { try parents(db, send) }
            }
        }
    }

    /// The `SELECT` of `plan`'s columns after `plan.resumeAfter`, in key order.
    private func selection(_ plan: DbTablePlan) throws -> (sql: String, arguments: StatementArguments) {
        let name = plan.table.name
        let keys = plan.table.key.map(DbCopyTable.quoted)
        var sql = "SELECT \(plan.columns.map { DbCopyTable.quoted($0.name) }.joined(separator: ", ")) FROM "
        sql += DbCopyTable.quoted(name)
        var arguments = StatementArguments()
        if let resume = plan.resumeAfter {
            var values: [(any DatabaseValueConvertible)?] = []
            for (text, kind) in zip(resume, plan.keyKinds) {
                if kind == .integer {
                    guard let number = Int64(text) else {
                        throw QuillError(
                            .malformed,
                            "the largest key of \(name) in PostgreSQL, '\(text)', is not a number"
                        )
                    }
                    values.append(number)
                } else {
                    values.append(text)
                }
            }
            arguments = StatementArguments(values)
            let marks = Array(repeating: "?", count: keys.count).joined(separator: ", ")
            sql +=
                keys.count == 1
                ? " WHERE \(keys[0]) > ?" : " WHERE (\(keys.joined(separator: ", "))) > (\(marks))"
        }
        sql += " ORDER BY " + keys.joined(separator: ", ")
        return (sql, arguments)
    }

    /// The rows after `plan.resumeAfter`, in key order, in batches of COPY text.
    private func copy(_ plan: DbTablePlan, _ db: Database, _ send: (DbCopyEvent) throws -> Void) throws {
        let name = plan.table.name
        let (sql, arguments) = try selection(plan)
        let statement = try db.makeStatement(sql: sql)
        let cursor = try Row.fetchCursor(statement, arguments: arguments)
        let handle = statement.sqliteStatement
        let kinds = plan.columns.map(\.kind)
        let columns = plan.columns.map(\.name)
        var data: [UInt8] = []
        data.reserveCapacity(batch * 64)
        var rows = 0
        while try cursor.next() != nil {
            for (index, kind) in kinds.enumerated() {
                if index > 0 { data.append(UInt8(ascii: "\t")) }
                try Self.encode(handle, Int32(index), kind, into: &data, table: name, column: columns[index])
            }
            data.append(UInt8(ascii: "\n"))
            rows += 1
            if rows == batch {
                try send(.rows(table: name, columns: columns, data: data, count: rows))
                data = []
                data.reserveCapacity(batch * 64)
                rows = 0
            }
        }
        if rows > 0 { try send(.rows(table: name, columns: columns, data: data, count: rows)) }
    }

    /// The points of `metrics` after `plan.resumeAfter`, in `(series, idx)` order, as rows of `metric_chunks`
    /// in COPY text: chunks of at most `chunkSize` consecutive points of one series, the batches made of whole
    /// chunks of about `batch` points (a chunk is written whole or not at all, so a copy resumes after the
    /// largest `(series, last_idx)`).
    private func chunks(_ plan: DbTablePlan, _ db: Database, _ send: (DbCopyEvent) throws -> Void) throws {
        let name = plan.table.name
        guard plan.columns.map(\.name) == DbCopyTable.pointColumns else {
            throw QuillError(
                .malformed,
                "\(name) has the columns \(plan.columns.map(\.name)), not \(DbCopyTable.pointColumns); copy it with the quill version that wrote it"
            )
        }
        let (sql, arguments) = try selection(plan)
        let statement = try db.makeStatement(sql: sql)
        let cursor = try Row.fetchCursor(statement, arguments: arguments)
        let handle = statement.sqliteStatement
        var data: [UInt8] = []
        var points = 0
        var chunk = DbChunk()
        while try cursor.next() != nil {
            let series = try Self.integer(handle, 0, table: name, column: "series")
            if chunk.count > 0, chunk.series != series || chunk.count >= chunkSize {
                chunk.write(into: &data)
                chunk = DbChunk()
                if points >= batch {
                    try send(.rows(table: name, columns: DbCopyTable.chunkColumns, data: data, count: points))
                    data = []
                    points = 0
                }
            }
            try chunk.add(
                series: series,
                index: Self.integer(handle, 1, table: name, column: "idx"),
                step: Self.integer(handle, 2, table: name, column: "step"),
                time: Self.integer(handle, 4, table: name, column: "ts"),
                value: handle,
                table: name
            )
            points += 1
        }
        if chunk.count > 0 { chunk.write(into: &data) }
        if points > 0 { try send(.rows(table: name, columns: DbCopyTable.chunkColumns, data: data, count: points)) }
    }

    /// The integer in column `index` of the current row (a float only when it is a whole number).
    static func integer(_ statement: OpaquePointer, _ index: Int32, table: String, column: String) throws -> Int64 {
        switch sqlite3_column_type(statement, index) {
        case SQLITE_INTEGER:
            return sqlite3_column_int64(statement, index)
        case SQLITE_FLOAT:
            let value = sqlite3_column_double(statement, index)
            if value == value.rounded(), abs(value) < 9.2e18 { return Int64(value) }
        default:
            break
        }
        throw QuillError(
            .malformed,
            "\(table).\(column) holds a value that is not an integer; repair the SQLite store first"
        )
    }

    /// Every value of a one-column table (`account_names`), in batches.
    private func missing(_ plan: DbTablePlan, _ db: Database, _ send: (DbCopyEvent) throws -> Void) throws {
        guard let column = plan.columns.first?.name, plan.columns.count == 1 else {
            throw QuillError(.malformed, "\(plan.table.name) has more than one column; this quill cannot copy it")
        }
        let cursor = try String.fetchCursor(
            db,
            sql: "SELECT \(DbCopyTable.quoted(column)) FROM \(DbCopyTable.quoted(plan.table.name)) ORDER BY 1"
        )
        var values: [String] = []
        while let value = try cursor.next() {
            values.append(value)
            if values.count == batch {
                try send(.missing(table: plan.table.name, column: column, values: values))
                values = []
            }
        }
        if !values.isEmpty { try send(.missing(table: plan.table.name, column: column, values: values)) }
    }

    /// Every run's parent, in batches.
    private func parents(_ db: Database, _ send: (DbCopyEvent) throws -> Void) throws {
        let cursor = try Row.fetchCursor(
            db,
            sql: "SELECT id, parent_id FROM runs WHERE parent_id IS NOT NULL ORDER BY id"
        )
        var ids: [String] = []
        var parents: [String] = []
        while let row = try cursor.next() {
            ids.append(row[0])
            parents.append(row[1])
            if ids.count == batch {
                try send(.parents(ids: ids, parents: parents))
                ids = []
                parents = []
            }
        }
        if !ids.isEmpty { try send(.parents(ids: ids, parents: parents)) }
    }

    // MARK: COPY's text format

    /// Appends one value of the current row in COPY's text format: `\N` for NULL (NaN is NULL on both
    /// stores), `t`/`f` for a boolean column's 0/1, `Infinity`/`-Infinity`, shortest round-trip decimals,
    /// text with `\\`, `\n`, `\r` and `\t` escaped.
    static func encode(
        _ statement: OpaquePointer,
        _ index: Int32,
        _ kind: DbColumnKind,
        into data: inout [UInt8],
        table: String,
        column: String
    ) throws {
        switch sqlite3_column_type(statement, index) {
        case SQLITE_NULL:
            data.append(UInt8(ascii: "\\"))
            data.append(UInt8(ascii: "N"))
        case SQLITE_INTEGER:
            let value = sqlite3_column_int64(statement, index)
            if kind == .boolean {
                data.append(UInt8(ascii: value == 0 ? "f" : "t"))
            } else {
                appendInteger(value, to: &data)
            }
        case SQLITE_FLOAT:
            let value = sqlite3_column_double(statement, index)
            if value.isNaN {
                data.append(UInt8(ascii: "\\"))
                data.append(UInt8(ascii: "N"))
            } else if kind == .integer, value == value.rounded(), abs(value) < 9.2e18 {
                appendInteger(Int64(value), to: &data)
            } else if value.isInfinite {
                data.append(contentsOf: (value > 0 ? "Infinity" : "-Infinity").utf8)
            } else {
                data.append(contentsOf: value.description.utf8)
            }
        case SQLITE_TEXT, SQLITE_BLOB:
            guard kind == .text || sqlite3_column_type(statement, index) == SQLITE_TEXT else {
                throw QuillError(
                    .malformed,
                    "\(table).\(column) holds bytes where PostgreSQL expects a \(kind); repair the SQLite store first"
                )
            }
            let count = Int(sqlite3_column_bytes(statement, index))
            guard count > 0 else { return }
            let raw =
                sqlite3_column_type(statement, index) == SQLITE_TEXT
                ? UnsafeRawPointer(sqlite3_column_text(statement, index)) : sqlite3_column_blob(statement, index)
            guard let raw else { return }
            for byte in UnsafeRawBufferPointer(start: raw, count: count) {
                switch byte {
                case UInt8(ascii: "\\"): data.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
                case UInt8(ascii: "\n"): data.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
                case UInt8(ascii: "\r"): data.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
                case UInt8(ascii: "\t"): data.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
                default: data.append(byte)
                }
            }
        default:
            throw QuillError(.malformed, "\(table).\(column) holds a value of an unknown SQLite type")
        }
    }

    /// Appends the decimal digits of `value` (a small string: no allocation).
    static func appendInteger(_ value: Int64, to data: inout [UInt8]) {
        data.append(contentsOf: String(value).utf8)
    }
}

/// One chunk of metric points being built by ``DbSnapshotReader``: its bounds and its four arrays as the
/// elements of PostgreSQL array literals (`{1,2}`; `NULL` for a NaN value).
struct DbChunk {
    private(set) var series: Int64 = 0
    private(set) var count = 0
    private var first: Int64 = 0
    private var last: Int64 = 0
    private var minStep: Int64 = 0
    private var maxStep: Int64 = 0
    private var indexes: [UInt8] = []
    private var steps: [UInt8] = []
    private var values: [UInt8] = []
    private var times: [UInt8] = []

    /// Adds the current row's point (its value read from column 3 of `statement`), after the last one.
    mutating func add(
        series: Int64,
        index: Int64,
        step: Int64,
        time: Int64,
        value statement: OpaquePointer,
        table: String
    ) throws {
        if count == 0 {
            self.series = series
            first = index
            minStep = step
            maxStep = step
        } else {
            indexes.append(UInt8(ascii: ","))
            steps.append(UInt8(ascii: ","))
            values.append(UInt8(ascii: ","))
            times.append(UInt8(ascii: ","))
        }
        last = index
        minStep = min(minStep, step)
        maxStep = max(maxStep, step)
        DbSnapshotReader.appendInteger(index, to: &indexes)
        DbSnapshotReader.appendInteger(step, to: &steps)
        DbSnapshotReader.appendInteger(time, to: &times)
        switch sqlite3_column_type(statement, 3) {
        case SQLITE_NULL:
            values.append(contentsOf: "NULL".utf8)
        case SQLITE_INTEGER:
            DbSnapshotReader.appendInteger(sqlite3_column_int64(statement, 3), to: &values)
        case SQLITE_FLOAT:
            let value = sqlite3_column_double(statement, 3)
            if value.isNaN {
                values.append(contentsOf: "NULL".utf8)
            } else if value.isInfinite {
                values.append(contentsOf: (value > 0 ? "Infinity" : "-Infinity").utf8)
            } else {
                values.append(contentsOf: value.description.utf8)
            }
        default:
            throw QuillError(
                .malformed,
                "\(table).value holds a value that is not a number; repair the SQLite store first"
            )
        }
        count += 1
    }

    /// Appends the chunk as one line of COPY text in the order of ``DbCopyTable/chunkColumns``.
    func write(into data: inout [UInt8]) {
        for number in [series, first, last, minStep, maxStep, Int64(count)] {
            DbSnapshotReader.appendInteger(number, to: &data)
            data.append(UInt8(ascii: "\t"))
        }
        for (offset, array) in [indexes, steps, values, times].enumerated() {
            if offset > 0 { data.append(UInt8(ascii: "\t")) }
            data.append(UInt8(ascii: "{"))
            data.append(contentsOf: array)
            data.append(UInt8(ascii: "}"))
        }
        data.append(UInt8(ascii: "\n"))
    }
}
