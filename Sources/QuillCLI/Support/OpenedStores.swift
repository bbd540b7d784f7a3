import QuillCore
import QuillStore
import ServiceLifecycle

/// The stores ``StoreFactory`` opened for a command, and the services that keep them alive.
struct OpenedStores: Sendable {
    /// Where the records live.
    let url: StoreURL
    /// Runs, accounts and artifact records.
    let backend: any StoreBackend
    /// Artifact bytes.
    let blobs: any BlobStore

    /// The services to run for as long as the stores are used, in start order (a `ServiceGroup` shuts them
    /// down in reverse, so put the server after them).
    var services: [any Service] { [backend, blobs] }

    /// The store as messages name it: the database file for SQLite, the URL without its password for PostgreSQL.
    var location: String {
        switch url {
        case .sqlite(let path): path
        case .postgres(let location): location.description
        }
    }

    /// Runs `body` with the services it must still run (in its `ServiceGroup`), with the backend usable from the
    /// start: an embedded SQLite store is usable before its service runs, so it stays among the services (its
    /// service ends the group when its file is replaced); a PostgreSQL store's pool must run first, so it runs
    /// around `body` and closes after it, the last to stop.
    func withBackendRunning<Result: Sendable>(
        _ body: @Sendable ([any Service]) async throws -> Result
    ) async throws -> Result {
        guard case .postgres = url else { return try await body(services) }
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await backend.run() }
            do {
                let result = try await body([blobs])
                group.cancelAll()
                try? await group.waitForAll()
                return result
            } catch {
                group.cancelAll()
                try? await group.waitForAll()
                throw error
            }
        }
    }

    /// Runs a one-shot command's work while the stores' services run, then stops them (closing the stores)
    /// and waits for them.
    func whileRunning<Result>(_ work: () async throws -> Result) async throws -> Result {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for service in services {
                group.addTask { try await service.run() }
            }
            do {
                let result = try await work()
                group.cancelAll()
                try await group.waitForAll()
                return result
            } catch {
                group.cancelAll()
                try? await group.waitForAll()
                throw error
            }
        }
    }
}
