import Logging
import PostgresNIO
import QuillCore
import Synchronization

/// The reachability check's own connection, outside the pool (``PostgresStore/watchReachability()``): opened
/// when needed, kept while the server answers, dropped when it does not.
///
/// Through the pool, a check waited behind the pool's reconnection attempts (with their back-off) and its
/// queue of requests, so an outage was noticed only after the check's ten-second timeout, and a return only once
/// the pool had reconnected. A connection of its own answers in milliseconds while the server is up, is closed
/// by the server when it stops (the next check then cannot connect: refused at once), and connects again as soon
/// as the server accepts connections.
final class ReachabilityProbe: Sendable {
    /// How often the server is checked.
    static let interval = Duration.milliseconds(500)
    /// How long a check (connecting included) may take before it counts as down.
    static let timeout = Duration.seconds(2)

    private let store: PostgresStore
    private let configuration: PostgresConnection.Configuration
    private let connection = Mutex<PostgresConnection?>(nil)

    init(store: PostgresStore) {
        self.store = store
        var configuration = store.connectionConfiguration
        configuration.options.connectTimeout = .seconds(2)
        self.configuration = configuration
    }

    /// Checks once: `nil` when the server answered `SELECT 1` within ``timeout``, else why it did not.
    func check() async -> String? {
        do {
            return try await withThrowingTaskGroup(of: String?.self) { group in
                group.addTask {
                    let connection = try await self.open()
                    for try await _ in try await connection.query("SELECT 1", logger: self.store.logger) {}
                    return nil
                }
                group.addTask {
                    try await Task.sleep(for: Self.timeout)
                    // Closing fails a statement still waiting for its answer; a connection attempt ends by its
                    // own timeout (of the same length).
                    self.close()
                    return "\(self.store.serverName) did not answer within \(Self.timeout); retry when it is up"
                }
                let first = try await group.next() ?? nil
                group.cancelAll()
                return first
            }
        } catch {
            close()
            return QuillError(postgres: error, location: store.location).message
        }
    }

    /// Closes the connection, if any; the next check opens a new one.
    func close() {
        guard let connection = connection.withLock({ $0.take() }) else { return }
        Self.close(connection)
    }

    /// Closes `connection`, keeping it until it is closed (PostgresNIO asserts that a connection it frees is).
    private static func close(_ connection: PostgresConnection) {
        connection.close().whenComplete { _ in _ = connection }
    }

    /// The open connection, or a new one.
    private func open() async throws -> PostgresConnection {
        if let open = connection.withLock({ $0 }), !open.isClosed { return open }
        close()
        let opened = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: store.logger)
        let replaced = connection.withLock { state in
            defer { state = opened }
            return state
        }
        if let replaced { Self.close(replaced) }
        return opened
    }
}
