import Foundation
import PostgresNIO
package import QuillCore
package import QuillStore

// Projects and runs on PostgreSQL: the same rules as SQLite (``TrackingRules``, ``RunRow``, ``RunNameCandidates``),
// in SQL. Metrics and logs are in `PostgresStore+Metrics.swift` and `PostgresStore+Logs.swift`.
extension PostgresStore {
    // MARK: Projects

    package func project(namespace: String, displayName: String, createdBy: String?) async throws -> StoredProject {
        let project = Project(displayName: displayName)
        return try await transaction { connection in
            // A project renamed to this display name is the one meant (display names are unique in a
            // namespace: `updateProject` refuses a taken one).
            if let named = try await fetchProjects(
                connection,
                "namespace = \(namespace) AND display_name = \(project.displayName) LIMIT 1"
            ).first {
                return named
            }
            // Get or create: the schema's UNIQUE (namespace, slug) decides, so the project is made at most once.
            try await connection.query(
                """
                INSERT INTO projects (namespace, slug, display_name, visibility, created_at, created_by)
                VALUES (\(namespace), \(project.slug), \(project.displayName), \(ProjectVisibility.private.rawValue),
                    \(Self.now()), \(createdBy))
                ON CONFLICT (namespace, slug) DO NOTHING
                """,
                logger: logger
            )
            guard
                let stored = try await fetchProjects(
                    connection,
                    "namespace = \(namespace) AND slug = \(project.slug)"
                ).first
            else {
                throw QuillError(.io, "a project just inserted could not be read back; retry")
            }
            return stored
        }
    }

    package func project(namespace: String, slug: String) async throws -> StoredProject? {
        try await withConnection { connection in
            try await fetchProjects(connection, "namespace = \(namespace) AND slug = \(slug)").first
        }
    }

    package func project(id: Int64) async throws -> StoredProject? {
        try await withConnection { connection in try await fetchProjects(connection, "id = \(id)").first }
    }

    package func projects() async throws -> [StoredProject] {
        try await snapshot { connection in try await fetchProjects(connection, "TRUE ORDER BY namespace, slug") }
    }

    package func setVisibility(projectID: Int64, _ visibility: ProjectVisibility) async throws -> StoredProject {
        try await transaction { connection in
            try await connection.query(
                "UPDATE projects SET visibility = \(visibility.rawValue) WHERE id = \(projectID)",
                logger: logger
            )
            guard let project = try await fetchProjects(connection, "id = \(projectID)").first else {
                throw TrackingRules.missingProject(projectID)
            }
            return project
        }
    }

    /// Changes a project's display name, tags and lifecycle stage in one transaction: removed tags go first,
    /// then set ones (a key in both ends up set); `updated_at` moves when anything changed.
    package func updateProject(_ id: Int64, _ update: ProjectUpdate) async throws -> StoredProject {
        let displayName = try TrackingRules.displayName(update)
        return try await transaction { connection in
            let rows = try await connection.query(
                "SELECT namespace, display_name, deleted_at FROM projects WHERE id = \(id) FOR NO KEY UPDATE",
                logger: logger
            )
            var found: (namespace: String, displayName: String, deletedAt: Int64?)?
            for try await row in rows.decode((String, String, Int64?).self) { found = row }
            guard var record = found else { throw TrackingRules.missingProject(id) }
            var changed = false
            if let displayName, displayName != record.displayName {
                // Display names are unique in a namespace, projects in the trash included. No index says so:
                // renames in one namespace take its lock, so the check holds until the commit.
                try await connection.query(
                    "SELECT pg_advisory_xact_lock(hashtextextended(\("quill.project-names." + record.namespace), 0))",
                    logger: logger
                )
                let taken = try await connection.query(
                    """
                    SELECT deleted_at FROM projects
                    WHERE namespace = \(record.namespace) AND display_name = \(displayName) AND id <> \(id) LIMIT 1
                    """,
                    logger: logger
                )
                for try await deletedAt in taken.decode(Int64?.self) {
                    throw TrackingRules.projectNameTaken(
                        namespace: record.namespace,
                        displayName: displayName,
                        inTrash: deletedAt != nil
                    )
                }
                record.displayName = displayName
                changed = true
            }
            if !update.removedTags.isEmpty {
                let removed = try await connection.query(
                    "DELETE FROM project_tags WHERE project_id = \(id) AND key = ANY(\(update.removedTags)) RETURNING key",
                    logger: logger
                )
                for try await _ in removed.decode(String.self) { changed = true }
            }
            if !update.setTags.isEmpty {
                try await setPairs(connection, "project_tags", owner: "project_id", id, update.setTags)
                changed = true
            }
            let now = Self.now()
            if let deletedAt = TrackingRules.trashChange(update.deleted, deletedAt: record.deletedAt, now: now) {
                record.deletedAt = deletedAt
                changed = true
            }
            if changed {
                try await connection.query(
                    """
                    UPDATE projects SET display_name = \(record.displayName), deleted_at = \(record.deletedAt),
                        updated_at = \(now)
                    WHERE id = \(id)
                    """,
                    logger: logger
                )
            }
            guard let project = try await fetchProjects(connection, "id = \(id)").first else {
                throw TrackingRules.missingProject(id)
            }
            return project
        }
    }

    /// Projects matching a condition (the text after `WHERE`, with its binds), with their tags.
    func fetchProjects(_ connection: PostgresConnection, _ condition: PostgresQuery) async throws -> [StoredProject] {
        let query = PostgresQuery(
            unsafeSQL: """
                SELECT id, namespace, slug, display_name, visibility, created_at, created_by, deleted_at, updated_at
                FROM projects WHERE
                """ + " " + condition.sql,
            binds: condition.binds
        )
        var projects: [StoredProject] = []
        let rows = try await connection.query(query, logger: logger)
        for try await row in rows.decode(
            (Int64, String, String, String, String, Int64, String?, Int64?, Int64?).self
        ) {
            var project = StoredProject(
                id: row.0,
                namespace: row.1,
                slug: row.2,
                displayName: row.3,
                visibility: ProjectVisibility(rawValue: row.4) ?? .private,
                createdAt: Timestamp.date(microseconds: row.5),
                createdBy: row.6
            )
            project.deletedAt = row.7.map(Timestamp.date(microseconds:))
            project.updatedAt = row.8.map(Timestamp.date(microseconds:))
            projects.append(project)
        }
        guard !projects.isEmpty else { return [] }
        var tags: [Int64: [String: String]] = [:]
        let tagRows = try await connection.query(
            "SELECT project_id, key, value FROM project_tags WHERE project_id = ANY(\(projects.map(\.id)))",
            logger: logger
        )
        for try await (project, key, value) in tagRows.decode((Int64, String, String).self) {
            tags[project, default: [:]][key] = value
        }
        return projects.map { project in
            var project = project
            project.tags = tags[project.id] ?? [:]
            return project
        }
    }

    // MARK: Runs

    package func createRun(_ request: NewRun) async throws -> StoredRun {
        try await transaction { connection in
            guard try await returnsRows(connection, "SELECT 1 FROM projects WHERE id = \(request.projectID)") else {
                throw TrackingRules.missingProjectOfRun(request.projectID)
            }
            if let parent = request.parent, try await !runExists(connection, parent) {
                throw TrackingRules.missingParent(parent)
            }
            let row = try await insertRun(connection, request)
            try await setPairs(connection, "tags", owner: "run_id", row.id, request.tags)
            let run = try row.stored()
            try await refreshSearchIndex(runID: run.id, on: connection)
            return run
        }
    }

    /// Inserts a new run's row, the schema deciding what is free: a generated id that is taken is drawn again,
    /// a taken name gets a free suffix (``RunNameCandidates``, ``SuffixSearch``) and a generated name is drawn
    /// again. A requested id that is taken is a conflict. `ON CONFLICT DO NOTHING` keeps the transaction
    /// usable when a row is taken; a run another transaction is inserting is waited for.
    func insertRun(_ connection: PostgresConnection, _ request: NewRun) async throws -> RunRow {
        var names = RunNameCandidates(requested: request.name)
        var row = RunRow(request, id: request.id ?? RunID.random(), name: names.next(), now: Self.now())
        var searched = false
        while true {
            let inserted = try await returnsRows(
                connection,
                """
                INSERT INTO runs (id, project_id, name, description, kind, parent_id, status, created_at, updated_at,
                    started_at, ended_at, "user", host, git, environment, config, summary, deleted_at)
                VALUES (\(row.id), \(row.projectID), \(row.name), \(row.description), \(row.kind), \(row.parentID),
                    \(row.status), \(row.createdAt), \(row.updatedAt), \(row.startedAt), \(row.endedAt), \(row.user),
                    \(row.host), \(row.git), \(row.environment), \(row.config), \(row.summary), \(row.deletedAt))
                ON CONFLICT DO NOTHING
                RETURNING 1
                """
            )
            if inserted { return row }
            guard let id = RunID(row.id) else { throw QuillError(.invalidArgument, "invalid run id '\(row.id)'") }
            if try await runExists(connection, id) {
                if let requested = request.id { throw QuillError(.conflict, TrackingRules.runIDTaken(requested)) }
                row.id = RunID.random().rawValue
                continue
            }
            if !searched, let requested = names.requested {
                searched = true
                var search = SuffixSearch()
                while let suffix = search.probe {
                    let name = RunNameCandidates.suffixed(requested, suffix)
                    let taken = try await returnsRows(
                        connection,
                        "SELECT 1 FROM runs WHERE project_id = \(row.projectID) AND name = \(name)"
                    )
                    search.record(taken: taken)
                }
                names.skip(past: search.result)
            }
            row.name = names.next()
        }
    }

    package func run(_ id: RunID) async throws -> StoredRun? {
        try await withConnection { connection in try await fetchRuns(connection, "id = \(id.rawValue)").first?.stored()
        }
    }

    package func runDetails(_ id: RunID) async throws -> RunDetails? {
        try await snapshot { connection in
            guard let run = try await fetchRuns(connection, "id = \(id.rawValue)").first?.stored() else { return nil }
            return try await details(connection, [run]).first
        }
    }

    package func updateRun(_ id: RunID, _ update: RunUpdate) async throws -> StoredRun {
        try await transaction { connection in
            guard var row = try await fetchRuns(connection, "id = \(id.rawValue) FOR NO KEY UPDATE").first else {
                throw TrackingRules.missingRun(id)
            }
            if case .some(.some(let parent)) = update.parent {
                guard parent != id else { throw TrackingRules.ownParent }
                guard try await runExists(connection, parent) else { throw TrackingRules.missingParent(parent) }
                if try await isDescendant(connection, parent, of: id) {
                    throw TrackingRules.descendantParent(parent, of: id)
                }
            }
            try row.apply(update, now: Self.now())
            do {
                try await connection.query(
                    """
                    UPDATE runs SET name = \(row.name), description = \(row.description), parent_id = \(row.parentID),
                        status = \(row.status), ended_at = \(row.endedAt), summary = \(row.summary),
                        updated_at = \(row.updatedAt)
                    WHERE id = \(row.id)
                    """,
                    logger: logger
                )
            } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
                // A name another run of the project has is refused by the schema's UNIQUE (project_id, name).
                throw QuillError(.conflict, TrackingRules.runNameTaken(row.name), underlying: error)
            }
            let run = try row.stored()
            try await refreshSearchIndex(runID: id, on: connection)
            return run
        }
    }

    /// Deletes a run; its children lose their parent (`ON DELETE SET NULL`), everything it logged goes with it.
    package func deleteRun(_ id: RunID) async throws {
        try await transaction { connection in
            guard try await returnsRows(connection, "DELETE FROM runs WHERE id = \(id.rawValue) RETURNING 1") else {
                throw TrackingRules.missingRun(id)
            }
        }
    }

    /// Moves a run to the trash or restores it; a run already there (or already active) is left as it is.
    /// The run's `updated_at` moves with a change (its last activity).
    package func setRunDeleted(_ id: RunID, _ deleted: Bool) async throws -> StoredRun {
        try await transaction { connection in
            guard var row = try await fetchRuns(connection, "id = \(id.rawValue) FOR NO KEY UPDATE").first else {
                throw TrackingRules.missingRun(id)
            }
            let now = Self.now()
            if let deletedAt = TrackingRules.trashChange(deleted, deletedAt: row.deletedAt, now: now) {
                row.deletedAt = deletedAt
                row.updatedAt = now
                try await connection.query(
                    "UPDATE runs SET deleted_at = \(row.deletedAt), updated_at = \(now) WHERE id = \(row.id)",
                    logger: logger
                )
                try await refreshSearchIndex(runID: id, on: connection)
            }
            return try row.stored()
        }
    }

    package func counts() async throws -> StoreCounts {
        try await withConnection { connection in
            // Active projects and runs (as the listings show them); metric points of every run, since runs in
            // the trash keep theirs.
            let rows = try await connection.query(
                """
                SELECT (SELECT count(*) FROM projects WHERE deleted_at IS NULL),
                    (SELECT count(*) FROM runs WHERE deleted_at IS NULL),
                    (SELECT coalesce(sum(count), 0)::bigint FROM metric_stats)
                """,
                logger: logger
            )
            for try await (projects, runs, points) in rows.decode((Int64, Int64, Int64).self) {
                return StoreCounts(projects: Int(projects), runs: Int(runs), metricPoints: Int(points))
            }
            return StoreCounts(projects: 0, runs: 0, metricPoints: 0)
        }
    }

    /// The random id the first migration stored when the database was created.
    package func serverID() async throws -> String {
        try await withConnection { connection in
            let rows = try await connection.query("SELECT id FROM server_identity LIMIT 1", logger: logger)
            for try await id in rows.decode(String.self) { return id }
            throw QuillError(.io, "the database has no server identity; it was not migrated")
        }
    }

    // MARK: Reading runs

    /// The columns of `runs` in ``RunRow``'s order, for ``fetchRuns(_:_:)`` (and searches).
    static let runColumns = """
        id, project_id, name, description, kind, parent_id, status, created_at, updated_at, started_at, ended_at,
        "user", host, git, environment, config, summary, deleted_at
        """

    /// The columns of `runs` qualified by a table alias (`r.id, r.project_id, …`), in ``RunRow``'s order.
    static func runColumns(table: String) -> String {
        runColumns.split(separator: ",").map { "\(table).\($0.trimmingCharacters(in: .whitespacesAndNewlines))" }
            .joined(separator: ", ")
    }

    /// The run of a row that starts with ``runColumns``.
    static func runRow(_ row: PostgresRandomAccessRow) throws -> RunRow {
        RunRow(
            id: try row[0].decode(String.self),
            projectID: try row[1].decode(Int64.self),
            name: try row[2].decode(String.self),
            description: try row[3].decode(String?.self),
            kind: try row[4].decode(String.self),
            parentID: try row[5].decode(String?.self),
            status: try row[6].decode(String.self),
            createdAt: try row[7].decode(Int64.self),
            updatedAt: try row[8].decode(Int64.self),
            startedAt: try row[9].decode(Int64.self),
            endedAt: try row[10].decode(Int64?.self),
            user: try row[11].decode(String?.self),
            host: try row[12].decode(String?.self),
            git: try row[13].decode(String?.self),
            environment: try row[14].decode(String?.self),
            config: try row[15].decode(String.self),
            summary: try row[16].decode(String.self),
            deletedAt: try row[17].decode(Int64?.self)
        )
    }

    /// Runs matching a condition (the text after `WHERE`, with its binds; it may end with `FOR NO KEY UPDATE`).
    func fetchRuns(_ connection: PostgresConnection, _ condition: PostgresQuery) async throws -> [RunRow] {
        let query = PostgresQuery(
            unsafeSQL: "SELECT \(Self.runColumns) FROM runs WHERE " + condition.sql,
            binds: condition.binds
        )
        var runs: [RunRow] = []
        for try await row in try await connection.query(query, logger: logger) {
            runs.append(try Self.runRow(row.makeRandomAccess()))
        }
        return runs
    }

    /// The details of several runs, in their order, in one query per table (a run page and a search page both
    /// come here).
    func details(_ connection: PostgresConnection, _ runs: [StoredRun]) async throws -> [RunDetails] {
        guard !runs.isEmpty else { return [] }
        let ids = runs.map(\.id.rawValue)
        let (params, tags) = try await PostgresSearch.paramsAndTags(ids, on: connection, logger: logger)
        var links: [String: [RunLink]] = [:]
        let linkRows = try await connection.query(
            "SELECT run_id, label, url, created_at FROM links WHERE run_id = ANY(\(ids)) ORDER BY id",
            logger: logger
        )
        for try await (run, label, url, created) in linkRows.decode((String, String, String, Int64).self) {
            links[run, default: []].append(
                RunLink(label: label, url: url, timestamp: Timestamp.date(microseconds: created))
            )
        }
        var metrics: [String: [String: MetricStatistics]] = [:]
        let statsRows = try await connection.query(
            """
            SELECT run_id, key, count, last_idx, last_value, last_step, max_step, min_value, max_value
            FROM metric_stats WHERE run_id = ANY(\(ids))
            """,
            logger: logger
        )
        for try await row in statsRows.decode(
            (String, String, Int64, Int64, Double?, Int64?, Int64, Double?, Double?).self
        ) {
            let values = MetricSeriesStatistics(
                count: Int(row.2),
                lastIndex: Int(row.3),
                lastValue: row.4,
                lastStep: row.5.map(Int.init),
                maxStep: Int(row.6),
                minValue: row.7,
                maxValue: row.8
            )
            metrics[row.0, default: [:]][row.1] = values.statistics
        }
        return TrackingRules.details(runs, params: params, tags: tags, links: links, metrics: metrics)
    }

    /// Whether a run exists.
    func runExists(_ connection: PostgresConnection, _ id: RunID) async throws -> Bool {
        try await returnsRows(connection, "SELECT 1 FROM runs WHERE id = \(id.rawValue)")
    }

    /// Sets rows `(owner, key, value)` of a key-value table (a run's params or tags, a project's tags) in one
    /// statement, keys in order: a key the owner has gets the new value.
    func setPairs(
        _ connection: PostgresConnection,
        _ table: String,
        owner column: String,
        _ owner: some PostgresEncodable,
        _ pairs: [String: String]
    ) async throws {
        guard !pairs.isEmpty else { return }
        let sorted = pairs.sorted { $0.key < $1.key }
        var binds = PostgresBindings()
        try binds.append(owner)
        binds.append(sorted.map(\.key))
        binds.append(sorted.map(\.value))
        let sql = """
            INSERT INTO \(table) (\(column), key, value)
            SELECT $1, key, value FROM unnest($2::text[], $3::text[]) AS p(key, value)
            ON CONFLICT (\(column), key) DO UPDATE SET value = excluded.value
            """
        try await connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
    }

    /// Whether a statement returns (or, with `RETURNING`, affects) at least one row.
    func returnsRows(_ connection: PostgresConnection, _ query: PostgresQuery) async throws -> Bool {
        let rows = try await connection.query(query, logger: logger)
        for try await _ in rows { return true }
        return false
    }

    /// Whether `candidate` is `ancestor` or descends from it: one walk up the parents (a recursive query that
    /// stops at a run it has seen, so a cycle cannot make it loop).
    private func isDescendant(
        _ connection: PostgresConnection,
        _ candidate: RunID,
        of ancestor: RunID
    ) async throws
        -> Bool
    {
        let rows = try await connection.query(
            """
            WITH RECURSIVE up(id) AS (
                SELECT \(candidate.rawValue)::text COLLATE "C"
                UNION
                SELECT r.parent_id FROM runs r JOIN up ON r.id = up.id WHERE r.parent_id IS NOT NULL
            )
            SELECT EXISTS (SELECT 1 FROM up WHERE id = \(ancestor.rawValue))
            """,
            logger: logger
        )
        for try await found in rows.decode(Bool.self) { return found }
        return false
    }

    // MARK: Helpers

    /// Runs `body` in a read-only transaction that sees one snapshot (`REPEATABLE READ`), so reads of several
    /// statements agree with each other as SQLite's read transactions do.
    func snapshot<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        try await withConnection { connection in
            try await connection.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            do {
                let result = try await body(connection)
                try await connection.query("COMMIT", logger: logger)
                return result
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    /// Now, in microseconds since the epoch (every time column).
    static func now() -> Int64 { Timestamp.nowMicroseconds() }
}
