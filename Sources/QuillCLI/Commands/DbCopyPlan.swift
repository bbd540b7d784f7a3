import Foundation

/// What `quill db copy` copies: every table of the SQLite store, in an order where a row's foreign keys point
/// at rows already copied, each read in the order of its primary key (so a copy that stopped resumes after the
/// largest key PostgreSQL already holds).
///
/// PostgreSQL's schema (`PostgresMigrations`) has the same tables and columns as SQLite's; the columns
/// themselves are read from both databases at run time and must agree.
struct DbCopyTable: Sendable, Hashable {
    /// How the rows go into PostgreSQL.
    enum Mode: Sendable, Hashable {
        /// `COPY … FROM STDIN` in batches, resuming after the largest key present.
        case copy
        /// `INSERT … ON CONFLICT DO NOTHING` of every row, each time: rows PostgreSQL's triggers also write
        /// (`account_names`, filled when users and organizations are inserted).
        case insertMissing
        /// SQLite's `metrics` (one row per point, key `(series, idx)`) into PostgreSQL's `metric_chunks`: the
        /// points of a series in index order, cut into chunks of at most `PostgresStore.metricChunkMaximum`
        /// points, each a row of arrays, with `COPY … FROM STDIN` in batches of whole chunks; a copy resumes after
        /// the largest `(series, last_idx)` present.
        case chunks
    }

    /// The table's name, the same in both databases.
    let name: String
    /// The primary key's columns: the order rows are read and resumed in.
    let key: [String]
    /// How the rows are written.
    var mode = Mode.copy

    /// The PostgreSQL table the rows go into: `name`, but `metric_chunks` for the chunks of `metrics`.
    var target: String { mode == .chunks ? Self.chunkTable : name }

    /// Every table but `server_identity` (compared and set before the copy), in foreign-key order.
    static let all: [DbCopyTable] = [
        DbCopyTable(name: "projects", key: ["id"]),
        DbCopyTable(name: "project_tags", key: ["project_id", "key"]),
        // `parent_id` (a run's own table) is copied as NULL and set once every run is there.
        DbCopyTable(name: "runs", key: ["id"]),
        DbCopyTable(name: "params", key: ["run_id", "key"]),
        DbCopyTable(name: "tags", key: ["run_id", "key"]),
        DbCopyTable(name: "links", key: ["id"]),
        DbCopyTable(name: "metric_series", key: ["id"]),
        DbCopyTable(name: "metrics", key: ["series", "idx"], mode: .chunks),
        DbCopyTable(name: "metric_blocks", key: ["series", "block"]),
        DbCopyTable(name: "metric_stats", key: ["run_id", "key"]),
        DbCopyTable(name: "logs", key: ["id"]),
        DbCopyTable(name: "search_fields", key: ["run_id", "field", "key"]),
        DbCopyTable(name: "users", key: ["id"]),
        DbCopyTable(name: "organizations", key: ["id"]),
        DbCopyTable(name: "account_names", key: ["name"], mode: .insertMissing),
        DbCopyTable(name: "memberships", key: ["organization_id", "user_id"]),
        DbCopyTable(name: "api_keys", key: ["id"]),
        DbCopyTable(name: "sessions", key: ["token_hash"]),
        DbCopyTable(name: "artifacts", key: ["run_id", "path"]),
        DbCopyTable(name: "released_blobs", key: ["namespace", "sha256"]),
        DbCopyTable(name: "jobs", key: ["id"]),
        DbCopyTable(name: "job_attempts", key: ["job_id", "number"]),
        DbCopyTable(name: "devices", key: ["name"]),
        DbCopyTable(name: "remote_artifact_requests", key: ["id"]),
    ]

    /// PostgreSQL's table of metric points (migration "v6"), a row per chunk of points.
    static let chunkTable = "metric_chunks"

    /// The columns of SQLite's `metrics`, read in this order for the chunks.
    static let pointColumns = ["series", "idx", "step", "value", "ts"]

    /// The columns of `metric_chunks`, in the order the chunks are written.
    static let chunkColumns = [
        "series", "first_idx", "last_idx", "min_step", "max_step", "count", "idx", "step", "value", "ts",
    ]

    /// The table holding the store's identity, one row.
    static let identity = "server_identity"

    /// SQLite's own tables, never copied.
    static let skipped: Set<String> = ["grdb_migrations", "sqlite_sequence"]

    /// The column of `runs` set after the copy (it points into `runs` itself).
    static let deferredParent = "parent_id"

    /// The SQL for a quoted identifier (`"user"`: `user` is a reserved word in PostgreSQL).
    static func quoted(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// How a PostgreSQL column's values are written in COPY's text format.
enum DbColumnKind: Sendable, Hashable {
    case integer
    case double
    case boolean
    case text

    /// The kind of a PostgreSQL `information_schema.columns.data_type`.
    init(postgresType: String) {
        switch postgresType {
        case "bigint", "integer", "smallint": self = .integer
        case "double precision", "real", "numeric": self = .double
        case "boolean": self = .boolean
        default: self = .text
        }
    }
}

/// A column as both databases have it.
struct DbColumn: Sendable, Hashable {
    let name: String
    let kind: DbColumnKind
}

/// Where the copy of one table resumes, and how its columns are written: decided from PostgreSQL before
/// the SQLite snapshot is read.
struct DbTablePlan: Sendable {
    let table: DbCopyTable
    /// The columns copied, in SQLite's order (`runs.parent_id` left out: set afterwards).
    let columns: [DbColumn]
    /// The kinds of the key's columns.
    let keyKinds: [DbColumnKind]
    /// The largest key PostgreSQL already holds, as text (nil: start at the beginning); for the chunks of
    /// `metrics`, the largest `(series, last_idx)`.
    let resumeAfter: [String]?
}
