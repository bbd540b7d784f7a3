import ArgumentParser
import Foundation
import GRDB
import PostgresNIO
import QuillCore
import QuillStore
import QuillStorePostgres

/// `quill db copy --from sqlite:PATH --to postgres://…`: a whole SQLite store into PostgreSQL, table by table.
///
/// The rows move at the SQL level: each table of the SQLite file (read-only, one read transaction: a
/// consistent snapshot) goes into the PostgreSQL table of the same name and columns with `COPY … FROM STDIN`,
/// in batches committed one by one, in foreign-key order and primary-key order; SQLite's `metrics` (a row per
/// point) goes into `metric_chunks` (a row per chunk of up to 1,024 points of a series). A copy that stopped (killed,
/// the network lost) resumes where it stopped when run again: each table continues after the largest key
/// PostgreSQL holds, so nothing is copied twice. Afterwards every identity sequence is set past the copied ids
/// and the row counts of both databases are compared table by table.
///
/// The PostgreSQL store runs as a service around the copy (``DbService``): it brings the schema up to date
/// first, and the copy's statements go through its pool.
struct DbCopyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy a whole SQLite store into an empty PostgreSQL database.",
        discussion: """
            Copies runs, metrics, logs, params, tags, links, the search index, users, organizations, API keys \
            (hashed), sessions, artifact records, jobs, devices and remote artifact requests, keeping every id. \
            Run it again after an interruption: it continues where it stopped and never copies a row twice. \
            The artifact bytes stay in the data folder: start `quill serve --store postgres://… --data DIR` \
            on the same folder (or a copy of it). Stop the server on the SQLite store first: writes made \
            during the copy are not copied.
            """
    )

    @Option(name: .customLong("from"), help: ArgumentHelp("The SQLite store: sqlite:PATH or a path.", valueName: "url"))
    var source: String

    @Option(
        name: .customLong("to"),
        help: ArgumentHelp(
            "The PostgreSQL database: postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE.",
            valueName: "url"
        )
    )
    var target: String

    @Option(help: ArgumentHelp("Rows per COPY statement, each committed on its own.", valueName: "n"))
    var batch = 10_000

    /// Stops once this many rows are copied, as an interruption would (tests of resuming).
    @Option(help: .hidden)
    var stopAfter: Int?

    @Flag(help: "Print JSON (no progress bar).")
    var json = false

    func run() async throws {
        guard (1...1_000_000).contains(batch) else {
            throw QuillError(.invalidArgument, "--batch must be a number from 1 to 1000000")
        }
        let here = FileManager.default.currentDirectoryPath
        guard case .sqlite(let path) = try StoreFactory.url(source, data: here) else {
            throw QuillError(
                .invalidArgument,
                "--from must be a SQLite store (sqlite:PATH); the copy goes from SQLite to PostgreSQL"
            )
        }
        guard FileManager.default.fileExists(atPath: path) else {
            throw QuillError(
                .notFound,
                "no SQLite store at \(path); pass the file `quill serve` used (default <data>/quill.db)"
            )
        }
        guard case .postgres(let location) = try StoreFactory.url(target, data: here) else {
            throw QuillError(.invalidArgument, "--to must be a PostgreSQL URL: postgres://USER@HOST[:PORT]/DATABASE")
        }
        let schema = try DbSourceSchema(path: path)
        let store = try PostgresStore(location: location, maximumConnections: 4)
        // Fails at once (not after the service's retries) when the database is unreachable or refuses the login.
        _ = try await store.recordedMigrations()
        let started = ContinuousClock.now
        let copier = DbCopier(
            path: path,
            schema: schema,
            batch: batch,
            stopAfter: stopAfter,
            progress: ProgressLine(enabled: !json)
        )
        let report = try await DbService.whileRunning(store) { store in try await copier.copy(into: store) }
        let elapsed = started.duration(to: .now)
        try show(
            report,
            from: path,
            to: location,
            seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        )
    }

    private func show(_ report: DbCopyReport, from path: String, to location: PostgresLocation, seconds: Double) throws
    {
        let rate = seconds > 0 ? Int(Double(report.copied) / seconds) : report.copied
        let differing = report.tables.filter { $0.sqlite != $0.postgres }.map(\.name)
        let failure: String? =
            report.stopped || differing.isEmpty
            ? nil
            : "\(differing.count) table\(differing.count == 1 ? "" : "s") differ in row count (\(differing.joined(separator: ", "))); run the same command again to continue, or copy into an empty database"
        if json {
            var object: [String: JSONValue] = [
                "from": .string(path), "to": .string(location.description), "rows_copied": .int(report.copied),
                "seconds": .double((seconds * 1000).rounded() / 1000), "rows_per_second": .int(rate),
                "complete": .bool(!report.stopped && failure == nil), "stopped": .bool(report.stopped),
                "tables": .array(
                    report.tables.map { table in
                        [
                            "table": .string(table.name), "sqlite": .int(table.sqlite),
                            "postgresql": .int(table.postgres),
                            "copied": .int(table.copied),
                        ]
                    }
                ),
            ]
            if let failure { object["error"] = .string(failure) }
            Console.printJSON(.object(object))
            if failure != nil { throw ExitCode.failure }
            return
        }
        if report.stopped {
            Console.print(
                "stopped after \(report.copied) rows as --stop-after asked; run the same command again to continue"
            )
            return
        }
        Console.print(
            "copied \(path) to \(location): \(report.copied) rows in \(String(format: "%.1f", seconds)) s (\(rate) rows/s)"
        )
        var table = Table(headers: ["TABLE", "SQLITE", "POSTGRESQL", "COPIED", ""], rightAligned: [1, 2, 3])
        for row in report.tables {
            table.append([
                row.name, "\(row.sqlite)", "\(row.postgres)", "\(row.copied)",
                row.sqlite == row.postgres ? "" : "DIFFERS",
            ])
        }
        Console.print(table.render())
        if let failure { throw QuillError(.io, failure) }
        Console.print("every table holds the same number of rows in both stores")
        Console.print(
            "next: quill serve --store \(location) --data DIR, with the data folder of the SQLite server (its artifacts/ holds the bytes)"
        )
    }
}

/// The tables and columns of the SQLite file and its server identity, read before the copy.
struct DbSourceSchema: Sendable {
    /// Column names per table, in SQLite's order.
    let columns: [String: [String]]
    /// The store's identity (`server_identity`), when it has one.
    let identity: String?

    init(path: String) throws {
        var configuration = GRDB.Configuration()
        configuration.readonly = true
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            let read: ([String: [String]], String?) = try queue.read { db in
                var columns: [String: [String]] = [:]
                let tables = try String.fetchAll(
                    db,
                    sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                )
                for table in tables where !DbCopyTable.skipped.contains(table) {
                    columns[table] = try db.columns(in: table).map(\.name)
                }
                let identity =
                    columns[DbCopyTable.identity] == nil
                    ? nil : try String.fetchOne(db, sql: "SELECT id FROM server_identity LIMIT 1")
                return (columns, identity)
            }
            columns = read.0
            identity = read.1
        } catch {
            throw QuillError(
                .io,
                "could not read the SQLite store \(path); check that it is a Quill database",
                underlying: error
            )
        }
    }
}

/// One table's counts after the copy.
struct DbCopyTableReport: Sendable {
    let name: String
    let sqlite: Int
    let postgres: Int
    let copied: Int
}

/// What a copy did.
struct DbCopyReport: Sendable {
    var tables: [DbCopyTableReport] = []
    var copied = 0
    /// Whether it stopped early (`--stop-after`).
    var stopped = false
}

/// The PostgreSQL side of the copy.
struct DbCopier: Sendable {
    let path: String
    let schema: DbSourceSchema
    let batch: Int
    let stopAfter: Int?
    let progress: ProgressLine

    /// Copies, holding the copy lock (``PostgresStore/withCopyLock(waiting:_:)``): one copy at a time, and a
    /// resumed copy reads where to resume only once a killed one's last batch is committed or gone.
    func copy(into store: PostgresStore) async throws -> DbCopyReport {
        try await store.withCopyLock { try await copyLocked(into: store) }
    }

    private func copyLocked(into store: PostgresStore) async throws -> DbCopyReport {
        let target = try await targetColumns(store)
        let plans = try await plan(store, target: target)
        let before = try await counts(store)
        try await claim(store, counts: before)

        let reader = DbSnapshotReader(
            path: path,
            plans: plans,
            batch: batch,
            chunkSize: min(PostgresStore.metricChunkMaximum, batch)
        )
        let targets = Dictionary(
            plans.map { ($0.table.name, $0.table.target) },
            uniquingKeysWith: { first, _ in first }
        )
        var sqliteCounts: [String: Int] = [:]
        var sequences: [String: Int64] = [:]
        var copiedPerTable: [String: Int] = [:]
        var report = DbCopyReport()
        var total = 0
        var done = 0
        do {
            for try await event in reader.events() {
                defer { reader.consumed() }
                switch event {
                case .inventory(let counts, let sqliteSequences):
                    sqliteCounts = counts
                    sequences = sqliteSequences
                    total = counts.values.reduce(0, +)
                    done = plans.filter { $0.table.mode != .insertMissing }.map {
                        min(before[$0.table.name] ?? 0, counts[$0.table.name] ?? 0)
                    }.reduce(0, +)
                case .rows(let table, let columns, let data, let count):
                    try await write(store, table: table) { connection in
                        // A batch need not wait for its commit to reach the disk: a crash loses only the last
                        // batches whole (never part of one), and the next run copies them again.
                        try await connection.query("SET synchronous_commit TO off", logger: store.logger)
                        try await connection.copyFrom(
                            table: targets[table] ?? table,
                            columns: columns,
                            logger: store.logger
                        ) { writer in
                            try await writer.write(ByteBuffer(bytes: data))
                        }
                    }
                    copiedPerTable[table, default: 0] += count
                    report.copied += count
                    done += count
                case .missing(let table, let column, let values):
                    let query: PostgresQuery = """
                        INSERT INTO \(unescaped: DbCopyTable.quoted(table)) (\(unescaped: DbCopyTable.quoted(column)))
                        SELECT unnest(\(values)::text[]) ON CONFLICT DO NOTHING
                        """
                    try await write(store, table: table) { connection in
                        try await connection.query(query, logger: store.logger)
                    }
                    done += values.count
                case .parents(let ids, let parents):
                    try await write(store, table: "runs") { connection in
                        try await connection.query(
                            """
                            UPDATE runs SET parent_id = v.parent
                            FROM unnest(\(ids)::text[], \(parents)::text[]) AS v(id, parent)
                            WHERE runs.id = v.id AND runs.parent_id IS DISTINCT FROM v.parent
                            """,
                            logger: store.logger
                        )
                    }
                }
                progress.update(done: done, total: total, "copying \(Self.label(event)) (\(report.copied) rows copied)")
                if let stopAfter, report.copied >= stopAfter {
                    report.stopped = true
                    break
                }
            }
        } catch {
            reader.stop()
            progress.finish()
            throw error
        }
        reader.stop()
        progress.update(done: done, total: total, "done", force: true)
        progress.finish()
        if report.stopped { return report }

        try await setSequences(store, target: target, sqliteSequences: sequences)
        let after = try await counts(store)
        report.tables = ([DbCopyTable.identity] + DbCopyTable.all.map(\.name)).map { name in
            DbCopyTableReport(
                name: name,
                sqlite: name == DbCopyTable.identity ? (schema.identity == nil ? 0 : 1) : sqliteCounts[name] ?? 0,
                postgres: after[name] ?? 0,
                copied: copiedPerTable[name] ?? 0
            )
        }
        return report
    }

    /// The table an event writes to, for the progress line.
    private static func label(_ event: DbCopyEvent) -> String {
        switch event {
        case .inventory: "tables"
        case .rows(let table, _, _, _), .missing(let table, _, _): table
        case .parents: "runs' parents"
        }
    }

    /// Runs one write, naming the table and PostgreSQL's own message when it fails.
    private func write(
        _ store: PostgresStore,
        table: String,
        _ body: (PostgresConnection) async throws -> Void
    ) async throws {
        do {
            try await store.withConnection { connection in try await body(connection) }
        } catch let error as QuillError {
            guard let psql = error.underlying as? PSQLError, let message = psql.serverInfo?[.message] else {
                throw error
            }
            throw QuillError(
                error.code == .unavailable ? .unavailable : .io,
                "copying \(table) into PostgreSQL failed: \(message); fix the cause and run the same command again to continue",
                underlying: error
            )
        }
    }

    // MARK: Before the copy

    /// PostgreSQL's columns per table: name, kind, and whether it is an identity column.
    private func targetColumns(
        _ store: PostgresStore
    ) async throws -> [String: [(name: String, kind: DbColumnKind, identity: Bool)]] {
        try await store.withConnection { connection in
            var columns: [String: [(name: String, kind: DbColumnKind, identity: Bool)]] = [:]
            let rows = try await connection.query(
                """
                SELECT table_name::text, column_name::text, data_type::text, is_identity::text
                FROM information_schema.columns WHERE table_schema = current_schema()
                ORDER BY table_name, ordinal_position
                """,
                logger: store.logger
            )
            for try await (table, column, type, identity) in rows.decode((String, String, String, String).self) {
                columns[table, default: []].append((column, DbColumnKind(postgresType: type), identity == "YES"))
            }
            return columns
        }
    }

    /// The plan of every table: its columns as both databases have them, and where it resumes.
    private func plan(
        _ store: PostgresStore,
        target: [String: [(name: String, kind: DbColumnKind, identity: Bool)]]
    ) async throws -> [DbTablePlan] {
        let known = Set(DbCopyTable.all.map(\.name) + [DbCopyTable.identity])
        let unknown = schema.columns.keys.filter { !known.contains($0) }.sorted()
        guard unknown.isEmpty else {
            throw QuillError(
                .invalidArgument,
                "the SQLite store has tables this quill does not copy (\(unknown.joined(separator: ", "))); copy it with the quill version that wrote it"
            )
        }
        var plans: [DbTablePlan] = []
        for table in DbCopyTable.all {
            guard let sourceColumns = schema.columns[table.name] else {
                throw QuillError(
                    .invalidArgument,
                    "the SQLite store has no table \(table.name): it is older than this quill; run `quill db migrate --store sqlite:\(path)` first"
                )
            }
            if table.mode == .chunks {
                plans.append(try await chunkPlan(store, table, sourceColumns: sourceColumns, target: target))
                continue
            }
            guard let targetColumns = target[table.name] else {
                throw QuillError(
                    .invalidArgument,
                    "the PostgreSQL database has no table \(table.name); run `quill db migrate --store` on it with this quill first"
                )
            }
            let kinds = Dictionary(targetColumns.map { ($0.name, $0.kind) }, uniquingKeysWith: { first, _ in first })
            if let missing = sourceColumns.first(where: { kinds[$0] == nil }) {
                throw QuillError(
                    .invalidArgument,
                    "PostgreSQL's \(table.name) has no column \(missing); use the same quill version for both stores (`quill db migrate`)"
                )
            }
            if let missing = targetColumns.first(where: { !sourceColumns.contains($0.name) }) {
                throw QuillError(
                    .invalidArgument,
                    "the SQLite store's \(table.name) has no column \(missing.name): it is older than this quill; run `quill db migrate --store sqlite:\(path)` first"
                )
            }
            let columns =
                sourceColumns
                .filter { !(table.name == "runs" && $0 == DbCopyTable.deferredParent) }
                .map { DbColumn(name: $0, kind: kinds[$0] ?? .text) }
            let keyKinds = table.key.map { kinds[$0] ?? .text }
            var resume: [String]?
            if table.mode == .copy {
                resume = try await largestKey(store, table)
            }
            plans.append(DbTablePlan(table: table, columns: columns, keyKinds: keyKinds, resumeAfter: resume))
        }
        return plans
    }

    /// The plan of SQLite's `metrics` into PostgreSQL's `metric_chunks`: the point columns, resuming after the
    /// largest `(series, last_idx)` present.
    private func chunkPlan(
        _ store: PostgresStore,
        _ table: DbCopyTable,
        sourceColumns: [String],
        target: [String: [(name: String, kind: DbColumnKind, identity: Bool)]]
    ) async throws -> DbTablePlan {
        guard let targetColumns = target[table.target] else {
            throw QuillError(
                .invalidArgument,
                "the PostgreSQL database has no table \(table.target); run `quill db migrate --store` on it with this quill first"
            )
        }
        guard Set(targetColumns.map(\.name)) == Set(DbCopyTable.chunkColumns) else {
            throw QuillError(
                .invalidArgument,
                "PostgreSQL's \(table.target) has the columns \(targetColumns.map(\.name)); use the same quill version for both stores (`quill db migrate`)"
            )
        }
        guard Set(sourceColumns) == Set(DbCopyTable.pointColumns) else {
            throw QuillError(
                .invalidArgument,
                "the SQLite store's \(table.name) has the columns \(sourceColumns), not \(DbCopyTable.pointColumns); run `quill db migrate --store sqlite:\(path)` first"
            )
        }
        let kinds: [DbColumnKind] = [.integer, .integer, .integer, .double, .integer]
        let resume = try await store.withConnection { connection in
            var found: [String]?
            let rows = try await connection.query(
                """
                SELECT series::text, last_idx::text FROM metric_chunks ORDER BY series DESC, first_idx DESC LIMIT 1
                """,
                logger: store.logger
            )
            for try await (series, last) in rows.decode((String, String).self) { found = [series, last] }
            return found
        }
        return DbTablePlan(
            table: table,
            columns: zip(DbCopyTable.pointColumns, kinds).map { DbColumn(name: $0, kind: $1) },
            keyKinds: [.integer, .integer],
            resumeAfter: resume
        )
    }

    /// The largest primary key of `table` in PostgreSQL, its columns as text (nil when the table is empty).
    private func largestKey(_ store: PostgresStore, _ table: DbCopyTable) async throws -> [String]? {
        let keys = table.key.map(DbCopyTable.quoted)
        let sql =
            // Aliased: `ORDER BY "idx"` would otherwise sort the text output column, not the number.
            "SELECT \(keys.enumerated().map { "\($1)::text AS k\($0)" }.joined(separator: ", ")) FROM \(DbCopyTable.quoted(table.name)) ORDER BY "
            + keys.map { "\($0) DESC" }.joined(separator: ", ") + " LIMIT 1"
        return try await store.withConnection { connection in
            var found: [String]?
            for try await row in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: store.logger) {
                let cells = row.makeRandomAccess()
                found = try (0..<keys.count).map { try cells[$0].decode(String.self) }
            }
            return found
        }
    }

    /// The row count of every table in PostgreSQL (for `metrics`, the points its chunks hold).
    private func counts(_ store: PostgresStore) async throws -> [String: Int] {
        let names = [DbCopyTable.identity] + DbCopyTable.all.map(\.name)
        // One statement; the names are this file's constants, not input.
        // The chunks of `metrics` count their points.
        let chunked = Set(DbCopyTable.all.filter { $0.mode == .chunks }.map(\.name))
        let union = names.map { name in
            chunked.contains(name)
                ? "SELECT '\(name)' AS name, coalesce(sum(count), 0)::bigint FROM \(DbCopyTable.chunkTable)"
                : "SELECT '\(name)' AS name, count(*) FROM \(DbCopyTable.quoted(name))"
        }.joined(separator: " UNION ALL ")
        return try await store.withConnection { connection in
            var counts: [String: Int] = [:]
            for try await (name, count) in try await connection.query(
                PostgresQuery(unsafeSQL: union),
                logger: store.logger
            )
            .decode((String, Int).self) {
                counts[name] = count
            }
            return counts
        }
    }

    /// Makes sure the target is this store's copy: an empty database takes the SQLite store's identity; one
    /// holding rows of another store is refused.
    private func claim(_ store: PostgresStore, counts: [String: Int]) async throws {
        guard let identity = schema.identity else { return }
        let current: String? = try await store.withConnection { connection in
            var found: String?
            for try await id in try await connection.query(
                "SELECT id FROM server_identity LIMIT 1",
                logger: store.logger
            )
            .decode(String.self) {
                found = id
            }
            return found
        }
        if current == identity { return }
        let holding = DbCopyTable.all.map(\.name).filter { (counts[$0] ?? 0) > 0 }
        guard holding.isEmpty else {
            throw QuillError(
                .conflict,
                "\(store.location) already holds another Quill store (server id \(current ?? "none"), rows in \(holding.prefix(3).joined(separator: ", "))); copy into an empty database"
            )
        }
        try await store.transaction { connection in
            try await connection.query("DELETE FROM server_identity", logger: store.logger)
            try await connection.query("INSERT INTO server_identity (id) VALUES (\(identity))", logger: store.logger)
        }
    }

    // MARK: After the copy

    /// Sets every identity sequence past the largest id copied (or handed out by SQLite, deleted rows
    /// included), so new rows get new ids.
    private func setSequences(
        _ store: PostgresStore,
        target: [String: [(name: String, kind: DbColumnKind, identity: Bool)]],
        sqliteSequences: [String: Int64]
    ) async throws {
        for table in DbCopyTable.all {
            for column in target[table.name] ?? [] where column.identity {
                let sql =
                    "SELECT max(\(DbCopyTable.quoted(column.name))) FROM \(DbCopyTable.quoted(table.name))"
                try await write(store, table: table.name) { connection in
                    var largest: Int64 = 0
                    for try await value in try await connection.query(
                        PostgresQuery(unsafeSQL: sql),
                        logger: store.logger
                    )
                    .decode(Int64?.self) {
                        largest = value ?? 0
                    }
                    let next = max(largest, sqliteSequences[table.name] ?? 0)
                    guard next > 0 else { return }
                    try await connection.query(
                        "SELECT setval(pg_get_serial_sequence(\(table.name), \(column.name)), \(next))",
                        logger: store.logger
                    )
                }
            }
        }
    }
}
