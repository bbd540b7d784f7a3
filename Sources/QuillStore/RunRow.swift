import Foundation
package import QuillCore

/// A run as every backend stores it, column for column (the `runs` table): times in microseconds since the
/// epoch, JSON values as text written by ``JSONWriter``. The one mapping between a ``NewRun``, a ``RunUpdate``
/// and a ``StoredRun`` and the columns.
package struct RunRow: Sendable, Hashable {
    /// The run's id.
    package var id: String
    /// The project's id.
    package var projectID: Int64
    /// The name, unique in the project.
    package var name: String
    /// Free text.
    package var description: String?
    /// ``RunKind/label``.
    package var kind: String
    /// The parent's id.
    package var parentID: String?
    /// ``RunStatus/rawValue``.
    package var status: String
    /// When the row was made.
    package var createdAt: Int64
    /// When the row last changed.
    package var updatedAt: Int64
    /// When the run started.
    package var startedAt: Int64
    /// When it ended.
    package var endedAt: Int64?
    /// Who ran it.
    package var user: String?
    /// Where it ran.
    package var host: String?
    /// The git state as JSON.
    package var git: String?
    /// The environment as JSON.
    package var environment: String?
    /// The config as a JSON object.
    package var config: String
    /// The summary as a JSON object.
    package var summary: String
    /// When the run was moved to the trash, `nil` while active.
    package var deletedAt: Int64?

    /// A row as read.
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

    /// A new run's row, as `createRun` inserts it.
    package init(_ request: NewRun, id: RunID, name: String, now: Int64) {
        self.init(
            id: id.rawValue,
            projectID: request.projectID,
            name: name,
            description: request.description,
            kind: request.kind.label,
            parentID: request.parent?.rawValue,
            status: request.status.rawValue,
            createdAt: now,
            updatedAt: now,
            startedAt: request.startedAt.map(Timestamp.microseconds) ?? now,
            endedAt: request.endedAt.map(Timestamp.microseconds),
            user: request.user,
            host: request.host,
            git: request.git.map(JSONWriter.string),
            environment: request.environment.map(JSONWriter.string),
            config: JSONWriter.string(.object(request.config)),
            summary: "{}",
            deletedAt: nil
        )
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

    /// Applies an update whose parent the backend has checked (``RunUpdate/parent`` exists and is no
    /// descendant): status, end, description, name and parent replaced, the summary merged (new values win),
    /// `updated_at` set to `now`.
    package mutating func apply(_ update: RunUpdate, now: Int64) throws {
        var run = try stored()
        if let status = update.status { run.status = status }
        if let endedAt = update.endedAt { run.endedAt = endedAt }
        if let description = update.description { run.description = description }
        if let name = update.name { run.name = name }
        if let parent = update.parent { run.parent = parent }
        if let summary = update.summary { run.summary.merge(summary) { _, new in new } }
        status = run.status.rawValue
        endedAt = run.endedAt.map(Timestamp.microseconds)
        description = run.description
        name = run.name
        parentID = run.parent?.rawValue
        summary = JSONWriter.string(.object(run.summary))
        updatedAt = now
    }

    /// A JSON column's value; `nil` when NULL or not JSON.
    package static func json(_ text: String?) -> JSONValue? {
        guard let text else { return nil }
        return try? JSONParser.parse(text)
    }
}
