import Foundation
import GRDB
import QuillCore
import QuillStore

/// Reads an MLflow SQLite database (`sqlite:///mlflow.db`), read-only, through GRDB: the tables `experiments`,
/// `experiment_tags`, `runs`, `params`, `tags` and `metrics` of MLflow's SQLAlchemy store (MLflow 3's schema;
/// older schemas have the same columns). Metric points come in the order MLflow's `get_metric_history` returns
/// them (timestamp, step, value); NaN is stored as `is_nan` and read back as NaN; MLflow keeps infinities as
/// ±1.7976931348623157e308 and they are imported as MLflow returns them. Artifacts are read from each run's
/// `artifact_uri` when it is a local path or `file:` URI.
package struct MLflowDatabaseReader: ImportSource {
    /// The database file.
    package let path: String
    private let database: DatabaseQueue

    /// Opens the database at `path` (a file path, or a `sqlite:///` URI as MLflow takes it: three slashes and
    /// the path, so `sqlite:////abs/mlflow.db` is absolute).
    ///
    /// - Throws: ``QuillError`` (`invalid_argument`) when the file is missing or is not an MLflow database.
    package init(path: String) throws {
        let file = Self.filePath(path)
        self.path = file
        guard FileManager.default.fileExists(atPath: file) else {
            throw QuillError(
                .invalidArgument,
                "no MLflow database at \(file); pass the file `mlflow server --backend-store-uri` names"
            )
        }
        var configuration = Configuration()
        configuration.readonly = true
        do {
            database = try DatabaseQueue(path: file, configuration: configuration)
            let tables = try database.read { db in
                try String.fetchSet(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
            }
            guard ["experiments", "runs", "metrics", "params", "tags"].allSatisfy(tables.contains) else {
                throw QuillError(
                    .invalidArgument,
                    "\(file) is a SQLite file but not an MLflow database (no experiments/runs tables)"
                )
            }
        } catch let error as QuillError {
            throw error
        } catch {
            throw QuillError(
                .invalidArgument,
                "\(file) is neither an MLflow file store nor an MLflow SQLite database; pass an mlruns folder or a .db file",
                underlying: error
            )
        }
    }

    /// The file a `sqlite:` URI or a path names.
    static func filePath(_ text: String) -> String {
        if text.hasPrefix("sqlite:///") { return String(text.dropFirst("sqlite:///".count)) }
        if text.hasPrefix("sqlite:") { return String(text.dropFirst("sqlite:".count)) }
        return text
    }

    /// Whether the file starts with SQLite's header.
    package static func isDatabase(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: filePath(path)) else { return false }
        defer { try? handle.close() }
        let header = (try? handle.read(upToCount: 16)) ?? Data()
        return header == Data("SQLite format 3\0".utf8)
    }

    package var location: String { path }

    /// An id column's value as text (integers as decimals).
    private static func text(_ value: DatabaseValue) -> String {
        switch value.storage {
        case .int64(let number): String(number)
        case .string(let text): text
        case .double(let number): String(Int64(exactly: number) ?? 0)
        case .blob, .null: ""
        }
    }

    package func experiments() throws -> [ImportedExperiment] {
        try database.read { db in
            var tags: [String: [String: String]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT experiment_id, key, value FROM experiment_tags") {
                let id = Self.text(row["experiment_id"])
                if let key = row["key"] as String? { tags[id, default: [:]][key] = row["value"] as String? ?? "" }
            }
            return try Row.fetchAll(
                db,
                sql: "SELECT experiment_id, name, lifecycle_stage FROM experiments ORDER BY experiment_id"
            ).map { row in
                let id = Self.text(row["experiment_id"])
                return ImportedExperiment(
                    sourceID: id,
                    name: row["name"] as String? ?? id,
                    tags: tags[id] ?? [:],
                    deleted: (row["lifecycle_stage"] as String?) == "deleted"
                )
            }
        }
    }

    package func runs() throws -> [ImportedRun] {
        try database.read { db in
            var params: [String: [String: JSONValue]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT run_uuid, key, value FROM params") {
                guard let run = row["run_uuid"] as String?, let key = row["key"] as String? else { continue }
                params[run, default: [:]][key] = .string(row["value"] as String? ?? "")
            }
            var tags: [String: [String: String]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT run_uuid, key, value FROM tags") {
                guard let run = row["run_uuid"] as String?, let key = row["key"] as String? else { continue }
                tags[run, default: [:]][key] = row["value"] as String? ?? ""
            }
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT run_uuid, name, user_id, status, start_time, end_time, lifecycle_stage, artifact_uri,
                        experiment_id
                    FROM runs ORDER BY start_time, run_uuid
                    """
            )
            return rows.compactMap { row -> ImportedRun? in
                guard let text = row["run_uuid"] as String?, let id = RunID(text) else { return nil }
                var run = ImportedRun(id: id, experimentID: Self.text(row["experiment_id"]))
                run.tags = tags[text] ?? [:]
                run.params = params[text] ?? [:]
                run.name = MLflowMapping.runName(stored: row["name"], tags: run.tags)
                run.status = MLflowMapping.status(row["status"])
                run.startedAt = MLflowMapping.date(milliseconds: row["start_time"])
                run.endedAt = MLflowMapping.date(milliseconds: row["end_time"])
                run.user = row["user_id"]
                run.parent = MLflowMapping.parent(tags: run.tags)
                run.deleted = (row["lifecycle_stage"] as String?) == "deleted"
                run.artifactLocation = row["artifact_uri"]
                return run
            }
        }
    }

    package func metrics(of run: ImportedRun) throws -> [ImportedSeries] {
        try database.read { db in
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT key, value, timestamp, step, is_nan FROM metrics WHERE run_uuid = ?
                    ORDER BY key, timestamp, step, value, is_nan
                    """,
                arguments: [run.id.rawValue]
            )
            var series: [ImportedSeries] = []
            while let row = try rows.next() {
                let key: String = row["key"] ?? ""
                if series.last?.key != key { series.append(ImportedSeries(key: key, points: [])) }
                let isNaN: Bool = row["is_nan"] ?? false
                let value: Double = isNaN ? .nan : row["value"] ?? .nan
                let milliseconds: Int64 = row["timestamp"] ?? 0
                let step: Int64 = row["step"] ?? 0
                let index = series[series.count - 1].points.count
                series[series.count - 1].points.append(
                    MetricValue(
                        key: key,
                        value: value,
                        step: Int(step),
                        timestamp: MLflowMapping.date(milliseconds: milliseconds) ?? Date(timeIntervalSince1970: 0),
                        index: index
                    )
                )
            }
            return series
        }
    }

    package func artifacts(of run: ImportedRun) throws -> ArtifactListing {
        MLflowMapping.listing(uri: run.artifactLocation, fallback: nil)
    }
}
