import Foundation
import GRDB
import QuillStoreSQLite

/// Makes a database as an older version of Quill had it, holding the data of a current one: the schema
/// after an older migration, filled row by row from the current database (points and blocks keyed by run id
/// and key text, as they were before migration "v12: metric points keyed by series"). Opening the copy with
/// `SQLiteTrackingStore` then runs the later migrations on real data.
enum OlderDatabase {
    static func copy(_ source: String, to path: String, migratedUpTo identifier: String) throws {
        try SQLiteTrackingStore.createDatabase(path: path, migratedUpTo: identifier)
        var configuration = Configuration()
        // Tables are copied in name order, children before their parents.
        configuration.foreignKeysEnabled = false
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: "ATTACH DATABASE ? AS current", arguments: [source])
            try db.inTransaction {
                let tables = try String.fetchAll(
                    db,
                    sql: """
                        SELECT name FROM main.sqlite_master
                        WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'grdb_migrations'
                        ORDER BY name
                        """
                )
                for table in tables {
                    try db.execute(sql: "DELETE FROM main.\(table)")
                    switch table {
                    case "metrics":
                        try db.execute(
                            sql: """
                                INSERT INTO main.metrics (run_id, key, idx, step, value, ts)
                                SELECT s.run_id, s.key, m.idx, m.step, m.value, m.ts
                                FROM current.metrics m JOIN current.metric_series s ON s.id = m.series
                                """
                        )
                    case "metric_blocks":
                        let columns = """
                            block, count, min_idx, min_step, min_value, min_ts, max_idx, max_step, max_value, max_ts,
                            first_idx, last_idx
                            """
                        let selected = columns.split(separator: ",").map {
                            "b." + $0.trimmingCharacters(in: .whitespacesAndNewlines)
                        }
                        try db.execute(
                            sql: """
                                INSERT INTO main.metric_blocks (run_id, key, \(columns))
                                SELECT s.run_id, s.key, \(selected.joined(separator: ", "))
                                FROM current.metric_blocks b JOIN current.metric_series s ON s.id = b.series
                                """
                        )
                    default:
                        let old = try Row.fetchAll(db, sql: "PRAGMA main.table_info(\(table))").map {
                            $0["name"] as String
                        }
                        let new = Set(
                            try Row.fetchAll(db, sql: "PRAGMA current.table_info(\(table))").map {
                                $0["name"] as String
                            }
                        )
                        let columns = old.filter(new.contains).joined(separator: ", ")
                        guard !columns.isEmpty else { continue }
                        try db.execute(
                            sql: "INSERT INTO main.\(table) (\(columns)) SELECT \(columns) FROM current.\(table)"
                        )
                    }
                }
                return .commit
            }
            try db.execute(sql: "DETACH DATABASE current")
        }
        try queue.close()
    }
}
