import Foundation
import GRDB
import QuillCore
import QuillStore

/// The `search_fields` table: every attribute, param (config merged with params), tag and summary value of
/// each run, exactly as ``QueryableRun`` sees it, one row per value, so searches compare and sort in SQL.
///
/// Each row is computed in Swift from the run's ``RunDetails/queryable`` (the same values the in-memory
/// evaluation of ``RunQuery`` looks at) and carries what the query language's comparisons need:
/// - `kind`: 0 null, 1 false, 2 true, 3 text, 4 any other value (number, array, object);
/// - `isnum`: whether the value reads as a number (`QueryComparison.number`), NaN included;
/// - `num`: that number, NULL for NaN (SQLite has no NaN) and for non-numbers;
/// - `txt`: the value's text (`QueryComparison.text`) in Unicode NFC, so byte order and equality in SQLite
///   are Swift's `String` order and equality;
/// - `raw`: the text as it is when NFC changed it (glob matching works on the text as it is), else NULL;
/// - `tm`: for `created`, the time in microseconds;
/// - `json`: the value as JSON, for comparisons evaluated in Swift (see ``SQLiteQueryTranslator``);
/// - `started_at`: a copy of the run's, so the indexes serve a sort's ties (newest first) too.
///
/// Every write that changes a run's record, params, tags or summary calls ``refresh(_:runID:)`` in the same
/// transaction; deleting a run deletes its rows (foreign key cascade).
enum SearchIndex {
    /// Field codes of the `field` column.
    enum FieldCode {
        static let attribute = 0
        static let param = 1
        static let tag = 2
        static let summary = 3
    }

    /// Creates the table and the indexes searches use, then fills the table from the existing runs.
    static func migrate(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE search_fields (
                    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    field INTEGER NOT NULL,
                    key TEXT NOT NULL,
                    kind INTEGER NOT NULL,
                    isnum INTEGER NOT NULL,
                    num REAL,
                    txt TEXT NOT NULL,
                    raw TEXT,
                    tm INTEGER,
                    json TEXT NOT NULL,
                    started_at INTEGER NOT NULL,
                    PRIMARY KEY (run_id, field, key)
                ) WITHOUT ROWID;
                CREATE INDEX search_fields_by_number ON search_fields (field, key, isnum, num, started_at DESC, run_id DESC);
                CREATE INDEX search_fields_by_number_desc
                    ON search_fields (field, key, isnum, num DESC, started_at DESC, run_id DESC);
                CREATE INDEX search_fields_by_text ON search_fields (field, key, isnum, txt, started_at DESC, run_id DESC);
                CREATE INDEX search_fields_by_text_desc
                    ON search_fields (field, key, isnum, txt DESC, started_at DESC, run_id DESC);
                CREATE INDEX runs_by_start ON runs (started_at DESC, id DESC);
                CREATE INDEX metric_stats_by_last ON metric_stats (key, last_value);
                CREATE INDEX metric_stats_by_min ON metric_stats (key, min_value);
                CREATE INDEX metric_stats_by_max ON metric_stats (key, max_value);
                CREATE INDEX metric_stats_by_count ON metric_stats (key, count);
                """
        )
        try rebuild(db)
    }

    /// Recomputes the rows of every run (the migration's backfill, and bulk imports).
    static func rebuild(_ db: Database) throws {
        try db.execute(sql: "DELETE FROM search_fields")
        var params: [String: [String: JSONValue]] = [:]
        let paramRows = try ParamRecord.fetchCursor(db)
        while let param = try paramRows.next() {
            params[param.runID, default: [:]][param.key] = param.json
        }
        var tags: [String: [String: String]] = [:]
        let tagRows = try TagRecord.fetchCursor(db)
        while let tag = try tagRows.next() {
            tags[tag.runID, default: [:]][tag.key] = tag.value
        }
        for record in try RunRecord.fetchAll(db) {
            try insert(
                db,
                run: try record.stored(),
                startedAt: record.startedAt,
                params: params[record.id] ?? [:],
                tags: tags[record.id] ?? [:]
            )
        }
    }

    /// Recomputes the rows of one run, after a write that changed it.
    static func refresh(_ db: Database, runID: String) throws {
        try db.execute(sql: "DELETE FROM search_fields WHERE run_id = ?", arguments: [runID])
        guard let record = try RunRecord.fetchOne(db, key: runID) else { return }
        var params: [String: JSONValue] = [:]
        for param in try ParamRecord.filter(ParamRecord.Columns.runID == runID).fetchAll(db) {
            params[param.key] = param.json
        }
        var tags: [String: String] = [:]
        for tag in try TagRecord.filter(TagRecord.Columns.runID == runID).fetchAll(db) {
            tags[tag.key] = tag.value
        }
        try insert(db, run: try record.stored(), startedAt: record.startedAt, params: params, tags: tags)
    }

    private static func insert(
        _ db: Database,
        run: StoredRun,
        startedAt: Int64,
        params: [String: JSONValue],
        tags: [String: String]
    ) throws {
        let runID = run.id.rawValue
        let values = RunDetails(run: run, params: params, tags: tags, links: [], metrics: [:]).queryable
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO search_fields (run_id, field, key, kind, isnum, num, txt, raw, tm, json, started_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        )
        func add(_ field: Int, _ key: String, _ value: JSONValue) throws {
            let number = QueryComparison.number(value)
            let text = QueryComparison.text(value)
            let normalized = normalize(text)
            let time: Int64? =
                field == FieldCode.attribute && key == "created" ? Timestamp.parseMicroseconds(Array(text.utf8)) : nil
            try statement.execute(arguments: [
                runID, field, key, kind(of: value), number != nil, number.flatMap { $0.isNaN ? nil : $0 },
                normalized, normalized.utf8.elementsEqual(text.utf8) ? nil : text, time, JSONWriter.string(value),
                startedAt,
            ])
        }
        for (key, value) in values.attributes { try add(FieldCode.attribute, key, value) }
        for (key, value) in values.params { try add(FieldCode.param, key, value) }
        for (key, value) in values.tags { try add(FieldCode.tag, key, .string(value)) }
        for (key, value) in values.summary { try add(FieldCode.summary, key, value) }
    }

    /// The `kind` column for a value.
    static func kind(of value: JSONValue) -> Int {
        switch value {
        case .null: 0
        case .bool(let flag): flag ? 2 : 1
        case .string: 3
        case .int, .double, .array, .object: 4
        }
    }

    /// Text in Unicode NFC: Swift compares strings by canonical equivalence, in the order of their NFC
    /// scalars, which is the byte order of NFC UTF-8.
    static func normalize(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return text }
        return text.precomposedStringWithCanonicalMapping
    }
}
