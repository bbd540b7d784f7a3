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
