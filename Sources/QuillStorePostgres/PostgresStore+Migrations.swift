import PostgresNIO
import QuillCore

extension PostgresStore {
    /// A fixed key for `pg_advisory_xact_lock`: replicas starting together migrate one after the other.
    static let migrationLock: Int64 = 0x5155_494C_4C5F_4D31  // "QUILL_M1"

    /// Applies the migrations the database lacks, once the store is running, and returns their names (empty
    /// when the schema was up to date): `quill db migrate`.
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/unavailable`` when the database cannot be reached,
    ///   or ``QuillError/Code/io`` when a migration fails (nothing of it is applied).
    @discardableResult
    package func migrate() async throws -> [String] {
        // The service migrates when it starts; by the time the gate opens there is nothing left, unless another
        // process added migrations in between (it cannot: they are compiled in). Run again to report.
        try await readiness.wait()
        return try await migrateNow()
    }

    /// Applies the missing migrations in one transaction under the advisory lock.
    @discardableResult
    func migrateNow() async throws -> [String] {
        do {
            return try await withSingleConnection { connection in
                try await connection.query("BEGIN", logger: logger)
                do {
                    try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: logger)
                    try await connection.query(
                        """
                        CREATE TABLE IF NOT EXISTS quill_migrations (
                            identifier TEXT PRIMARY KEY NOT NULL,
                            applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
                        )
                        """,
                        logger: logger
                    )
                    var applied = Set<String>()
                    for try await identifier in try await connection.query(
                        "SELECT identifier FROM quill_migrations",
                        logger: logger
                    ).decode(String.self) {
                        applied.insert(identifier)
                    }
                    var done: [String] = []
                    for migration in PostgresMigrations.all where !applied.contains(migration.identifier) {
                        for statement in migration.statements {
                            try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                        }
                        try await connection.query(
                            "INSERT INTO quill_migrations (identifier) VALUES (\(migration.identifier))",
                            logger: logger
                        )
                        done.append(migration.identifier)
                    }
                    try await connection.query("COMMIT", logger: logger)
                    if !done.isEmpty { logger.info("applied PostgreSQL migrations: \(done.joined(separator: ", "))") }
                    return done
                } catch {
                    _ = try? await connection.query("ROLLBACK", logger: logger)
                    throw error
                }
            }
        } catch {
            throw QuillError(postgres: error, location: location, migrating: true)
        }
    }
}
