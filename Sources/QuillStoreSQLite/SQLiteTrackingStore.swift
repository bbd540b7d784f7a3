import Foundation
package import GRDB
package import QuillCore
package import QuillStore

/// The embedded store: one SQLite database file in WAL mode, through GRDB.
///
/// Every method is a transaction, and none runs on Swift's cooperative thread pool: writes go to one writer
/// queue (``SQLiteWriter``), which commits the writes that queued up meanwhile together (group commit), and
/// reads run on GRDB's reader connections, concurrently with the writer and never waiting for it (WAL). A
/// write is acknowledged only once committed, durable as ``SQLiteDurability`` says (by default synced to
/// disk).
///
/// ```swift
/// let store = try SQLiteTrackingStore(path: dataDirectory + "/quill.db")
/// let project = try await store.project(namespace: "ada", displayName: "MNIST")
/// ```
package final class SQLiteTrackingStore: TrackingStore {
    private let pool: DatabasePool
    private let writer: SQLiteWriter
    /// The database file.
    package let path: String
    /// How an acknowledged write is made durable.
    package let durability: SQLiteDurability

    /// Opens (creating when missing) the database at a path and brings its schema up to date.
    ///
    /// - Parameters:
    ///   - path: The database file.
    ///   - durability: How an acknowledged write is made durable; by default it is synced to disk first.
    /// - Throws: ``QuillError`` with code ``QuillError/Code/io`` when the file cannot be opened or migrated.
    package init(path: String, durability: SQLiteDurability = .full) throws {
        self.path = path
        self.durability = durability
        do {
            let folder = (path as NSString).deletingLastPathComponent
            if !folder.isEmpty {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            }
            try Self.restrictFileAccess(databasePath: path)
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            // Long metric histories are read by mapping the file rather than copying it through read(2) a page
            // at a time (pages still in the WAL are read as usual).
            configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA mmap_size = 1073741824") }
            let pool = try DatabasePool(path: path, configuration: configuration)
            // GRDB sets `synchronous = NORMAL` on the writer when it turns WAL on, after `prepareDatabase`; only
            // the writer's setting matters (readers write nothing), so it is set here, once.
            let synchronous = durability == .full ? "FULL" : "NORMAL"
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = \(synchronous)") }
            try Migrations.migrator.migrate(pool)
            self.pool = pool
            writer = SQLiteWriter(pool: pool)
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
                throw QuillError(.conflict, "a run with id '\(id)' already exists")
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
                        .conflict,
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

    /// Runs `body` in a read transaction on one of GRDB's reader connections (their own dispatch queues, off the
    /// cooperative thread pool); it sees the last committed state and never waits for the writer.
    package func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(body)
        } catch let error as QuillError {
            throw error
        } catch {
            throw QuillError(.io, "reading the SQLite store failed", underlying: error)
        }
    }

    /// Runs `body` in a write transaction on the writer queue (off the cooperative thread pool), grouped with
    /// the writes queued meanwhile, and returns once the transaction has committed.
    package func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await writer.write(body)
        } catch let error as QuillError {
            throw error
        } catch {
            throw QuillError(.io, "writing the SQLite store failed", underlying: error)
        }
    }

    /// What the writer has done so far (transactions and writes), for tests and diagnostics.
    package var writerStatistics: SQLiteWriter.Statistics { writer.statistics }

    /// The writer connection's `PRAGMA synchronous` (0 off, 1 normal, 2 full, 3 extra).
    package func synchronousSetting() async throws -> Int {
        try await write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    /// Closes the database's connections; later calls fail. Writes already queued finish first.
    package func close() async throws {
        try await write { _ in }
        try pool.close()
    }

    static func now() -> Int64 { Timestamp.nowMicroseconds() }

    static func missing(_ id: RunID) -> QuillError {
        QuillError(.notFound, "run '\(id)' not found")
    }

    static func runExists(_ db: Database, _ id: RunID) throws -> Bool {
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
