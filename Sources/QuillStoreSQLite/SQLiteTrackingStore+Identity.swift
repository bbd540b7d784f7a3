import GRDB
import QuillCore

extension SQLiteTrackingStore {
    /// The random id the migration "server identity" stored when the database was created or upgraded.
    package func serverID() async throws -> String {
        try await read { db in
            guard let id = try String.fetchOne(db, sql: "SELECT id FROM server_identity LIMIT 1") else {
                throw QuillError(.io, "the database has no server identity; it was not migrated")
            }
            return id
        }
    }
}
