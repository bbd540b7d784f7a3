package import QuillCore

/// The columns of a row of the `runs` table as both stores keep them (times in microseconds, JSON as text),
/// and the one mapping of that row to a ``StoredRun``.
package struct RunColumns: Sendable {
    /// The columns in the order of ``init(id:projectID:name:description:kind:parentID:status:createdAt:updatedAt:startedAt:endedAt:user:host:git:environment:config:summary:deletedAt:)``,
    /// qualified by `table` (`r.id, r.project_id, …`), `user` quoted as PostgreSQL needs (and SQLite accepts).
    package static func names(table: String) -> String {
        [
            "id", "project_id", "name", "description", "kind", "parent_id", "status", "created_at", "updated_at",
            "started_at", "ended_at", "\"user\"", "host", "git", "environment", "config", "summary", "deleted_at",
        ]
        .map { "\(table).\($0)" }.joined(separator: ", ")
    }

    package var id: String
    package var projectID: Int64
    package var name: String
    package var description: String?
    package var kind: String
    package var parentID: String?
    package var status: String
    package var createdAt: Int64
    package var updatedAt: Int64
    package var startedAt: Int64
    package var endedAt: Int64?
    package var user: String?
    package var host: String?
    package var git: String?
    package var environment: String?
    package var config: String
    package var summary: String
    package var deletedAt: Int64?

    /// A row from its columns.
    package init(
        id: String,
        projectID: Int64,
        name: String,
        description: String?,
        kind: String,
        parentID: String?,
        status: String,
        createdAt: Int64,
        updatedAt: Int64,
        startedAt: Int64,
        endedAt: Int64?,
        user: String?,
        host: String?,
        git: String?,
        environment: String?,
        config: String,
        summary: String,
        deletedAt: Int64?
    ) {
        self.id = id
        self.projectID = projectID
        self.name = name
        self.description = description
        self.kind = kind
        self.parentID = parentID
        self.status = status
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.user = user
        self.host = host
        self.git = git
        self.environment = environment
        self.config = config
        self.summary = summary
        self.deletedAt = deletedAt
    }

    /// The run, as the store's protocols give it.
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/malformed`` when the row's id is not a valid run id.
    package func stored() throws -> StoredRun {
        guard let runID = RunID(id) else {
            throw QuillError(.malformed, "the store holds an invalid run id '\(id)'")
        }
        var run = StoredRun(
            id: runID,
            projectID: projectID,
            name: name,
            description: description,
            kind: RunKind(kind),
            parent: parentID.flatMap(RunID.init),
            status: RunStatus(rawValue: status) ?? .running,
            createdAt: Timestamp.date(microseconds: createdAt),
            updatedAt: Timestamp.date(microseconds: updatedAt),
            startedAt: Timestamp.date(microseconds: startedAt),
            endedAt: endedAt.map(Timestamp.date(microseconds:)),
            user: user,
            host: host,
            git: Self.json(git),
            environment: Self.json(environment),
            config: Self.json(config)?.objectValue ?? [:],
            summary: Self.json(summary)?.objectValue ?? [:]
        )
        run.deletedAt = deletedAt.map(Timestamp.date(microseconds:))
        return run
    }

    /// A JSON column's value; `nil` when NULL or not JSON.
    package static func json(_ text: String?) -> JSONValue? {
        guard let text else { return nil }
        return try? JSONParser.parse(text)
    }
}
