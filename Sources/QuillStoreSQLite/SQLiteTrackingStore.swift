import Foundation
import GRDB
package import QuillCore
package import QuillStore

/// The embedded store: one SQLite database file in WAL mode, through GRDB.
///
/// Writes are serialized by SQLite; reads run concurrently with them. Every method is a transaction.
///
/// ```swift
/// let store = try SQLiteTrackingStore(path: dataDirectory + "/quill.db")
/// let project = try await store.project(namespace: "ada", displayName: "MNIST")
/// ```
package final class SQLiteTrackingStore: TrackingStore {
    private let pool: DatabasePool

    /// Opens (creating when missing) the database at a path and brings its schema up to date.
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/io`` when the file cannot be opened or migrated.
    package init(path: String) throws {
        do {
            let folder = (path as NSString).deletingLastPathComponent
            if !folder.isEmpty {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            }
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            // Long metric histories are read by mapping the file rather than copying it through read(2) a page
            // at a time (pages still in the WAL are read as usual).
            configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA mmap_size = 1073741824") }
            pool = try DatabasePool(path: path, configuration: configuration)
            try Migrations.migrator.migrate(pool)
        } catch {
            throw QuillError(
                .io,
                "could not open the SQLite store at '\(path)'; check the path and permissions",
                underlying: error
            )
        }
    }

    // MARK: Projects

    package func project(namespace: String, displayName: String, createdBy: String?) async throws -> StoredProject {
        let project = Project(displayName: displayName)
        return try await write { db in
            if let existing = try Self.fetchProject(db, sql: "namespace = ? AND slug = ?", [namespace, project.slug]) {
                return existing
            }
            try db.execute(
                sql:
                    "INSERT INTO projects (namespace, slug, display_name, created_at, created_by) VALUES (?, ?, ?, ?, ?)",
                arguments: [namespace, project.slug, project.displayName, Self.now(), createdBy]
            )
            guard let created = try Self.fetchProject(db, sql: "id = ?", [db.lastInsertedRowID]) else {
                preconditionFailure("a project just inserted can be read back")
            }
            return created
        }
    }

    package func project(namespace: String, slug: String) async throws -> StoredProject? {
        try await read { db in try Self.fetchProject(db, sql: "namespace = ? AND slug = ?", [namespace, slug]) }
    }

    package func project(id: Int64) async throws -> StoredProject? {
        try await read { db in try Self.fetchProject(db, sql: "id = ?", [id]) }
    }

    package func projects() async throws -> [StoredProject] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM projects ORDER BY namespace, slug").map(Self.project(from:))
        }
    }

    package func setVisibility(projectID: Int64, _ visibility: ProjectVisibility) async throws -> StoredProject {
        try await write { db in
            try db.execute(
                sql: "UPDATE projects SET visibility = ? WHERE id = ?",
                arguments: [visibility.rawValue, projectID]
            )
            guard let project = try Self.fetchProject(db, sql: "id = ?", [projectID]) else {
                throw QuillError(.notFound, "project \(projectID) not found")
            }
            return project
        }
    }

    private static func fetchProject(
        _ db: Database,
        sql condition: String,
        _ arguments: StatementArguments
    ) throws -> StoredProject? {
        try Row.fetchOne(db, sql: "SELECT * FROM projects WHERE \(condition)", arguments: arguments).map(project(from:))
    }

    private static func project(from row: Row) -> StoredProject {
        StoredProject(
            id: row["id"],
            namespace: row["namespace"],
            slug: row["slug"],
            displayName: row["display_name"],
            visibility: ProjectVisibility(rawValue: row["visibility"]) ?? .private,
            createdAt: Timestamp.date(microseconds: row["created_at"]),
            createdBy: row["created_by"]
        )
    }

    // MARK: Runs

    package func createRun(_ request: NewRun) async throws -> StoredRun {
        try await write { db in
            guard try Self.fetchProject(db, sql: "id = ?", [request.projectID]) != nil else {
                throw QuillError(.notFound, "project \(request.projectID) not found; create it first")
            }
            if let parent = request.parent, try !Self.runExists(db, parent) {
                throw QuillError(.notFound, "parent run '\(parent)' not found")
            }
            var id = request.id ?? RunID.random()
            if request.id == nil {
                while try Self.runExists(db, id) { id = RunID.random() }
            } else if try Self.runExists(db, id) {
                throw QuillError(.invalidArgument, "a run with id '\(id)' already exists")
            }
            let name = try Self.freeName(db, request.name, projectID: request.projectID)
            let now = Self.now()
            try db.execute(
                sql: """
                    INSERT INTO runs (id, project_id, name, description, kind, parent_id, status, created_at, updated_at,
                                      started_at, ended_at, user, host, git, environment, config, summary)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '{}')
                    """,
                arguments: [
                    id.rawValue, request.projectID, name, request.description, request.kind.label,
                    request.parent?.rawValue,
                    request.status.rawValue, now, now, request.startedAt.map(Timestamp.microseconds) ?? now,
                    request.endedAt.map(Timestamp.microseconds), request.user, request.host,
                    request.git.map(JSONWriter.string), request.environment.map(JSONWriter.string),
                    JSONWriter.string(.object(request.config)),
                ]
            )
            for (key, value) in request.tags {
                try db.execute(
                    sql: "INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?)",
                    arguments: [id.rawValue, key, value]
                )
            }
            try SearchIndex.refresh(db, runID: id.rawValue)
            return try Self.fetchRun(db, id)
        }
    }

    package func run(_ id: RunID) async throws -> StoredRun? {
        try await read { db in try Self.runExists(db, id) ? Self.fetchRun(db, id) : nil }
    }

    package func runDetails(_ id: RunID) async throws -> RunDetails? {
        try await read { db in
            guard try Self.runExists(db, id) else { return nil }
            return try Self.details(db, Self.fetchRun(db, id))
        }
    }

    package func updateRun(_ id: RunID, _ update: RunUpdate) async throws -> StoredRun {
        try await write { db in
            var run = try Self.fetchRun(db, id)
            if let status = update.status { run.status = status }
            if let endedAt = update.endedAt { run.endedAt = endedAt }
            if let description = update.description { run.description = description }
            if let name = update.name, name != run.name {
                let taken = try Bool.fetchOne(
                    db,
                    sql: "SELECT 1 FROM runs WHERE project_id = ? AND name = ?",
                    arguments: [run.projectID, name]
                )
                if taken == true {
                    throw QuillError(
                        .invalidArgument,
                        "the project already has a run named '\(name)'; choose another name"
                    )
                }
                run.name = name
            }
            if let parent = update.parent {
                if let parent {
                    guard parent != id else { throw QuillError(.invalidArgument, "a run cannot be its own parent") }
                    guard try Self.runExists(db, parent) else {
                        throw QuillError(.notFound, "parent run '\(parent)' not found")
                    }
                    if try Self.isDescendant(db, parent, of: id) {
                        throw QuillError(
                            .invalidArgument,
                            "run '\(parent)' descends from '\(id)'; a parent cannot be its own descendant"
                        )
                    }
                }
                run.parent = parent
            }
            if let summary = update.summary { run.summary.merge(summary) { _, new in new } }
            try db.execute(
                sql: """
                    UPDATE runs SET status = ?, ended_at = ?, description = ?, name = ?, parent_id = ?, summary = ?,
                                    updated_at = ? WHERE id = ?
                    """,
                arguments: [
                    run.status.rawValue, run.endedAt.map(Timestamp.microseconds), run.description, run.name,
                    run.parent?.rawValue, JSONWriter.string(.object(run.summary)), Self.now(), id.rawValue,
                ]
            )
            try SearchIndex.refresh(db, runID: id.rawValue)
            return try Self.fetchRun(db, id)
        }
    }

    package func deleteRun(_ id: RunID) async throws {
        try await write { db in
            guard try Self.runExists(db, id) else { throw Self.missing(id) }
            try db.execute(sql: "DELETE FROM runs WHERE id = ?", arguments: [id.rawValue])
        }
    }

    // MARK: Logging

    package func logBatch(_ run: RunID, _ batch: LogBatch) async throws -> BatchResult {
        try await write { db in
            let id = run.rawValue
            guard
                let updatedAt = try Int64.fetchOne(
                    db.cachedStatement(sql: "SELECT updated_at FROM runs WHERE id = ?"),
                    arguments: [id]
                )
            else { throw Self.missing(run) }
            var written = 0
            var ignored = 0
            if !batch.metrics.isEmpty {
                var stats: [String: StatsRow] = [:]
                let insert = try RawStatement(
                    db,
                    sql: "INSERT OR IGNORE INTO metrics (run_id, key, idx, step, value, ts) VALUES (?, ?, ?, ?, ?, ?)"
                )
                insert.bind(id, at: 1)
                // Points come grouped by key, so the key's statistics and binding change only at a new key.
                var currentKey: String?
                var current = StatsRow()
                // The new points' block summaries, gathered in memory and merged into `metric_blocks` once
                // per touched block; points usually come in index order, so one block is open at a time.
                var blocks: [MetricBlock.Key: MetricBlock] = [:]
                var openBlock: MetricBlock.Key?
                var open = MetricBlock()
                for metric in batch.metrics {
                    if metric.key != currentKey {
                        if let currentKey { stats[currentKey] = current }
                        if let known = stats[metric.key] {
                            current = known
                        } else {
                            current = try StatsRow.fetch(db, run: id, key: metric.key) ?? StatsRow()
                        }
                        currentKey = metric.key
                        insert.bind(metric.key, at: 2)
                        if let openBlock { blocks[openBlock, default: MetricBlock()].merge(open) }
                        openBlock = nil
                    }
                    let index = metric.index ?? (current.lastIndex + 1)
                    let step = metric.step ?? (current.maxStep + 1)
                    let value = metric.value.isNaN ? nil : metric.value
                    let timestamp = Timestamp.microseconds(metric.timestamp)
                    insert.bind(Int64(index), at: 3)
                    insert.bind(Int64(step), at: 4)
                    insert.bind(value, at: 5)
                    insert.bind(timestamp, at: 6)
                    try insert.run()
                    guard insert.changes > 0 else {
                        ignored += 1
                        continue
                    }
                    written += 1
                    current.add(index: index, step: step, value: metric.value)
                    let block = MetricBlock.number(of: index)
                    if openBlock?.block != block {
                        if let openBlock { blocks[openBlock, default: MetricBlock()].merge(open) }
                        openBlock = MetricBlock.Key(key: metric.key, block: block)
                        open = MetricBlock()
                    }
                    open.add(index: index, step: step, value: value, timestamp: timestamp)
                }
                if let currentKey { stats[currentKey] = current }
                if let openBlock { blocks[openBlock, default: MetricBlock()].merge(open) }
                for (key, row) in stats where row.count > 0 {
                    try row.save(db, run: id, key: key)
                }
                try MetricBlock.add(db, run: id, blocks)
            }
            for (key, value) in batch.params {
                try db.execute(
                    sql:
                        "INSERT INTO params (run_id, key, value) VALUES (?, ?, ?) ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value",
                    arguments: [id, key, JSONWriter.string(value)]
                )
            }
            for (key, value) in batch.tags {
                try db.execute(
                    sql:
                        "INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?) ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value",
                    arguments: [id, key, value]
                )
            }
            for link in batch.links {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO links (run_id, label, url, created_at) VALUES (?, ?, ?, ?)",
                    arguments: [id, link.label, link.url, Timestamp.microseconds(link.timestamp)]
                )
            }
            for line in batch.logs {
                try db.execute(
                    sql: "INSERT INTO logs (run_id, ts, level, message) VALUES (?, ?, ?, ?)",
                    arguments: [id, line.timestamp.map(Timestamp.microseconds), line.level?.rawValue, line.message]
                )
            }
            // A run's `updated_at` moves at most once a second while only metrics arrive, so a stream of
            // small batches does not rewrite the run's row (a page of the write-ahead log) every time.
            let now = Self.now()
            let onlyMetrics = batch.params.isEmpty && batch.tags.isEmpty && batch.links.isEmpty && batch.logs.isEmpty
            if !batch.isEmpty && (!onlyMetrics || now - updatedAt >= 1_000_000) {
                try db.cachedStatement(sql: "UPDATE runs SET updated_at = ? WHERE id = ?").execute(arguments: [now, id])
            }
            if !batch.params.isEmpty || !batch.tags.isEmpty {
                try SearchIndex.refresh(db, runID: id)
            }
            return BatchResult(metricsWritten: written, metricsIgnored: ignored)
        }
    }

    package func metricHistory(_ run: RunID, key: String, steps: ClosedRange<Int>?) async throws -> [MetricPoint] {
        try await read { db in
            guard try Self.runExists(db, run) else { throw Self.missing(run) }
            return try Self.history(db, run: run.rawValue, key: key, steps: steps)
        }
    }

    /// Without a step range, a history of more than `4 * maxPoints` points is downsampled from its block
    /// summaries (`metric_blocks`, see ``MetricBlock``) when it has at least as many blocks as buckets:
    /// consecutive blocks are grouped into `(maxPoints - 2) / 2` buckets and each bucket gives its minimum
    /// and maximum point; the first and last points are kept, as in ``MetricDownsampling/minMax(_:maxPoints:)``.
    /// Otherwise (a step range, or a short history) the points are read and downsampled exactly.
    package func downsampledHistory(
        _ run: RunID,
        key: String,
        steps: ClosedRange<Int>?,
        maxPoints: Int
    ) async throws -> DownsampledHistory {
        try await read { db in
            guard try Self.runExists(db, run) else { throw Self.missing(run) }
            let limit = max(4, maxPoints)
            if steps == nil, let fromBlocks = try Self.blockHistory(db, run: run.rawValue, key: key, limit: limit) {
                return fromBlocks
            }
            let points = try Self.history(db, run: run.rawValue, key: key, steps: steps)
            return DownsampledHistory(
                points: MetricDownsampling.minMax(points, maxPoints: limit),
                totalPoints: points.count
            )
        }
    }

    private static func history(
        _ db: Database,
        run: String,
        key: String,
        steps: ClosedRange<Int>?
    ) throws -> [MetricPoint] {
        var sql = "SELECT idx, step, value, ts FROM metrics WHERE run_id = ? AND key = ?"
        if steps != nil { sql += " AND step BETWEEN ? AND ?" }
        sql += " ORDER BY idx"
        let statement = try RawStatement(db, sql: sql)
        statement.bind(run, at: 1)
        statement.bind(key, at: 2)
        if let steps {
            statement.bind(Int64(steps.lowerBound), at: 3)
            statement.bind(Int64(steps.upperBound), at: 4)
        }
        var points: [MetricPoint] = []
        // The key's point count is an upper bound: one allocation instead of a growing array.
        points.reserveCapacity(try pointCount(db, run: run, key: key) ?? 0)
        while try statement.next() {
            points.append(
                MetricPoint(
                    index: Int(statement.int64(0)),
                    step: Int(statement.int64(1)),
                    timestamp: Timestamp.date(microseconds: statement.int64(3)),
                    value: statement.double(2) ?? .nan
                )
            )
        }
        return points
    }

    private static func pointCount(_ db: Database, run: String, key: String) throws -> Int? {
        try Int.fetchOne(
            db,
            sql: "SELECT count FROM metric_stats WHERE run_id = ? AND key = ?",
            arguments: [run, key]
        )
    }

    /// The downsampled history from block summaries, or `nil` when the exact path should answer.
    private static func blockHistory(_ db: Database, run: String, key: String, limit: Int) throws -> DownsampledHistory?
    {
        guard let total = try pointCount(db, run: run, key: key), limit < total / 4 else { return nil }
        let buckets = (limit - 2) / 2
        guard
            let blockCount = try Int.fetchOne(
                db,
                sql: "SELECT count(*) FROM metric_blocks WHERE run_id = ? AND key = ?",
                arguments: [run, key]
            ),
            blockCount >= buckets
        else { return nil }
        let statement = try RawStatement(
            db,
            sql: "SELECT \(MetricBlock.columns) FROM metric_blocks WHERE run_id = ? AND key = ? ORDER BY block"
        )
        statement.bind(run, at: 1)
        statement.bind(key, at: 2)
        var blocks: [MetricBlock] = []
        blocks.reserveCapacity(blockCount)
        while try statement.next() { blocks.append(MetricBlock(statement)) }
        guard blocks.count >= buckets, let first = blocks.first, let last = blocks.last else { return nil }
        let lookup = try RawStatement(
            db,
            sql: "SELECT step, value, ts FROM metrics WHERE run_id = ? AND key = ? AND idx = ?"
        )
        lookup.bind(run, at: 1)
        lookup.bind(key, at: 2)
        func point(at index: Int) throws -> MetricPoint? {
            lookup.bind(Int64(index), at: 3)
            defer { lookup.reset() }
            guard try lookup.next() else { return nil }
            return MetricPoint(
                index: index,
                step: Int(lookup.int64(0)),
                timestamp: Timestamp.date(microseconds: lookup.int64(2)),
                value: lookup.double(1) ?? .nan
            )
        }
        var points: [MetricPoint] = []
        points.reserveCapacity(limit)
        if let point = try point(at: first.firstIndex) { points.append(point) }
        for bucket in 0..<buckets {
            let start = bucket * blocks.count / buckets
            let end = (bucket + 1) * blocks.count / buckets
            guard start < end else { continue }
            var summary = MetricBlock()
            for block in blocks[start..<end] { summary.merge(block) }
            guard let minimum = summary.minimum, let maximum = summary.maximum else {
                // Every value in the bucket is NaN: keep one, so the gap shows.
                if summary.firstIndex > (points.last?.index ?? Int.min), let point = try point(at: summary.firstIndex) {
                    points.append(point)
                }
                continue
            }
            let pair = minimum.index <= maximum.index ? [minimum, maximum] : [maximum, minimum]
            for kept in pair where kept.index > (points.last?.index ?? Int.min) {
                points.append(kept.metricPoint)
            }
        }
        if last.lastIndex > (points.last?.index ?? Int.min), let point = try point(at: last.lastIndex) {
            points.append(point)
        }
        return DownsampledHistory(points: points, totalPoints: total)
    }

    package func logLines(_ run: RunID, limit: Int) async throws -> [LogLine] {
        try await read { db in
            guard try Self.runExists(db, run) else { throw Self.missing(run) }
            return try Row.fetchAll(
                db,
                sql: "SELECT ts, level, message FROM logs WHERE run_id = ? ORDER BY id LIMIT ?",
                arguments: [run.rawValue, max(0, limit)]
            ).map { row in
                let time: Int64? = row["ts"]
                let level: String? = row["level"]
                return LogLine(
                    timestamp: time.map(Timestamp.date(microseconds:)),
                    level: level.flatMap(LogLevel.init(rawValue:)),
                    message: row["message"]
                )
            }
        }
    }

    package func counts() async throws -> StoreCounts {
        try await read { db in
            StoreCounts(
                projects: try Int.fetchOne(db, sql: "SELECT count(*) FROM projects") ?? 0,
                runs: try Int.fetchOne(db, sql: "SELECT count(*) FROM runs") ?? 0,
                metricPoints: try Int.fetchOne(db, sql: "SELECT coalesce(sum(count), 0) FROM metric_stats") ?? 0
            )
        }
    }

    // MARK: Helpers

    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(body)
        } catch let error as QuillError {
            throw error
        } catch {
            throw QuillError(.io, "reading the SQLite store failed", underlying: error)
        }
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            // The synchronous form runs the transaction on the calling thread when the writer is free
            // (`DispatchQueue.sync`), instead of hopping to the writer's queue and back: two thread switches
            // less per request, which is most of a small batch's latency. Transactions are short (a batch of
            // at most the request size), so a caller waits only behind other writers' transactions.
            let pool = self.pool
            return try { try pool.write(body) }()
        } catch let error as QuillError {
            throw error
        } catch {
            throw QuillError(.io, "writing the SQLite store failed", underlying: error)
        }
    }

    static func now() -> Int64 { Timestamp.nowMicroseconds() }

    private static func missing(_ id: RunID) -> QuillError {
        QuillError(.notFound, "run '\(id)' not found")
    }

    private static func runExists(_ db: Database, _ id: RunID) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT 1 FROM runs WHERE id = ?", arguments: [id.rawValue]) ?? false
    }

    private static func isDescendant(_ db: Database, _ candidate: RunID, of ancestor: RunID) throws -> Bool {
        var current: String? = candidate.rawValue
        var seen = Set<String>()
        while let id = current, seen.insert(id).inserted {
            if id == ancestor.rawValue { return true }
            current = try String.fetchOne(db, sql: "SELECT parent_id FROM runs WHERE id = ?", arguments: [id])
        }
        return false
    }

    private static func freeName(_ db: Database, _ requested: String?, projectID: Int64) throws -> String {
        func taken(_ name: String) throws -> Bool {
            try Bool.fetchOne(
                db,
                sql: "SELECT 1 FROM runs WHERE project_id = ? AND name = ?",
                arguments: [projectID, name]
            ) ?? false
        }
        if let requested = requested?.trimmingWhitespace(), !requested.isEmpty {
            if try !taken(requested) { return requested }
            var suffix = 1
            while try taken("\(requested)_\(suffix)") { suffix += 1 }
            return "\(requested)_\(suffix)"
        }
        var generator = SystemRandomNumberGenerator()
        while true {
            let name = RunNames.random(using: &generator)
            if try !taken(name) { return name }
        }
    }

    private static func fetchRun(_ db: Database, _ id: RunID) throws -> StoredRun {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [id.rawValue]) else {
            throw missing(id)
        }
        return try run(from: row)
    }

    static func json(_ text: String?) -> JSONValue? {
        guard let text else { return nil }
        return try? JSONParser.parse(text)
    }

    static func run(from row: Row) throws -> StoredRun {
        let idText: String = row["id"]
        guard let id = RunID(idText) else {
            throw QuillError(.malformed, "the store holds an invalid run id '\(idText)'")
        }
        let parent: String? = row["parent_id"]
        let ended: Int64? = row["ended_at"]
        return StoredRun(
            id: id,
            projectID: row["project_id"],
            name: row["name"],
            description: row["description"],
            kind: RunKind(row["kind"] as String),
            parent: parent.flatMap(RunID.init),
            status: RunStatus(rawValue: row["status"]) ?? .running,
            createdAt: Timestamp.date(microseconds: row["created_at"]),
            updatedAt: Timestamp.date(microseconds: row["updated_at"]),
            startedAt: Timestamp.date(microseconds: row["started_at"]),
            endedAt: ended.map(Timestamp.date(microseconds:)),
            user: row["user"],
            host: row["host"],
            git: json(row["git"]),
            environment: json(row["environment"]),
            config: json(row["config"])?.objectValue ?? [:],
            summary: json(row["summary"])?.objectValue ?? [:]
        )
    }

    private static func details(_ db: Database, _ run: StoredRun) throws -> RunDetails {
        let id = run.id.rawValue
        var params: [String: JSONValue] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT key, value FROM params WHERE run_id = ?", arguments: [id]) {
            params[row["key"]] = json(row["value"]) ?? .null
        }
        var tags: [String: String] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT key, value FROM tags WHERE run_id = ?", arguments: [id]) {
            tags[row["key"]] = row["value"]
        }
        let links = try Row.fetchAll(
            db,
            sql: "SELECT label, url, created_at FROM links WHERE run_id = ? ORDER BY id",
            arguments: [id]
        )
        .map { RunLink(label: $0["label"], url: $0["url"], timestamp: Timestamp.date(microseconds: $0["created_at"])) }
        var metrics: [String: MetricStatistics] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT * FROM metric_stats WHERE run_id = ?", arguments: [id]) {
            let last: Double? = row["last_value"]
            let minimum: Double? = row["min_value"]
            let maximum: Double? = row["max_value"]
            metrics[row["key"]] = MetricStatistics(
                count: row["count"],
                last: last ?? .nan,
                lastStep: row["last_step"],
                min: minimum ?? .nan,
                max: maximum ?? .nan
            )
        }
        return RunDetails(run: run, params: params, tags: tags, links: links, metrics: metrics)
    }
}

/// The running statistics of one metric of one run, kept in `metric_stats` so searches and run pages do
/// not scan the points.
private struct StatsRow {
    var count = 0
    var lastIndex = -1
    var lastValue: Double?
    var lastStep: Int?
    var maxStep = -1
    var minValue: Double?
    var maxValue: Double?

    static func fetch(_ db: Database, run: String, key: String) throws -> StatsRow? {
        guard
            let row = try Row.fetchOne(
                db,
                sql: "SELECT * FROM metric_stats WHERE run_id = ? AND key = ?",
                arguments: [run, key]
            )
        else { return nil }
        return StatsRow(
            count: row["count"],
            lastIndex: row["last_idx"],
            lastValue: row["last_value"],
            lastStep: row["last_step"],
            maxStep: row["max_step"],
            minValue: row["min_value"],
            maxValue: row["max_value"]
        )
    }

    mutating func add(index: Int, step: Int, value: Double) {
        count += 1
        maxStep = max(maxStep, step)
        if index > lastIndex {
            lastIndex = index
            lastValue = value.isNaN ? nil : value
            lastStep = step
        }
        guard !value.isNaN else { return }
        minValue = minValue.map { min($0, value) } ?? value
        maxValue = maxValue.map { max($0, value) } ?? value
    }

    func save(_ db: Database, run: String, key: String) throws {
        try db.execute(
            sql: """
                INSERT INTO metric_stats (run_id, key, count, last_idx, last_value, last_step, max_step, min_value, max_value)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (run_id, key) DO UPDATE SET count = excluded.count, last_idx = excluded.last_idx,
                    last_value = excluded.last_value, last_step = excluded.last_step, max_step = excluded.max_step,
                    min_value = excluded.min_value, max_value = excluded.max_value
                """,
            arguments: [run, key, count, lastIndex, lastValue, lastStep, maxStep, minValue, maxValue]
        )
    }
}
