import Foundation
import GRDB

/// Migration "v15: queued runs": the `runs` table's status check also allows `queued` (the run of a job that
/// waits for a worker).
///
/// SQLite cannot alter a CHECK constraint, so the table is rebuilt as SQLite's documented procedure does it:
/// a copy with the new check (the table's current definition, so columns added by earlier migrations stay),
/// every row copied with its rowid, the old table dropped, the copy renamed, and the table's indexes and
/// the schema's triggers and views made again. Triggers and views are dropped first because renaming the copy
/// re-checks every one of them, and some (the artifact triggers) name `runs`, which is missing meanwhile.
/// Foreign keys are off during migrations and checked at the end (GRDB's deferred checks), so the tables that
/// reference `runs(id)` keep their rows.
enum QueuedRunSchema {
    static let oldCheck = "CHECK (status IN ('running', 'completed', 'failed', 'crashed', 'killed'))"
    static let newCheck = "CHECK (status IN ('queued', 'running', 'completed', 'failed', 'crashed', 'killed'))"

    static func migrate(_ db: Database) throws {
        guard
            let definition = try String.fetchOne(
                db,
                sql: "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'runs'"
            ),
            definition.contains(oldCheck), let nameRange = definition.range(of: "CREATE TABLE runs")
        else {
            throw DatabaseError(message: "v15: the runs table does not have the status check this migration replaces")
        }
        let copy =
            definition.replacingCharacters(in: nameRange, with: "CREATE TABLE runs_v15")
            .replacingOccurrences(of: oldCheck, with: newCheck)
        let dependents = try Row.fetchAll(
            db,
            sql: """
                SELECT type, name, sql FROM sqlite_master
                WHERE sql IS NOT NULL AND (type IN ('trigger', 'view') OR (type = 'index' AND tbl_name = 'runs'))
                ORDER BY CASE type WHEN 'index' THEN 0 WHEN 'view' THEN 1 ELSE 2 END, name
                """
        )
        for row in dependents where (row["type"] as String) != "index" {
            let type: String = row["type"]
            let name: String = row["name"]
            try db.execute(sql: "DROP \(type == "view" ? "VIEW" : "TRIGGER") \(name.quotedDatabaseIdentifier)")
        }
        let columns = try db.columns(in: "runs").map(\.name.quotedDatabaseIdentifier).joined(separator: ", ")
        try db.execute(sql: copy)
        try db.execute(sql: "INSERT INTO runs_v15 (rowid, \(columns)) SELECT rowid, \(columns) FROM runs")
        try db.execute(sql: "DROP TABLE runs")
        try db.execute(sql: "ALTER TABLE runs_v15 RENAME TO runs")
        for row in dependents {
            let sql: String = row["sql"]
            try db.execute(sql: sql)
        }
    }
}
