import PostgresNIO
import QuillCore

extension PostgresStore {
    /// The names of the migrations the database has recorded, oldest first (empty for a database Quill never
    /// migrated), read on a connection of its own: it needs neither the service nor an up-to-date schema, and
    /// fails at once when the database cannot be reached (`quill db migrate` reports what it applied from the
    /// names before and after).
    ///
    /// - Throws: ``QuillError`` mapped from the database's failure (``QuillError/init(postgres:location:migrating:)``).
    package func recordedMigrations() async throws -> [String] {
        do {
            return try await withSingleConnection { connection in
                var exists = false
                for try await found in try await connection.query(
                    "SELECT to_regclass('quill_migrations') IS NOT NULL",
                    logger: logger
                ).decode(Bool.self) {
                    exists = found
                }
                guard exists else { return [] }
                var names: [String] = []
                for try await name in try await connection.query(
                    "SELECT identifier FROM quill_migrations ORDER BY applied_at, identifier",
                    logger: logger
                ).decode(String.self) {
                    names.append(name)
                }
                // In the order of the list (one transaction may apply several, at one time); unknown ones (a
                // newer Quill's) last.
                let order = Dictionary(
                    PostgresMigrations.all.enumerated().map { ($1.identifier, $0) },
                    uniquingKeysWith: { first, _ in first }
                )
                return names.enumerated().sorted { left, right in
                    (order[left.element] ?? Int.max, left.offset) < (order[right.element] ?? Int.max, right.offset)
                }.map(\.element)
            }
        } catch {
            throw QuillError(postgres: error, location: location)
        }
    }

    /// The number of migrations this version of Quill knows (the schema is up to date when all are recorded).
    package static var knownMigrationCount: Int { PostgresMigrations.all.count }
}

extension PostgresStore {
    /// A fixed key for the session lock `quill db copy` holds while it writes: one copy into a database at a time.
    package static let copyLock: Int64 = 0x5155_494C_4C5F_4350  // "QUILL_CP"

    /// Runs `body` while this process holds the copy lock (a session advisory lock on a connection of its own,
    /// released when that connection closes).
    ///
    /// A copy resumes after the largest key PostgreSQL holds, so it must not read that while another copy still
    /// writes. That includes a copy that was just killed: its backend may still be committing a batch the
    /// killed process had sent, and ends its session (releasing the lock) only after that commit; the resumed
    /// copy waits for it and then sees the batch, instead of writing it again. Another copy still running after
    /// `waiting` is an error that says so.
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/conflict`` when another copy holds the lock longer
    ///   than `waiting`; the database's errors mapped as usual.
    @discardableResult
    package func withCopyLock<Result: Sendable>(
        waiting: Duration = .seconds(30),
        _ body: () async throws -> Result
    ) async throws -> Result {
        try await withSingleConnection { connection in
            let deadline = ContinuousClock.now + waiting
            while true {
                var held = false
                for try await value in try await connection.query(
                    "SELECT pg_try_advisory_lock(\(Self.copyLock))",
                    logger: logger
                ).decode(Bool.self) {
                    held = value
                }
                if held { break }
                guard ContinuousClock.now < deadline else {
                    throw QuillError(
                        .conflict,
                        "another quill db copy is writing into \(location); wait until it ends (or stop it), then run this again"
                    )
                }
                try await Task.sleep(for: .milliseconds(200))
            }
            return try await body()
        }
    }
}
