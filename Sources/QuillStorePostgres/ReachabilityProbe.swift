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
/// as the server accepts connections. Only a check that gets no answer at all waits for ``timeout``.
final class ReachabilityProbe: Sendable {
    /// How often the server is checked.
    static let interval = Duration.milliseconds(500)
    /// How long a check (connecting included) may take before it counts as down. A stopped server is noticed at
    /// once (it closes the connection, then refuses the next); a slow answer counts as down only after this, so
    /// a busy server or a loaded machine (tens of stores starting at once in the test suite) is no outage.
    static let timeout = Duration.seconds(10)

    private let store: PostgresStore
    private let configuration: PostgresConnection.Configuration
    private let connection = Mutex<PostgresConnection?>(nil)

    init(store: PostgresStore) {
        self.store = store
        var configuration = store.connectionConfiguration
        configuration.options.connectTimeout = .seconds(PostgresStore.connectTimeoutSeconds)
        self.configuration = configuration
    }

    /// What one check found.
    enum Outcome: Equatable {
        /// The server answered.
        case answered
        /// The server refused the connection, closed it, or failed the statement: it is down.
        case failed(String)
        /// No answer within ``timeout``: down, or only slow (a loaded machine).
        case noAnswer(String)
    }

    /// Checks once: whether the server answered `SELECT 1` within ``timeout``.
    func check() async -> Outcome {
        do {
            return try await withThrowingTaskGroup(of: Outcome.self) { group in
                group.addTask {
                    let connection = try await self.open()
                    for try await _ in try await connection.query("SELECT 1", logger: self.store.logger) {}
                    return .answered
                }
                group.addTask {
                    try await Task.sleep(for: Self.timeout)
                    // Closing fails a statement still waiting for its answer; a connection attempt ends by its
                    // own timeout (of the same length).
                    self.close()
                    let server = self.store.serverName
                    return .noAnswer("\(server) did not answer within \(Self.timeout); retry when it is up")
                }
                let first = try await group.next() ?? .answered
                group.cancelAll()
                return first
            }
        } catch {
            close()
            return .failed(QuillError(postgres: error, location: store.location).message)
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
