import Foundation
import PostgresNIO
import QuillCore
import QuillStore

// Running the search's SQL (``SearchPlan``, ``SearchQueryTranslator``: made once for both stores) on
// PostgreSQL: binding its neutral values, reading runs and their details.

extension SQLFragment {
    /// The fragment as PostgresNIO runs it: `$n` placeholders, each value bound with its type.
    var postgresQuery: PostgresQuery {
        var binds = PostgresBindings(capacity: arguments.count)
        for argument in arguments {
            switch argument {
            case .null: binds.appendNull()
            case .integer(let number): binds.append(number)
            case .real(let number): binds.append(number)
            case .text(let text): binds.append(text)
            }
        }
        return PostgresQuery(unsafeSQL: text(for: .postgres), binds: binds)
    }
}

/// The reads of a search on PostgreSQL.
enum PostgresSearch {
    /// The columns of `runs r` a search reads.
    static let runColumns = PostgresStore.runColumns(table: "r")

    /// The run of a row that starts with ``runColumns``.
    static func run(_ row: PostgresRandomAccessRow) throws -> RunRow {
        try PostgresStore.runRow(row)
    }

    /// The params and tags of runs, by run id.
    static func paramsAndTags(
        _ ids: [String],
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> (params: [String: [String: JSONValue]], tags: [String: [String: String]]) {
        var params: [String: [String: JSONValue]] = [:]
        let paramRows = try await connection.query(
            "SELECT run_id, key, value FROM params WHERE run_id = ANY(\(ids))",
            logger: logger
        )
        for try await (run, key, value) in paramRows.decode((String, String, String).self) {
            params[run, default: [:]][key] = RunRow.json(value) ?? .null
        }
        var tags: [String: [String: String]] = [:]
        let tagRows = try await connection.query(
            "SELECT run_id, key, value FROM tags WHERE run_id = ANY(\(ids))",
            logger: logger
        )
        for try await (run, key, value) in tagRows.decode((String, String, String).self) {
            tags[run, default: [:]][key] = value
        }
        return (params, tags)
    }

    /// Writes the `search_fields` rows (``SearchFieldRow``) of the runs `select` reads (``runColumns``), whose
    /// rows must be gone; returns the last run's id, `nil` when `select` read none.
    @discardableResult
    static func index(_ select: SQLFragment, on connection: PostgresConnection, logger: Logger) async throws -> String?
    {
        var runs: [RunRow] = []
        for try await row in try await connection.query(select.postgresQuery, logger: logger) {
            runs.append(try run(row.makeRandomAccess()))
        }
        guard let last = runs.last else { return nil }
        let (params, tags) = try await paramsAndTags(runs.map(\.id), on: connection, logger: logger)
        var values: [SQLValue] = []
        // 11 parameters a row: at most 5,000 rows a statement, below PostgreSQL's 65,535 parameters.
        func flush() async throws {
            guard !values.isEmpty else { return }
            let row = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            let sql =
                "INSERT INTO search_fields (run_id, field, key, kind, isnum, num, txt, raw, tm, json, started_at) VALUES "
                + Array(repeating: row, count: values.count / 11).joined(separator: ", ")
            try await connection.query(SQLFragment(sql, values).postgresQuery, logger: logger)
            values.removeAll(keepingCapacity: true)
        }
        for columns in runs {
            let id = columns.id
            for row in SearchFieldRow.rows(run: try columns.stored(), params: params[id] ?? [:], tags: tags[id] ?? [:])
            {
                values += [
                    .text(id), .integer(Int64(row.field)), .text(row.key), .integer(Int64(row.kind)),
                    .integer(row.isNumber ? 1 : 0), row.number.map(SQLValue.real) ?? .null, .text(row.text),
                    row.raw.map(SQLValue.text) ?? .null, row.time.map(SQLValue.integer) ?? .null, .text(row.json),
                    .integer(columns.startedAt),
                ]
                if values.count >= 5000 * 11 { try await flush() }
            }
        }
        try await flush()
        return last.id
    }
}
