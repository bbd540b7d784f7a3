import Foundation
import Logging
import PostgresNIO
import QuillCore
import QuillStore
import QuillStorePostgres
import QuillTesting
import Testing

@Suite("PostgreSQL migrations")
struct PostgresMigrationTests {
    @Test("replicas starting at the same moment apply each migration once, and a second start applies none")
    func concurrentStarts() async throws {
        let location = try await TestPostgres.database("migrations")
        let stores = try (0..<4).map { _ in try PostgresStore(location: location, maximumConnections: 2) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for store in stores { group.addTask { try await store.run() } }
            // Every store is usable once its service has migrated; each answers the same identity.
            var identities = Set<String>()
            for store in stores { identities.insert(try await store.serverIDFromSchema()) }
            #expect(identities.count == 1)
            #expect(try await stores[0].migrate().isEmpty)
            let applied = try await stores[0].withConnection { connection in
                var names: [String] = []
                for try await name in try await connection.query(
                    "SELECT identifier FROM quill_migrations ORDER BY applied_at, identifier",
                    logger: Logger(label: "test")
                ).decode(String.self) {
                    names.append(name)
                }
                return names
            }
            #expect(applied.count == Set(applied).count)
            #expect(applied.count == PostgresStore.knownMigrationCount)
            group.cancelAll()
        }
    }

    @Test("a database that does not exist is one clear error, not a hang")
    func missingDatabase() async throws {
        let server = try TestPostgres.server()
        let store = try PostgresStore(
            location: server.with(database: "qt_missing_\(UInt32.random(in: 0...UInt32.max))")
        )
        await #expect(throws: QuillError.self) { try await store.run() }
        do {
            _ = try await store.migrate()
            Issue.record("expected an error")
        } catch let error as QuillError {
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains("does not exist"), "\(error.message)")
        }
    }
}

extension PostgresStore {
    /// The server identity row, read directly (the tracking methods may not exist yet).
    fileprivate func serverIDFromSchema() async throws -> String {
        try await withConnection { connection in
            let rows = try await connection.query("SELECT id FROM server_identity", logger: Logger(label: "test"))
            var ids: [String] = []
            for try await id in rows.decode(String.self) { ids.append(id) }
            guard ids.count == 1, let id = ids.first else {
                throw QuillError(.io, "expected one identity row, got \(ids.count)")
            }
            return id
        }
    }
}
