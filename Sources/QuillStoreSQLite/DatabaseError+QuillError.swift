import Foundation
import GRDB
import QuillCore
import QuillStore

/// A uniqueness rule of the schema, as SQLite names it when a write breaks it.
///
/// SQLite reports a broken rule as `UNIQUE constraint failed: runs.project_id, runs.name` (extended result code
/// `SQLITE_CONSTRAINT_UNIQUE`, or `SQLITE_CONSTRAINT_PRIMARYKEY` for a primary key); the columns after the colon
/// name the rule. Store methods that expect one say what is taken in their own words (with the value the caller
/// gave) through `SQLiteTrackingStore.write(conflicts:_:)`; every other rule has a default message here.
enum UniqueConstraint: Hashable, Sendable {
    /// `runs.id`: a client-chosen run id.
    case runID
    /// `runs (project_id, name)`: a run's name within its project.
    case runName
    /// `projects (namespace, slug)`: a project's name within its namespace.
    case projectSlug
    /// `account_names.name`, `users.name`, `organizations.name`: users and organizations share one space of
    /// names (migration "v9").
    case accountName
    /// `api_keys.hash`.
    case apiKeyHash
    /// Any other rule, by SQLite's column list (`links.run_id, links.label, links.url`).
    case other(String)

    /// The rule a constraint error broke, from SQLite's message; `nil` when the error is not a uniqueness
    /// violation.
    init?(_ error: DatabaseError) {
        guard
            error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE
                || error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY
        else { return nil }
        let prefix = "constraint failed: "
        let columns = error.message.flatMap { message in
            message.range(of: prefix).map { String(message[$0.upperBound...]) }
        }
        switch columns {
        case "runs.id": self = .runID
        case "runs.project_id, runs.name": self = .runName
        case "projects.namespace, projects.slug": self = .projectSlug
        case "account_names.name", "users.name", "organizations.name": self = .accountName
        case "api_keys.hash": self = .apiKeyHash
        default: self = .other(columns ?? "")
        }
    }

    /// What is taken and what to do, when the store method did not say it in its own words.
    var defaultMessage: String {
        switch self {
        case .runID: "the run id is taken on this server; leave the id out to get a fresh one, or choose another"
        case .runName: "the project already has a run of this name; choose another name"
        case .projectSlug: "the namespace already has a project of this name; choose another name"
        case .accountName: "the name is taken by a user or an organization; choose another"
        case .apiKeyHash: AccountRules.apiKeyHashTaken.message
        case .other: "the record already exists; read it instead of creating it again"
        }
    }
}

extension QuillError {
    /// The one mapping of the SQLite store's failures to ``QuillError`` codes.
    ///
    /// - a broken uniqueness rule (`SQLITE_CONSTRAINT_UNIQUE`, `SQLITE_CONSTRAINT_PRIMARYKEY`) is
    ///   ``QuillError/Code/conflict`` (HTTP 409), with the message `conflicts` gives for its ``UniqueConstraint``
    ///   or the rule's default;
    /// - a database locked by another connection for longer than the busy timeout (`SQLITE_BUSY`,
    ///   `SQLITE_LOCKED`) is ``QuillError/Code/unavailable``: the same request may succeed when retried;
    /// - everything else (`SQLITE_FULL`, `SQLITE_IOERR`, a corrupt file, other constraints) is
    ///   ``QuillError/Code/io``.
    ///
    /// SQLite's own text (which quotes tables, columns and SQL) never goes into the message; the
    /// `DatabaseError` stays the ``QuillError/underlying`` cause, for logs. A ``QuillError`` thrown by the
    /// store's own code passes through unchanged.
    ///
    /// ```swift
    /// do {
    ///     try db.execute(sql: "UPDATE runs SET name = ? WHERE id = ?", arguments: [name, id])
    /// } catch {
    ///     throw QuillError(sqlite: error, writing: true)
    /// }
    /// ```
    ///
    /// - Parameters:
    ///   - error: What GRDB or the store's own code threw.
    ///   - writing: Whether the failed operation was a write (it only changes the message of an I/O error).
    ///   - conflicts: The caller's own messages for the uniqueness rules it expects (with the values it was
    ///     given); the others get their rule's default.
    init(
        sqlite error: any Error,
        writing: Bool,
        conflicts: [UniqueConstraint: String] = [:],
        file: String = #fileID,
        line: Int = #line
    ) {
        if let error = error as? QuillError {
            self = error
            return
        }
        guard let database = error as? DatabaseError else {
            self.init(
                .io,
                writing ? "writing the SQLite store failed" : "reading the SQLite store failed",
                underlying: error,
                file: file,
                line: line
            )
            return
        }
        if let constraint = UniqueConstraint(database) {
            self.init(
                .conflict,
                conflicts[constraint] ?? constraint.defaultMessage,
                underlying: database,
                file: file,
                line: line
            )
            return
        }
        switch database.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            self.init(
                .unavailable,
                "the SQLite store is locked by another process (a `quill` command or a second server on the same file); retry in a moment",
                underlying: database,
                file: file,
                line: line
            )
        case .SQLITE_FULL:
            self.init(
                .io,
                "the disk holding the SQLite store is full; free some space and retry",
                underlying: database,
                file: file,
                line: line
            )
        default:
            self.init(
                .io,
                writing
                    ? "writing the SQLite store failed; the server log has the cause"
                    : "reading the SQLite store failed; the server log has the cause",
                underlying: database,
                file: file,
                line: line
            )
        }
    }
}
