import Foundation
import GRDB
import Logging
import PostgresNIO
import QuillCore
import QuillStore
import QuillStorePostgres
import QuillStoreSQLite
import QuillTesting
import Testing

@testable import QuillCLI

/// A real SQLite store, filled through `SQLiteTrackingStore`, and the tables of both databases read with SQL.
enum DbFixture {
    /// Fills a SQLite store with a bit of everything: projects and their tags, runs (one the parent of the
    /// others) with metrics (NaN and infinities included), params, tags, links, logs with tabs, newlines and
    /// backslashes, users, an organization, an API key and a session, artifact records (one released), jobs
    /// with an attempt, a device and a remote artifact request.
    static func fill(_ path: String, runs: Int = 4, points: Int = 50, seconds: Double = 1_700_000_000) async throws {
        let store = try SQLiteTrackingStore(path: path)
        _ = try await store.createUser(name: "ada", isAdmin: true)
        _ = try await store.createUser(name: "bob", isAdmin: false)
        _ = try await store.createOrganization(name: "vision", owner: "ada")
        try await store.setMembership(organization: "vision", user: "bob", role: .member)
        let secret = APIKeySecret.generate()
        let hash = APIKeySecret.hash(secret)
        _ = try await store.createAPIKey(
            NewAPIKey(user: "ada", label: "laptop", prefix: APIKeySecret.prefix(of: secret), hash: hash)
        )
        _ = try await store.createSession(
            tokenHash: String(repeating: "c", count: 64),
            keyHash: hash,
            expiresAt: Date(timeIntervalSince1970: seconds + 3600)
        )
        let project = try await store.project(namespace: "ada", displayName: "MNIST")
        _ = try await store.project(namespace: "vision", displayName: "Detection")
        func upload(_ run: RunID, _ artifact: String, size: Int64, digit: String) async throws {
            _ = try await store.createArtifact(NewArtifact(run: run, path: artifact))
            _ = try await store.markArtifactUploaded(
                run,
                path: artifact,
                size: size,
                sha256: String(repeating: digit, count: 64)
            )
        }
        var parent: RunID?
        for number in 0..<runs {
            var new = NewRun(projectID: project.id)
            new.name = "run-\(number)"
            new.parent = parent
            new.user = "ada"
            new.config = ["lr": .double(0.001 * Double(number + 1)), "note": .string("tab\there\nnew \\ line")]
            new.tags = ["team": "vision"]
            let run = try await store.createRun(new)
            if parent == nil { parent = run.id }
            var batch = LogBatch()
            batch.metrics = (0..<points).map { index in
                let value: Double =
                    switch index {
                    case 1: .nan
                    case 2: .infinity
                    case 3: -.infinity
                    default: 1 / Double(index + 1)
                    }
                return MetricValue(
                    key: "loss",
                    value: value,
                    step: index,
                    timestamp: Date(timeIntervalSince1970: seconds + Double(index) * 0.001),
                    index: index
                )
            }
            batch.metrics += (0..<points).map { index in
                MetricValue(key: "acc", value: Double(index) / Double(points), step: index * 10, index: index)
            }
            batch.params = ["batch_size": .int(32), "optimizer": .string("adam")]
            batch.tags = ["stage": "test"]
            batch.links = [RunLink(label: "wandb", url: "https://example.com/\(number)")]
            batch.logs = [
                LogLine(timestamp: Date(timeIntervalSince1970: seconds), level: .info, message: "epoch 1\tdone \\ ok"),
                LogLine(timestamp: nil, level: nil, message: "ünïcode ✓\r\nnext"),
            ]
            _ = try await store.logBatch(run.id, batch)
            try await upload(run.id, "model.bin", size: 3, digit: "a")
        }
        // A run deleted with its artifact: released_blobs gets a row.
        let doomed = try await store.createRun(NewRun(projectID: project.id))
        try await upload(doomed.id, "old.bin", size: 5, digit: "b")
        try await store.deleteRun(doomed.id)

        let now = Date(timeIntervalSince1970: seconds)
        _ = try await store.submitJob(
            NewJob(projectID: project.id, runID: RunID.random(), name: "queued", argv: ["python", "t.py"]),
            now: now
        )
        _ = try await store.submitJob(
            NewJob(projectID: project.id, runID: RunID.random(), name: "done", argv: ["echo", "a\tb"]),
            now: now
        )
        if let claim = try await store.claimJob(WorkerCapabilities(name: "w1"), lease: .seconds(60), now: now) {
            _ = try await store.finishAttempt(
                AttemptRef(jobID: claim.job.id, number: claim.attempt.number, worker: "w1"),
                AttemptResult(.completed, exitCode: 0),
                now: now
            )
        }
        let jobs: [Job] = try await store.jobs(JobQuery())
        let queued = try #require(jobs.filter { $0.spec.name == "queued" }.map(\.id).last)
        _ = try await store.cancelJob(
            queued,
            reason: "test",
            now: now
        )
        _ = try await store.registerDevice(
            NewDevice(name: "gpu1", host: "box", cpus: 8, memoryBytes: 1 << 30, labels: ["a100"]),
            lease: .seconds(60),
            now: now
        )
        try await store.close()
        // What the API has no call for here: written as SQL.
        let queue = try DatabaseQueue(path: path)
        let parentID = parent?.rawValue
        try await queue.write { db in
            try db.execute(
                sql: "INSERT INTO project_tags (project_id, key, value) VALUES (?, 'domain', 'vision')",
                arguments: [project.id]
            )
            try db.execute(
                sql: """
                    INSERT INTO remote_artifact_requests (run_id, device, source_path, artifact_path, transfer, status,
                        created_at, updated_at) VALUES (?, 'gpu1', '/data/x', 'x', 1, 'pending', 1, 2)
                    """,
                arguments: [parentID]
            )
        }
        try queue.close()
    }

    // MARK: Reading both databases

    /// A value as both databases hold it, written one way: numbers as Swift prints them, booleans as
    /// true/false, NULL as ∅.
    static func canonical(_ text: String?, kind: DbColumnKind) -> String {
        guard let text else { return "∅" }
        switch kind {
        case .integer: return Int64(text).map(String.init) ?? text
        case .double: return Double(text).map { "\($0)" } ?? text
        case .boolean:
            switch text {
            case "t", "true", "1": return "true"
            case "f", "false", "0": return "false"
            default: return text
            }
        case .text: return text
        }
    }

    /// PostgreSQL's column kinds of a table.
    static func kinds(_ connection: PostgresConnection, _ table: String) async throws -> [String: DbColumnKind] {
        var kinds: [String: DbColumnKind] = [:]
        let rows = try await connection.query(
            """
            SELECT column_name::text, data_type::text FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name = \(table)
            """,
            logger: logger
        )
        for try await (name, type) in rows.decode((String, String).self) {
            kinds[name] = DbColumnKind(postgresType: type)
        }
        return kinds
    }

    /// Every row of a SQLite table, in key order, as canonical text.
    static func sqliteRows(
        _ path: String,
        _ table: String,
        key: [String],
        kinds: [String: DbColumnKind]
    ) throws
        -> (columns: [String], rows: [[String]])
    {
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        defer { try? queue.close() }
        return try queue.read { db in
            let columns = try db.columns(in: table).map(\.name)
            let order = key.isEmpty ? "" : " ORDER BY " + key.map(DbCopyTable.quoted).joined(separator: ", ")
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT \(columns.map(DbCopyTable.quoted).joined(separator: ", ")) FROM \(table)\(order)"
            )
            return (
                columns,
                rows.map { row in
                    columns.enumerated().map { index, column in
                        let value: DatabaseValue = row[index]
                        let text: String? =
                            switch value.storage {
                            case .null: nil
                            case .int64(let value): String(value)
                            case .double(let value): value.isNaN ? nil : "\(value)"
                            case .string(let value): value
                            case .blob(let data): String(decoding: data, as: UTF8.self)
                            }
                        return canonical(text, kind: kinds[column] ?? .text)
                    }
                }
            )
        }
    }

    /// Every row of a PostgreSQL table, in key order, as canonical text.
    static func postgresRows(
        _ connection: PostgresConnection,
        _ table: String,
        columns: [String],
        key: [String],
        kinds: [String: DbColumnKind]
    ) async throws -> [[String]] {
        let order = key.isEmpty ? "" : " ORDER BY " + key.map(DbCopyTable.quoted).joined(separator: ", ")
        let sql =
            "SELECT \(columns.enumerated().map { DbCopyTable.quoted($1) + "::text AS c\($0)" }.joined(separator: ", ")) FROM \(source(table))\(order)"
        var rows: [[String]] = []
        for try await row in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger) {
            let cells = row.makeRandomAccess()
            rows.append(
                try columns.enumerated().map { index, column in
                    canonical(try cells[index].decode(String?.self), kind: kinds[column] ?? .text)
                }
            )
        }
        return rows
    }

    /// What a table's rows are read from in PostgreSQL: the table, or for `metrics` its chunks' points, a row each.
    static func source(_ table: String) -> String {
        guard table == "metrics" else { return DbCopyTable.quoted(table) }
        return """
            (SELECT c.series, p.idx, p.step, p.value, p.ts
            FROM metric_chunks c CROSS JOIN LATERAL unnest(c.idx, c.step, c.value, c.ts) AS p(idx, step, value, ts)) m
            """
    }

    /// The column kinds `metrics`' points have in PostgreSQL's chunks.
    static let pointKinds: [String: DbColumnKind] = [
        "series": .integer, "idx": .integer, "step": .integer, "value": .double, "ts": .integer,
    ]

    /// The chunks' invariants in PostgreSQL: no two chunks of a series overlap, each one's arrays are `count`
    /// long, sorted by index without a repeat, at most 1,024 points, and agree with its bounds.
    static func expectChunksWellFormed(_ location: PostgresLocation) async throws {
        let bad = try await TestPostgres.withConnection(location) { connection in
            var bad: [Int64] = []
            for try await (overlapping, malformed) in try await connection.query(
                """
                SELECT (SELECT count(*) FROM metric_chunks a JOIN metric_chunks b
                        ON a.series = b.series AND a.first_idx < b.first_idx AND a.last_idx >= b.first_idx),
                    (SELECT count(*) FROM metric_chunks c
                    WHERE cardinality(c.idx) <> c.count OR cardinality(c.step) <> c.count
                        OR cardinality(c.value) <> c.count OR cardinality(c.ts) <> c.count OR c.count > 1024
                        OR c.idx[1] <> c.first_idx OR c.idx[c.count] <> c.last_idx
                        OR c.idx <> ARRAY(SELECT DISTINCT i FROM unnest(c.idx) AS u(i) ORDER BY i)
                        OR c.min_step <> (SELECT min(s) FROM unnest(c.step) AS u(s))
                        OR c.max_step <> (SELECT max(s) FROM unnest(c.step) AS u(s)))
                """,
                logger: logger
            ).decode((Int64, Int64).self) {
                bad = [overlapping, malformed]
            }
            return bad
        }
        #expect(bad == [0, 0], "overlapping and malformed chunks")
    }

    /// Compares every table of both stores, row for row; returns the row counts per table.
    @discardableResult
    static func expectSameRows(_ path: String, _ location: PostgresLocation) async throws -> [String: Int] {
        let counts = try await TestPostgres.withConnection(location) { connection in
            var counts: [String: Int] = [:]
            for table in DbCopyTable.all + [DbCopyTable(name: DbCopyTable.identity, key: [])] {
                let kinds = table.mode == .chunks ? pointKinds : try await kinds(connection, table.name)
                let sqlite = try sqliteRows(path, table.name, key: table.key, kinds: kinds)
                let postgres = try await postgresRows(
                    connection,
                    table.name,
                    columns: sqlite.columns,
                    key: table.key,
                    kinds: kinds
                )
                #expect(sqlite.rows.count == postgres.count, "\(table.name): row count")
                for (left, right) in zip(sqlite.rows, postgres) where left != right {
                    Issue.record("\(table.name): SQLite \(left) != PostgreSQL \(right)")
                    break
                }
                counts[table.name] = postgres.count
            }
            return counts
        }
        try await expectChunksWellFormed(location)
        return counts
    }

    static let logger = Logger(label: "quill.test.db-copy")

    /// `SELECT count(*)` of one table (of `metrics`, the points of its chunks).
    static func count(_ location: PostgresLocation, _ table: String) async throws -> Int {
        try await TestPostgres.withConnection(location) { connection in
            var count = 0
            for try await value in try await connection.query(
                PostgresQuery(unsafeSQL: "SELECT count(*)::bigint FROM \(source(table))"),
                logger: logger
            ).decode(Int.self) {
                count = value
            }
            return count
        }
    }

    /// Runs the built `quill` (or `executable`) off the cooperative pool.
    static func quill(_ binary: QuillBinary, _ arguments: String...) async throws -> BuiltProducts.Result {
        try await quill(binary, arguments)
    }

    /// Runs the built `quill` (or `executable`) off the cooperative pool.
    static func quill(
        _ binary: QuillBinary,
        _ arguments: [String],
        executable: String = BuiltProducts.path("quill")
    ) async throws -> BuiltProducts.Result {
        try await BuiltProducts.run(executable, arguments, environment: binary.environment)
    }

    /// Runs the built `quill` off the cooperative pool; it must succeed; its standard output as JSON.
    static func json(_ binary: QuillBinary, _ arguments: String...) async throws -> JSONValue {
        try await json(binary, arguments)
    }

    /// Runs the built `quill` (or `executable`) off the cooperative pool; it must succeed; its standard output
    /// as JSON.
    static func json(
        _ binary: QuillBinary,
        _ arguments: [String],
        executable: String = BuiltProducts.path("quill")
    ) async throws -> JSONValue {
        let result = try await quill(binary, arguments, executable: executable)
        #expect(
            result.status == 0,
            "\(arguments): status \(result.status), stdout \(result.stdout), stderr \(result.stderr)"
        )
        return try JSONParser.parse(result.stdout)
    }

    /// The rows of the tables copied with COPY (all but `account_names`, whose rows triggers also write, and
    /// `server_identity`) in PostgreSQL; `metrics` counts the points of its chunks.
    static func copiedRows(_ location: PostgresLocation) async throws -> Int {
        var total = 0
        for table in DbCopyTable.all where table.mode != .insertMissing {
            total += try await count(location, table.name)
        }
        return total
    }

    /// The PostgreSQL URL of a location, as `--to` takes it.
    static func url(_ location: PostgresLocation) -> String {
        "postgres://\(location.user)@\(location.host):\(location.port)/\(location.database)?sslmode=disable"
    }
}

/// One copy: a `quill` home holding a SQLite store (`path`, not yet written) and a fresh PostgreSQL database.
struct DbCopyCase {
    let quill = QuillBinary()
    let path: String
    let location: PostgresLocation

    /// A case whose store file is `file` in the home (or the path `store`) and whose database is named after
    /// `label`.
    init(_ label: String, file: String = "quill.db", store: String? = nil) async throws {
        path = store ?? quill.home.file(file)
        location = try await TestPostgres.database(label)
    }

    /// The database as `--to` takes it.
    var url: String { DbFixture.url(location) }

    /// `quill db copy --from SOURCE --to URL EXTRA…` (SOURCE: the case's store), as it ended.
    func run(_ extra: [String] = [], from source: String? = nil) async throws -> BuiltProducts.Result {
        try await DbFixture.quill(quill, ["db", "copy", "--from", source ?? path, "--to", url] + extra)
    }

    /// `quill db copy … --json EXTRA…` with `executable` (the built `quill` by default): it must succeed;
    /// its report.
    func copy(_ extra: String..., executable: String = BuiltProducts.path("quill")) async throws -> JSONValue {
        try await DbFixture.json(
            quill,
            ["db", "copy", "--from", path, "--to", url, "--json"] + extra,
            executable: executable
        )
    }
}

extension DbFixture {
    /// A store of `runs` runs with two metrics (`loss`, `acc`) of `points` points each, built as fast as the
    /// SQLite store takes it: one `createRun` (config and tags included) and one `logBatch` of all its points
    /// per run, 64 runs in flight so that the store's writer commits many of them together, with relaxed
    /// durability (nothing is synced per transaction).
    static func fillMany(_ path: String, runs: Int, points: Int, seconds: Double = 1_700_000_000) async throws {
        let store = try SQLiteTrackingStore(path: path, durability: .relaxed)
        let project = try await store.project(namespace: "ada", displayName: "Sweep").id
        @Sendable func one(_ number: Int) async throws {
            var new = NewRun(projectID: project)
            new.name = "run-\(number)"
            new.config = ["lr": .double(0.001 * Double(number % 10 + 1)), "seed": .int(number)]
            new.tags = ["team": number % 2 == 0 ? "vision" : "nlp"]
            let run = try await store.createRun(new)
            var batch = LogBatch()
            batch.metrics.reserveCapacity(2 * points)
            for index in 0..<points {
                let timestamp = Date(timeIntervalSince1970: seconds + Double(index))
                batch.metrics.append(
                    MetricValue(
                        key: "loss",
                        value: 1 / Double(index + 1),
                        step: index,
                        timestamp: timestamp,
                        index: index
                    )
                )
                batch.metrics.append(
                    MetricValue(
                        key: "acc",
                        value: Double(index) / Double(points),
                        step: index,
                        timestamp: timestamp,
                        index: index
                    )
                )
            }
            _ = try await store.logBatch(run.id, batch)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for number in 0..<runs {
                if number >= 64 { try await group.next() }
                group.addTask { try await one(number) }
            }
            try await group.waitForAll()
        }
        try await store.close()
    }
}

@Suite("quill db copy: a SQLite store into PostgreSQL, row for row, resumable", .serialized)
struct DbCopyTests {
    @Test("every table arrives row for row (NaN, infinities, escapes, booleans, parents), sequences follow")
    func copiesEveryRow() async throws {
        let copy = try await DbCopyCase("db_copy_rows")
        try await DbFixture.fill(copy.path)
        let result = try await copy.run(["--json"], from: "sqlite:" + copy.path)
        #expect(result.status == 0, "\(result.stderr)")
        let report = try JSONParser.parse(result.stdout)
        #expect(report["complete"] == true)
        let counts = try await DbFixture.expectSameRows(copy.path, copy.location)
        #expect(counts["metrics"] == 4 * 100)
        #expect(counts["released_blobs"] == 1)
        #expect(counts["server_identity"] == 1)
        #expect(report["rows_copied"]?.intValue == (try await DbFixture.copiedRows(copy.location)))
        // New rows get ids past the copied ones.
        try await TestPostgres.withConnection(copy.location) { connection in
            for (table, largest) in [("projects", 2), ("users", 2), ("jobs", 2), ("logs", 8)] {
                let rows = try await connection.query(
                    "SELECT nextval(pg_get_serial_sequence(\(table), 'id'))",
                    logger: DbFixture.logger
                )
                for try await next in rows.decode(Int64.self) { #expect(next > largest, "\(table)") }
            }
        }
        // The text report: aligned counts, one line per table.
        let again = try await copy.run()
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("every table holds the same number of rows"), "\(again.stdout)")
        let line = try #require(again.stdout.split(separator: "\n").first { $0.hasPrefix("metrics ") })
        #expect(line.split(separator: " ").map(String.init) == ["metrics", "400", "400", "0"], "\(line)")
    }

    @Test("a second copy copies nothing and duplicates nothing")
    func copyTwice() async throws {
        let copy = try await DbCopyCase("db_copy_twice")
        try await DbFixture.fill(copy.path, runs: 2, points: 20)
        let first = try await copy.copy()
        #expect(first["rows_copied"]?.intValue ?? 0 > 80)
        let second = try await copy.copy()
        #expect(second["rows_copied"] == 0)
        #expect(second["complete"] == true)
        try await DbFixture.expectSameRows(copy.path, copy.location)
    }

    @Test("a copy stopped part way (--stop-after) continues where it stopped when run again")
    func resumesAfterStop() async throws {
        let copy = try await DbCopyCase("db_copy_resume")
        try await DbFixture.fill(copy.path, runs: 3, points: 40)
        // Batches of 7 rows: the stop lands inside the metrics table.
        let stopped = try await copy.copy("--batch", "7", "--stop-after", "60")
        #expect(stopped["stopped"] == true)
        let partial = try await DbFixture.count(copy.location, "metrics")
        #expect(partial > 0 && partial < 240, "\(partial)")
        let resumed = try await copy.copy("--batch", "7")
        #expect(resumed["complete"] == true)
        try await DbFixture.expectSameRows(copy.path, copy.location)
        let total = try await DbFixture.copiedRows(copy.location)
        #expect((stopped["rows_copied"]?.intValue ?? 0) + (resumed["rows_copied"]?.intValue ?? 0) == total)
    }

    @Test(
        "a copy waits while another session holds the copy lock (a killed copy committing its last batch), then copies; held longer, it is one conflict line"
    )
    func waitsForTheCopyLock() async throws {
        let copy = try await DbCopyCase("db_copy_lock")
        try await DbFixture.fill(copy.path)
        let held = try await TestPostgres.withConnection(copy.location) { connection in
            try await connection.query("SELECT pg_advisory_lock(\(PostgresStore.copyLock))", logger: DbFixture.logger)
            let started = ContinuousClock.now
            async let result = copy.run(["--json"], from: "sqlite:" + copy.path)
            try await Task.sleep(for: .seconds(2))
            // Still waiting: nothing copied yet.
            let runs = try await DbFixture.count(copy.location, "runs")
            try await connection.query("SELECT pg_advisory_unlock(\(PostgresStore.copyLock))", logger: DbFixture.logger)
            let finished = try await result
            #expect(finished.status == 0, "\(finished.stderr)")
            #expect(ContinuousClock.now - started >= .seconds(2))
            return runs
        }
        #expect(held == 0, "the copy wrote while another held the lock")
        try await DbFixture.expectSameRows(copy.path, copy.location)

        // A lock held past the wait: a conflict that says what to do.
        let store = try PostgresStore(location: copy.location, maximumConnections: 2)
        try await TestPostgres.withConnection(copy.location) { connection in
            try await connection.query("SELECT pg_advisory_lock(\(PostgresStore.copyLock))", logger: DbFixture.logger)
            do {
                try await store.withCopyLock(waiting: .milliseconds(500)) {
                    Issue.record("the copy lock was taken while another session held it")
                }
            } catch let error as QuillError {
                #expect(error.code == .conflict)
                #expect(error.message.contains("another quill db copy is writing into"), "\(error.message)")
            }
        }
    }

    @Test("a copy killed mid-way resumes with every count equal and no duplicate")
    func resumesAfterKill() async throws {
        let copy = try await DbCopyCase("db_copy_kill")
        try await DbFixture.fill(copy.path, runs: 10, points: 5_000)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BuiltProducts.path("quill"))
        process.arguments = ["db", "copy", "--from", copy.path, "--to", copy.url, "--batch", "1000", "--json"]
        process.environment = ProcessInfo.processInfo.environment.merging(copy.quill.environment) { _, new in new }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Kill it once some metric points (but not all 100,000) are in.
        let deadline = Date().addingTimeInterval(120)
        var seen = 0
        while Date() < deadline, process.isRunning {
            seen = (try? await DbFixture.count(copy.location, "metrics")) ?? 0
            if seen > 0 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        kill(process.processIdentifier, SIGKILL)
        await process.ended()
        #expect(seen > 0, "the copy never reached the metrics table")
        let present = try await DbFixture.copiedRows(copy.location)
        let resumed = try await copy.copy()
        #expect(resumed["complete"] == true)
        let counts = try await DbFixture.expectSameRows(copy.path, copy.location)
        #expect(counts["metrics"] == 100_000)
        // The second run copied exactly what the first had not.
        #expect(resumed["rows_copied"]?.intValue == (try await DbFixture.copiedRows(copy.location)) - present)
    }

    /// The figure for BENCHMARKS.md: `QUILL_DB_COPY_BENCH=RUNS,POINTS` (e.g. `100000,50`: 100,000 runs of two
    /// metrics with 50 points each, 10,000,000 metric rows) copies a store of that size (``DbFixture/fillMany``)
    /// and prints the rate. `QUILL_DB_COPY_BENCH_STORE=PATH` keeps the store there and reuses it when it exists
    /// (repeats time the copy alone); `QUILL_DB_COPY_BENCH_QUILL=PATH` copies with that `quill` (a release build).
    @Test(
        "a bigger store copies count for count (QUILL_DB_COPY_BENCH=RUNS,POINTS)",
        .enabled(if: ProcessInfo.processInfo.environment["QUILL_DB_COPY_BENCH"] != nil)
    )
    func biggerCopy() async throws {
        let environment = ProcessInfo.processInfo.environment
        let sizes = (environment["QUILL_DB_COPY_BENCH"] ?? "").split(separator: ",").compactMap { Int($0) }
        let runs = sizes.first ?? 1_000
        let points = sizes.count > 1 ? sizes[1] : 1_000
        let kept = environment["QUILL_DB_COPY_BENCH_STORE"]
        let copy = try await DbCopyCase("db_copy_big", store: kept)
        let filling = ContinuousClock.now
        var filled = "reused \(copy.path)"
        if !FileManager.default.fileExists(atPath: copy.path) {
            try await DbFixture.fillMany(copy.path, runs: runs, points: points)
            filled = "filled in \(filling.duration(to: .now))"
        }
        let report = try await copy.copy(
            executable: environment["QUILL_DB_COPY_BENCH_QUILL"] ?? BuiltProducts.path("quill")
        )
        #expect(report["complete"] == true)
        // Count for count, every table (the copy's own check, read back from its report).
        for table in report["tables"]?.arrayValue ?? [] {
            #expect(table["sqlite"] == table["postgresql"], "\(table)")
        }
        // Metrics: counts and sums (row for row would hold millions of rows in memory).
        let queue = try DatabaseQueue(path: copy.path)
        let sqlite = try await queue.read { db in
            try Row.fetchOne(db, sql: "SELECT count(*), sum(idx), sum(step), sum(ts % 1000003) FROM metrics")
                .map { [$0[0], $0[1], $0[2], $0[3]] as [Int64] } ?? []
        }
        try queue.close()
        let postgres = try await TestPostgres.withConnection(copy.location) { connection in
            var sums: [Int64] = []
            for try await (count, idx, step, ts) in try await connection.query(
                """
                SELECT count(*), sum(p.idx)::bigint, sum(p.step)::bigint, sum(p.ts % 1000003)::bigint
                FROM metric_chunks c CROSS JOIN LATERAL unnest(c.idx, c.step, c.ts) AS p(idx, step, ts)
                """,
                logger: DbFixture.logger
            ).decode((Int64, Int64, Int64, Int64).self) {
                sums = [count, idx, step, ts]
            }
            return sums
        }
        #expect(sqlite == postgres)
        if kept == nil { #expect(postgres.first == Int64(runs * points * 2)) }
        print(
            "db copy: \(report["rows_copied"]?.intValue ?? 0) rows (\(sqlite.first ?? 0) metric rows) in \(report["seconds"]?.doubleValue ?? 0) s: \(report["rows_per_second"]?.intValue ?? 0) rows/s (store \(filled))"
        )
    }

    @Test("a database holding another store is refused in one line; wrong URLs say what to pass")
    func refusals() async throws {
        let copy = try await DbCopyCase("db_copy_refuse", file: "a.db")
        let second = copy.quill.home.file("b.db")
        try await DbFixture.fill(copy.path, runs: 1, points: 5)
        try await DbFixture.fill(second, runs: 1, points: 5)
        #expect(try await copy.run().status == 0)
        let refused = try await copy.run(from: second)
        #expect(refused.status == 1)
        let lines = refused.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains("already holds another Quill store"), "\(refused.stderr)")
        let wrongTarget = try await DbFixture.quill(
            copy.quill,
            "db",
            "copy",
            "--from",
            copy.path,
            "--to",
            "sqlite:" + second
        )
        #expect(wrongTarget.status == 2)
        #expect(wrongTarget.stderr.contains("--to must be a PostgreSQL URL"), "\(wrongTarget.stderr)")
        let missing = try await copy.run(from: copy.quill.home.file("none.db"))
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no SQLite store at"), "\(missing.stderr)")
    }
}

@Suite("quill db migrate: applies the migrations and lists them")
struct DbMigrateTests {
    @Test("PostgreSQL: a fresh database gets every migration once; a second run applies nothing")
    func postgres() async throws {
        let quill = QuillBinary()
        let location = try await TestPostgres.database("db_migrate")
        let url = DbFixture.url(location)
        let first = try await DbFixture.json(quill, "db", "migrate", "--store", url, "--json")
        #expect(first["backend"] == "postgresql")
        let applied = first["applied"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(applied.count >= 3 && applied.first == "v1: projects, runs and logged data", "\(applied)")
        #expect(first["migrations"]?.intValue == applied.count)
        let second = try await DbFixture.json(quill, "db", "migrate", "--store", url, "--json")
        #expect(second["applied"] == [])
        let text = try await DbFixture.quill(quill, "db", "migrate", "--store", url)
        #expect(text.status == 0)
        #expect(text.stdout.contains("is up to date"), "\(text.stdout)")
        #expect(text.stdout.contains("schema   up to date (\(applied.count) migrations)"), "\(text.stdout)")
    }

    @Test("SQLite: opening migrates; the names come from the file")
    func sqlite() async throws {
        let quill = QuillBinary()
        let path = quill.home.file("new.db")
        let first = try await DbFixture.json(quill, "db", "migrate", "--store", "sqlite:" + path, "--json")
        #expect(first["backend"] == "sqlite")
        let applied = first["applied"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(applied.first == "v1: projects, runs, logged data", "\(applied)")
        #expect(applied.count == first["migrations"]?.intValue)
        let second = try await DbFixture.json(quill, "db", "migrate", "--store", path, "--json")
        #expect(second["applied"] == [])
    }

    @Test("an unreachable PostgreSQL is one line that says what to check")
    func unreachable() async throws {
        let quill = QuillBinary()
        let result = try await DbFixture.quill(
            quill,
            "db",
            "migrate",
            "--store",
            "postgres://postgres@127.0.0.1:1/none?sslmode=disable"
        )
        #expect(result.status == 1)
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(result.stderr.contains("cannot be reached"), "\(result.stderr)")
    }
}
