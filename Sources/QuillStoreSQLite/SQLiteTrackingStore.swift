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

    /// How long a connection waits for a lock another process holds (a `quill users` command, a second server
    /// on the same file) before the operation fails with ``QuillError/Code/unavailable``, a retryable error
    /// (HTTP 503 at the server).
    ///
    /// Within one process writes never wait for each other (they queue on ``SQLiteWriter``) and WAL readers never
    /// wait for the writer, so only another process's write transaction makes a connection wait, always off
    /// the cooperative thread pool (on the writer queue or a reader's queue). Five seconds outlasts any
    /// transaction Quill's commands hold, and answers before the SDK's 10-second request timeout, so a client
    /// gets a "retry" rather than a dropped request, and queued writes are not held longer than that.
    package static let defaultBusyTimeout: Duration = .seconds(5)

    /// Opens (creating when missing) the database at a path and brings its schema up to date.
    ///
    /// Runs synchronously (opening, migrating): call it once at startup, not from a request handler.
    ///
    /// - Parameters:
    ///   - path: The database file.
    ///   - durability: How an acknowledged write is made durable; by default it is synced to disk first.
    ///   - busyTimeout: How long to wait for a lock another process holds; see ``defaultBusyTimeout``.
    /// - Throws: ``QuillError`` with code ``QuillError/Code/io`` when the file cannot be opened or migrated.
    package init(
        path: String,
        durability: SQLiteDurability = .full,
        busyTimeout: Duration = SQLiteTrackingStore.defaultBusyTimeout
    ) throws {
        self.path = path
        self.durability = durability
        do {
            let folder = (path as NSString).deletingLastPathComponent
            if !folder.isEmpty {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            }
            try Self.restrictFileAccess(databasePath: path)
            var configuration = Configuration()
            let (seconds, attoseconds) = busyTimeout.components
            configuration.busyMode = .timeout(Double(seconds) + Double(attoseconds) / 1e18)
            // Long metric histories are read by mapping the file rather than copying it through read(2) a page
            // at a time (pages still in the WAL are read as usual).
            configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA mmap_size = 1073741824") }
            let pool = try DatabasePool(path: path, configuration: configuration)
            // GRDB sets `synchronous = NORMAL` on the writer when it turns WAL on, after `prepareDatabase`; only
            // the writer's setting matters (readers write nothing), so it is set here, once.
            let synchronous = durability == .full ? "FULL" : "NORMAL"
            // Temporary files in memory: a batch's statement journal (kept for statements that may fail
            // halfway inside the writer's savepoints) outgrows SQLite's in-memory 64 KiB and was a file made
            // and unlinked per batch, 7 system calls each.
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = \(synchronous); PRAGMA temp_store = MEMORY")
            }
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

    /// Opens the database as ``init(path:durability:busyTimeout:)`` does, on a dispatch queue rather than the
    /// caller's thread: opening a large database from an older version migrates it (backfills), which must
    /// not hold a thread of Swift's cooperative pool, where request handlers run.
    ///
    /// ```swift
    /// let store = try await SQLiteTrackingStore.open(path: dataDirectory + "/quill.db")
    /// ```
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/io`` when the file cannot be opened or migrated.
    package static func open(
        path: String,
        durability: SQLiteDurability = .full,
        busyTimeout: Duration = SQLiteTrackingStore.defaultBusyTimeout
    ) async throws -> SQLiteTrackingStore {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(
                    with: Result {
                        try SQLiteTrackingStore(path: path, durability: durability, busyTimeout: busyTimeout)
                    }
                )
            }
        }
    }

    // MARK: Projects

    package func project(namespace: String, displayName: String, createdBy: String?) async throws -> StoredProject {
        let project = Project(displayName: displayName)
        return try await write { db in
            // A project renamed to this display name is the one meant (display names are unique in a
            // namespace: `updateProject` refuses a taken one).
            if let named = try ProjectRecord.filter(
                ProjectRecord.Columns.namespace == namespace && ProjectRecord.Columns.displayName == project.displayName
            ).fetchOne(db) {
                return try Self.storedProject(db, named)
            }
            // Get or create: the schema's UNIQUE (namespace, slug) decides, so the project is made at most once.
            let record = ProjectRecord(
                namespace: namespace,
                project: project,
                createdAt: Self.now(),
                createdBy: createdBy
            )
            try record.insert(db, onConflict: .ignore)
            guard let stored = try Self.fetchProject(db, namespace: namespace, slug: project.slug) else {
                preconditionFailure("a project just inserted can be read back")
            }
            return stored
        }
    }

    package func project(namespace: String, slug: String) async throws -> StoredProject? {
        try await read { db in try Self.fetchProject(db, namespace: namespace, slug: slug) }
    }

    package func project(id: Int64) async throws -> StoredProject? {
        try await read { db in try ProjectRecord.fetchOne(db, key: id).map { try Self.storedProject(db, $0) } }
    }

    package func projects() async throws -> [StoredProject] {
        try await read { db in
            let records = try ProjectRecord.order(ProjectRecord.Columns.namespace, ProjectRecord.Columns.slug)
                .fetchAll(db)
            let tags = try ProjectTagRecord.tags(db, projectIDs: nil)
            return records.map { $0.stored(tags: tags[$0.id ?? 0] ?? [:]) }
        }
    }

    package func setVisibility(projectID: Int64, _ visibility: ProjectVisibility) async throws -> StoredProject {
        try await write { db in
            guard var record = try ProjectRecord.fetchOne(db, key: projectID) else {
                throw TrackingRules.missingProject(projectID)
            }
            record.visibility = visibility.rawValue
            try record.update(db, columns: [ProjectRecord.Columns.visibility])
            return try Self.storedProject(db, record)
        }
    }

    private static func fetchProject(_ db: Database, namespace: String, slug: String) throws -> StoredProject? {
        try ProjectRecord
            .filter(ProjectRecord.Columns.namespace == namespace && ProjectRecord.Columns.slug == slug)
            .fetchOne(db).map { try storedProject(db, $0) }
    }

    /// A project with its tags (every read of a project comes here or reads the tags of a list at once).
    static func storedProject(_ db: Database, _ record: ProjectRecord) throws -> StoredProject {
        let id = record.id ?? 0
        return record.stored(tags: try ProjectTagRecord.tags(db, projectIDs: [id])[id] ?? [:])
    }

    // MARK: Runs

    package func createRun(_ request: NewRun) async throws -> StoredRun {
        let conflicts: [UniqueConstraint: String] =
            request.id.map { id in
                [.runID: TrackingRules.runIDTaken(id)]
            } ?? [:]
        return try await write(conflicts: conflicts) { db in
            guard try ProjectRecord.exists(db, key: request.projectID) else {
                throw TrackingRules.missingProjectOfRun(request.projectID)
            }
            if let parent = request.parent, try !Self.runExists(db, parent) {
                throw TrackingRules.missingParent(parent)
            }
            let record = try Self.insertRun(db, request)
            for (key, value) in request.tags {
                try TagRecord(runID: record.id, key: key, value: value).insert(db)
            }
            try SearchIndex.refresh(db, runID: record.id)
            return try record.stored()
        }
    }

    package func run(_ id: RunID) async throws -> StoredRun? {
        try await read { db in try RunRecord.fetchOne(db, key: id.rawValue)?.stored() }
    }

    package func runDetails(_ id: RunID) async throws -> RunDetails? {
        try await read { db in
            guard let run = try RunRecord.fetchOne(db, key: id.rawValue)?.stored() else { return nil }
            return try Self.details(db, [run]).first
        }
    }

    package func updateRun(_ id: RunID, _ update: RunUpdate) async throws -> StoredRun {
        let conflicts: [UniqueConstraint: String] =
            update.name.map { name in
                [.runName: TrackingRules.runNameTaken(name)]
            } ?? [:]
        return try await write(conflicts: conflicts) { db in
            guard var record = try RunRecord.fetchOne(db, key: id.rawValue) else { throw Self.missing(id) }
            if case .some(.some(let parent)) = update.parent {
                guard parent != id else { throw TrackingRules.ownParent }
                guard try Self.runExists(db, parent) else { throw TrackingRules.missingParent(parent) }
                if try Self.isDescendant(db, parent, of: id) {
                    throw TrackingRules.descendantParent(parent, of: id)
                }
            }
            // A name another run of the project has is refused by the schema's UNIQUE (project_id, name).
            var row = record.row
            try row.apply(update, now: Self.now())
            record = RunRecord(row)
            try record.update(db)
            try SearchIndex.refresh(db, runID: id.rawValue)
            return try record.stored()
        }
    }

    package func deleteRun(_ id: RunID) async throws {
        try await write { db in
            guard try RunRecord.deleteOne(db, key: id.rawValue) else { throw Self.missing(id) }
        }
    }

    package func counts() async throws -> StoreCounts {
        try await read { db in
            // Active projects and runs (as the listings show them); metric points of every run, since runs in
            // the trash keep theirs.
            StoreCounts(
                projects: try ProjectRecord.filter(ProjectRecord.Columns.deletedAt == nil).fetchCount(db),
                // All runs less those in the trash: the count reads the smallest index, the trash its partial one.
                runs: try Int.fetchOne(
                    db,
                    sql: "SELECT (SELECT count(*) FROM runs) - (SELECT count(*) FROM runs WHERE deleted_at IS NOT NULL)"
                ) ?? 0,
                metricPoints: try Int.fetchOne(db, sql: "SELECT coalesce(sum(count), 0) FROM metric_stats") ?? 0
            )
        }
    }

    // MARK: Helpers

    /// Runs `body` in a read transaction on one of GRDB's reader connections (their own dispatch queues, off the
    /// cooperative thread pool); it sees the last committed state and never waits for the writer.
    ///
    /// - Throws: What `body` throws, database errors mapped by ``QuillError/init(sqlite:writing:conflicts:file:line:)``.
    package func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(body)
        } catch {
            throw QuillError(sqlite: error, writing: false)
        }
    }

    /// Runs `body` in a write transaction on the writer queue (off the cooperative thread pool), grouped with
    /// the writes queued meanwhile, and returns once the transaction has committed.
    ///
    /// - Throws: What `body` throws, database errors mapped by ``QuillError/init(sqlite:writing:conflicts:file:line:)``.
    package func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await write(conflicts: [:], body)
    }

    /// Runs `body` as ``write(_:)`` does, saying in the caller's words what is taken when `body` breaks a
    /// uniqueness rule of the schema (`conflicts` holds the caller's message for each rule it expects; the
    /// others get their rule's default message).
    func write<T: Sendable>(
        conflicts: [UniqueConstraint: String],
        _ body: @escaping @Sendable (Database) throws -> T
    ) async throws -> T {
        do {
            return try await writer.write(body)
        } catch {
            throw QuillError(sqlite: error, writing: true, conflicts: conflicts)
        }
    }

    /// What the writer has done so far (transactions and writes), for tests and diagnostics.
    package var writerStatistics: SQLiteWriter.Statistics { writer.statistics }

    /// The writer connection's `PRAGMA synchronous` (0 off, 1 normal, 2 full, 3 extra).
    package func synchronousSetting() async throws -> Int {
        try await write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    /// The writer connection's `PRAGMA temp_store` (0 default, 1 file, 2 memory).
    package func tempStoreSetting() async throws -> Int {
        try await write { db in try Int.fetchOne(db, sql: "PRAGMA temp_store") ?? -1 }
    }

    /// Closes the database's connections; later calls fail. Writes already queued finish first.
    package func close() async throws {
        try await write { _ in }
        try pool.close()
    }

    static func now() -> Int64 { Timestamp.nowMicroseconds() }

    static func missing(_ id: RunID) -> QuillError {
        TrackingRules.missingRun(id)
    }

    static func runExists(_ db: Database, _ id: RunID) throws -> Bool {
        try RunRecord.exists(db, key: id.rawValue)
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

    /// Inserts a new run's row, the schema deciding what is free: a generated id that is taken is drawn again,
    /// a taken name gets a free suffix (`name_1`, `name_2`, …: the first free one when the taken ones are
    /// `1…m`, as when runs of one name are made in turn, found with a few index lookups rather than by trying
    /// each, so the thousandth job named `python` does not try a thousand names) and a generated name is drawn
    /// again. A requested id that is taken is a conflict (``UniqueConstraint/runID``).
    static func insertRun(_ db: Database, _ request: NewRun) throws -> RunRecord {
        var names = RunNameCandidates(requested: request.name)
        var record = RunRecord(RunRow(request, id: request.id ?? RunID.random(), name: names.next(), now: now()))
        var searched = false
        while true {
            do {
                try record.insert(db)
                return record
            } catch let error as DatabaseError {
                switch UniqueConstraint(error) {
                case .runID? where request.id == nil: record.id = RunID.random().rawValue
                case .runName?:
                    if !searched, let requested = names.requested {
                        searched = true
                        names.skip(past: try lastTakenSuffix(db, project: request.projectID, name: requested))
                    }
                    record.name = names.next()
                default: throw error
                }
            }
        }
    }

    /// A suffix `n` such that `<name>_<n>` is taken in the project and `<name>_<n+1>` is free (0 when
    /// `<name>_1` is free): an exponential then a binary search over index lookups, exact when the taken
    /// suffixes are `1…m`.
    private static func lastTakenSuffix(_ db: Database, project: Int64, name: String) throws -> Int {
        var search = SuffixSearch()
        while let suffix = search.probe {
            let taken =
                try Bool.fetchOne(
                    db,
                    sql: "SELECT EXISTS (SELECT 1 FROM runs WHERE project_id = ? AND name = ?)",
                    arguments: [project, RunNameCandidates.suffixed(name, suffix)]
                ) ?? false
            search.record(taken: taken)
        }
        return search.result
    }
}
