import ArgumentParser
import Foundation
import QuillCore
import QuillStore
import QuillStorePostgres
import Synchronization

/// `quill db migrate|copy`: a server's database, handled on the server's side.
struct DbCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Migrate a server's database, or copy a SQLite store into PostgreSQL.",
        discussion: """
            `quill serve` migrates its store when it starts; `quill db migrate` does it explicitly (before \
            starting several replicas, or to see what an upgrade changes). `quill db copy` moves a whole SQLite \
            store into an empty PostgreSQL database, resumably.
            """,
        subcommands: [DbMigrateCommand.self, DbCopyCommand.self]
    )
}

/// Runs a ``PostgresStore``'s service (pool, migrations, change listener) around one-shot work, and turns a
/// database that stays unreachable into a one-line error instead of waiting for ever (the service retries).
enum DbService {
    /// How long a command waits for the database before giving up.
    static let patience: Duration = .seconds(30)

    /// Runs `work` once the store's service has brought the schema up to date, then stops the service.
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/unavailable`` when the database cannot be reached
    ///   within ``patience``, the service's error (a refused login, a failed migration), or `work`'s error.
    static func whileRunning<Result: Sendable>(
        _ store: PostgresStore,
        _ work: (PostgresStore) async throws -> Result
    ) async throws -> Result {
        let ready = DbFlag()
        let timedOut = DbFlag()
        let service = Task { try await store.run() }
        let watchdog = Task {
            try? await Task.sleep(for: patience)
            if !Task.isCancelled, !ready.isSet {
                timedOut.set()
                service.cancel()
            }
        }
        defer { watchdog.cancel() }
        do {
            // Waits for the service to have migrated (or to have failed).
            try await store.withConnection { _ in }
            ready.set()
            let result = try await work(store)
            service.cancel()
            _ = await service.result
            return result
        } catch {
            service.cancel()
            _ = await service.result
            if timedOut.isSet {
                throw QuillError(
                    .unavailable,
                    "could not reach \(store.location) within \(patience.components.seconds) s; check the URL and that PostgreSQL runs"
                )
            }
            throw error
        }
    }
}

/// A yes/no that tasks share.
final class DbFlag: Sendable {
    private let value = Mutex(false)

    /// Whether ``set()`` was called.
    var isSet: Bool { value.withLock { $0 } }

    /// Sets the flag.
    func set() { value.withLock { $0 = true } }
}
