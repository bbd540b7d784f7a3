import Foundation
package import Logging
package import PostgresNIO
import QuillCore
package import QuillStore
import Synchronization

/// The PostgreSQL store: the same records as ``StoreBackend`` on SQLite, in a PostgreSQL database that several
/// `quill serve` replicas may share.
///
/// The store talks to the database through one PostgresNIO connection pool (``PostgresClient``), which its
/// service (``run()``) keeps running. Until the service has started and brought the schema up to date, every
/// method waits for it; a database that cannot be reached makes the methods throw
/// ``QuillError/Code/unavailable`` (HTTP 503) until it comes back.
///
/// Every method is one transaction (or one statement). Writes are acknowledged only once committed, with the
/// server's `synchronous_commit` (on by default: durable).
///
/// ```swift
/// let store = try PostgresStore(location: try PostgresLocation(parsing: "postgres://quill@db/quill"))
/// try await withThrowingTaskGroup(of: Void.self) { group in
///     group.addTask { try await store.run() }
///     let project = try await store.project(namespace: "ada", displayName: "MNIST")
///     group.cancelAll()
/// }
/// ```
package final class PostgresStore: Sendable {
    /// The database.
    package let location: PostgresLocation
    /// The connection pool.
    package let client: PostgresClient
    /// The store's logger (connection trouble at `warning`, queries at `trace`).
    package let logger: Logger
    /// Opens once the schema is up to date (or fails with the reason the service stopped).
    let readiness = Readiness()
    /// Changes other replicas made, as they announce them with `NOTIFY` (``PostgresStore/changeChannel``).
    let changeFeed = ChangeFanOut()
    /// What the last check of the server found: `nil` while it answers, else why it does not. While the server
    /// does not answer, every method fails at once with ``QuillError/Code/unavailable`` instead of waiting for
    /// the pool's reconnection attempts.
    let outage = Mutex<String?>(nil)
    /// What the last batch of each recently written run left of its metrics, so the next one is one statement
    /// (``PostgresStore/logBatch(_:_:)``).
    let ingestMemory = IngestMemory()

    /// The channel replicas announce their changes on (`NOTIFY quill_changes, 'accounts'`).
    package static let changeChannel = "quill_changes"

    /// Creates the store; nothing connects until ``run()`` runs.
    ///
    /// - Parameters:
    ///   - location: The database.
    ///   - maximumConnections: The pool's size; each replica keeps up to this many connections, plus one that
    ///     listens for other replicas' changes (taken from the pool) and one outside the pool that checks the
    ///     server is reachable (``ReachabilityProbe``).
    ///   - logger: Where connection trouble is logged.
    /// - Throws: ``QuillError`` with code ``QuillError/Code/invalidArgument`` when TLS cannot be set up.
    package init(
        location: PostgresLocation,
        maximumConnections: Int = 20,
        logger: Logger = Logger(label: "quill.store.postgres")
    ) throws {
        self.location = location
        self.logger = logger
        let tls: PostgresClient.Configuration.TLS =
            switch location.tls {
            case .disable: .disable
            case .prefer: .prefer(.makeClientConfiguration())
            case .require: .require(.makeClientConfiguration())
            }
        var configuration = PostgresClient.Configuration(
            host: location.host,
            port: location.port,
            username: location.user,
            password: location.password,
            database: location.database,
            tls: tls
        )
        configuration.options.maximumConnections = max(2, maximumConnections)
        // A server that is down refuses at once; this bounds only a slow answer. Five seconds was too short on a
        // loaded machine (the test suite's parallel run: connecting took longer, and the pool failed the requests
        // waiting for its first connection), and outages are noticed by the reachability check, not by this.
        configuration.options.connectTimeout = .seconds(Self.connectTimeoutSeconds)
        client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        let connectionTLS: PostgresConnection.Configuration.TLS
        do {
            switch location.tls {
            case .disable: connectionTLS = .disable
            case .prefer: connectionTLS = .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
            case .require: connectionTLS = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            }
        } catch {
            throw QuillError(
                .invalidArgument,
                "could not set up TLS for \(location); try ?sslmode=disable",
                underlying: error
            )
        }
        var single = PostgresConnection.Configuration(
            host: location.host,
            port: location.port,
            username: location.user,
            password: location.password,
            database: location.database,
            tls: connectionTLS
        )
        single.options.connectTimeout = .seconds(Self.connectTimeoutSeconds)
        connectionConfiguration = single
    }

    /// How long connecting (TCP, TLS, authentication) may take, in seconds, in the pool and outside it.
    static let connectTimeoutSeconds: Int64 = 10

    /// The settings of a single connection outside the pool (migrations: their errors come back as they are,
    /// not after the pool's retries).
    let connectionConfiguration: PostgresConnection.Configuration

    /// Runs `body` on a new connection of its own, closed afterwards.
    func withSingleConnection<Result: Sendable>(
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let connection = try await PostgresConnection.connect(
            configuration: connectionConfiguration,
            id: 0,
            logger: logger
        )
        do {
            let result = try await body(connection)
            try? await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }

    // MARK: Running statements

    /// Runs `body` on a pooled connection once the store is ready, mapping the database's failures to
    /// ``QuillError`` (``QuillError/init(postgres:location:)``).
    package func withConnection<Result: Sendable>(
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await readiness.wait()
        try failFastWhenDown()
        do {
            return try await leasing { connection in try await body(connection) }
        } catch {
            throw QuillError(postgres: error, location: location)
        }
    }

    /// Runs `body` in one transaction (`BEGIN` … `COMMIT`, rolled back when it throws) once the store is ready,
    /// mapping the database's failures to ``QuillError``. A ``QuillError`` thrown by `body` passes through.
    package func transaction<Result: Sendable>(
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await readiness.wait()
        try failFastWhenDown()
        do {
            return try await leasing { connection in
                try await connection.query("BEGIN", logger: logger)
                do {
                    let result = try await body(connection)
                    try await connection.query("COMMIT", logger: logger)
                    return result
                } catch {
                    _ = try? await connection.query("ROLLBACK", logger: logger)
                    throw error
                }
            }
        } catch {
            throw QuillError(postgres: error, location: location)
        }
    }

    /// Runs `body` on a pooled connection, bounded by the reachability check (``watchReachability()``):
    ///
    /// - while the request still waits for its connection, it gives up with ``QuillError/Code/unavailable`` as
    ///   soon as the check finds the server down: the pool keeps such a request queued while it retries (up to a
    ///   minute), so a request that arrived just before an outage was noticed would hang instead of answering 503;
    /// - once `body` runs, it runs to its end, unless the server has been found down for
    ///   ``inFlightOutageLimit``: then its connection is closed, so a statement waiting for an answer that cannot
    ///   come (a server that vanished without closing its connections) fails, and the request answers 503. A
    ///   long operation (a copy, a sweep) on a reachable server is never cut. (A server that stops closes its
    ///   connections itself; statements on them fail at once, see `PostgresConnection+Closed.swift`.)
    private func leasing<Result: Sendable>(
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let leased = LeasedConnection()
        return try await withoutActuallyEscaping(body) { body in
            // The group awaits both children before returning, so `body` never outlives this call.
            let operation = UncheckedSendable(body)
            return try await withThrowingTaskGroup(of: Result?.self) { group in
                group.addTask {
                    try await self.client.withConnection { connection in
                        leased.set(connection)
                        return try await operation.value(connection)
                    }
                }
                group.addTask {
                    var downSince: ContinuousClock.Instant?
                    while true {
                        try await Task.sleep(for: .milliseconds(200))
                        guard let message = self.outage.withLock({ $0 }) else {
                            downSince = nil
                            continue
                        }
                        guard let connection = leased.connection else { throw QuillError(.unavailable, message) }
                        let since = downSince ?? .now
                        downSince = since
                        if ContinuousClock.now - since >= Self.inFlightOutageLimit {
                            self.logger.warning(
                                "closing a connection whose request still runs \(Self.inFlightOutageLimit) after the outage was noticed"
                            )
                            try? await connection.close()
                            return nil
                        }
                    }
                }
                while let outcome = try await group.next() {
                    if let outcome {
                        group.cancelAll()
                        return outcome
                    }
                }
                throw CancellationError()
            }
        }
    }

    /// How long a request that has its connection may go on once the server is found down (``leasing(_:)``).
    static let inFlightOutageLimit = Duration.seconds(5)

    /// The database as messages name it.
    var serverName: String { location.serverName }

    /// Throws ``QuillError/Code/unavailable`` when the last check found the server down.
    private func failFastWhenDown() throws {
        if let message = outage.withLock({ $0 }) { throw QuillError(.unavailable, message) }
    }

    /// Announces a change to every replica (this one included) when the current transaction commits:
    /// `SELECT pg_notify('quill_changes', kind)`. PostgreSQL delivers notifications only on commit, so a change
    /// rolled back is never announced.
    package func announce(_ change: StoreChange, on connection: PostgresConnection) async throws {
        try await connection.query(
            "SELECT pg_notify(\(Self.changeChannel), \(change.rawValue))",
            logger: logger
        )
    }
}

extension PostgresStore {
    /// The error of a method not yet written for PostgreSQL (issue 15, in progress).
    static var notYet: QuillError {
        QuillError(.unavailable, "this operation is not available on PostgreSQL yet; use a SQLite store")
    }
}

/// The connection a request of ``PostgresStore/leasing(_:)`` got, once it has one.
private final class LeasedConnection: Sendable {
    private let state = Mutex<PostgresConnection?>(nil)
    var connection: PostgresConnection? { state.withLock { $0 } }
    func set(_ connection: PostgresConnection) { state.withLock { $0 = connection } }
}

/// A value handed to a child task that ends before the value's scope does (``PostgresStore/leasing(_:)``).
private struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
