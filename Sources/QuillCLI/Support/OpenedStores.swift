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
