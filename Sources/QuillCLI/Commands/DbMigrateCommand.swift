import ArgumentParser
import Foundation
import GRDB
import QuillCore
import QuillStore
import QuillStorePostgres
import QuillStoreSQLite

/// `quill db migrate --store URL`: brings a store's schema up to date and says what it applied.
struct DbMigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Bring a store's schema up to date and list the migrations applied.",
        discussion: """
            PostgreSQL: applies the missing migrations in one transaction under an advisory lock, so replicas \
            starting at the same time are safe. SQLite: opening the store migrates it (a missing file is \
            created). Running it again applies nothing.
            """
    )

    @Option(
        help: ArgumentHelp(
            "The store: postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE, sqlite:PATH or a plain path.",
            valueName: "url"
        )
    )
    var store: String

    @Flag(help: "Print JSON.")
    var json = false

    func run() async throws {
        let url = try StoreFactory.url(store, data: FileManager.default.currentDirectoryPath)
        let backend: String
        let location: String
        let before: [String]
        let after: [String]
        switch url {
        case .sqlite(let path):
            backend = "SQLite"
            location = path
            before = try Self.sqliteMigrations(path)
            _ = try await SQLiteTrackingStore.open(path: path)
            after = try Self.sqliteMigrations(path)
        case .postgres(let postgres):
            backend = "PostgreSQL"
            location = postgres.description
            let database = try PostgresStore(location: postgres, maximumConnections: 2)
            before = try await database.recordedMigrations()
            try await DbService.whileRunning(database) { store in _ = try await store.migrate() }
            after = try await database.recordedMigrations()
        }
        let known = Set(before)
        let applied = after.filter { !known.contains($0) }
        if json {
            return Console.printJSON([
                "store": .string(location), "backend": .string(backend.lowercased()),
                "applied": .array(applied.map { .string($0) }), "migrations": .int(after.count),
                "up_to_date": true,
            ])
        }
        var list = KeyValueList()
        list.append("store", location)
        list.append("backend", backend)
        if applied.isEmpty {
            list.append("applied", "nothing")
        } else {
            for (index, name) in applied.enumerated() { list.append(index == 0 ? "applied" : "", name) }
        }
        list.append("schema", "up to date (\(after.count) migration\(after.count == 1 ? "" : "s"))")
        Console.print(
            applied.isEmpty
                ? "\(location) is up to date"
                : "migrated \(location): applied \(applied.count) migration\(applied.count == 1 ? "" : "s")"
        )
        Console.print(list.render())
    }

    /// The migrations a SQLite file has recorded (empty when it does not exist yet), read without changing it.
    static func sqliteMigrations(_ path: String) throws -> [String] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        var configuration = GRDB.Configuration()
        configuration.readonly = true
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            return try queue.read { db in
                guard try db.tableExists("grdb_migrations") else { return [] }
                return try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid")
            }
        } catch {
            throw QuillError(
                .io,
                "could not read the SQLite store \(path); check that it is a Quill database",
                underlying: error
            )
        }
    }
}
