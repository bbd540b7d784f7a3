import Foundation
import GRDB
import QuillCore
import QuillStore

/// The `search_fields` table of SQLite: its schema and indexes, and the writes of its rows, which
/// ``SearchFieldRow`` computes (the same rows on every store).
///
/// Every write that changes a run's record, params, tags or summary calls ``refresh(_:runID:)`` in the same
/// transaction; deleting a run deletes its rows (foreign key cascade).
enum SearchIndex {
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
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO search_fields (run_id, field, key, kind, isnum, num, txt, raw, tm, json, started_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        )
        for row in SearchFieldRow.rows(run: run, params: params, tags: tags) {
            try statement.execute(arguments: [
                runID, row.field, row.key, row.kind, row.isNumber, row.number, row.text, row.raw, row.time, row.json,
                startedAt,
            ])
        }
    }
}
