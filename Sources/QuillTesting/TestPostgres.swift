import Foundation
import Logging
import NIOPosix
package import PostgresNIO
import QuillCore
public import QuillStore
package import QuillStorePostgres

/// The PostgreSQL server the tests use: the one `scripts/test.sh` starts (`scripts/postgres.sh`), named by
/// `QUILL_TEST_POSTGRES_URL` (`postgres://postgres@127.0.0.1:55432/postgres`, a role that may create
/// databases).
///
/// Each suite gets a database of its own, made fresh: ``database(_:)``.
///
/// ```swift
/// let location = try await TestPostgres.database("tracking")
/// let store = try PostgresStore(location: location)
/// ```
public enum TestPostgres: Sendable {
    /// The environment variable that names the server.
    public static let variable = "QUILL_TEST_POSTGRES_URL"

    /// The server's administrative location, or an error that says how to get one.
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/unavailable`` when the variable is not set.
    public static func server() throws -> PostgresLocation {
        guard let text = ProcessInfo.processInfo.environment[variable], !text.isEmpty else {
            throw QuillError(
                .unavailable,
                "\(variable) is not set; run scripts/test.sh, or start a server with `scripts/postgres.sh start .build/postgres` and export \(variable)=postgres://postgres@127.0.0.1:55432/postgres"
            )
        }
        return try PostgresLocation(parsing: text)
    }

    /// Makes an empty database on the test server, named after `label` and a random suffix, and returns where it
    /// is. The database is left behind: the test server is thrown away after the run.
    public static func database(_ label: String) async throws -> PostgresLocation {
        let safe = label.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }
        let name = "qt_" + String(safe.prefix(40)) + "_" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        return try await createDatabase(name, on: server())
    }

    /// Makes the database `name` on the server at `admin` and returns where it is.
    static func createDatabase(_ name: String, on admin: PostgresLocation) async throws -> PostgresLocation {
        try await withConnection(admin) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
        }
        return admin.with(database: name)
    }

    /// The logger of the tests' own connections.
    static let logger = Logger(label: "quill.test.postgres")

    /// The settings of one connection to `location` outside any store: no TLS, ten seconds to connect.
    package static func connectionConfiguration(_ location: PostgresLocation) -> PostgresConnection.Configuration {
        var configuration = PostgresConnection.Configuration(
            host: location.host,
            port: location.port,
            username: location.user,
            password: location.password,
            database: location.database,
            tls: .disable
        )
        configuration.options.connectTimeout = .seconds(10)
        return configuration
    }

    /// The event loop of the tests' own connections: a thread of their own, so that setting up a connection does
    /// not queue behind the rows that dozens of stores decode on the shared loops at the start of a parallel run
    /// (connects timed out there after 10 s: fresh-clone CI runs, 30 Nov and 1 Dec).
    private static let eventLoops = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    /// A connection of its own to `location`, tried three times when connecting fails (on a loaded machine,
    /// with dozens of suites starting at once, one try can time out).
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/unavailable`` and PostgreSQL's whole error after the
    ///   last try (`PSQLError` describes itself only as "Generic description").
    package static func connect(_ location: PostgresLocation) async throws -> PostgresConnection {
        var tries = 1
        while true {
            do {
                return try await PostgresConnection.connect(
                    on: eventLoops.next(),
                    configuration: connectionConfiguration(location),
                    id: 1,
                    logger: logger
                )
            } catch let error as PSQLError where error.code == .connectionError {
                guard tries < 3 else {
                    throw QuillError(
                        .unavailable,
                        "the test connection to \(location) failed \(tries) times: \(String(reflecting: error))"
                    )
                }
                tries += 1
                try await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    /// Runs `body` on a connection of its own to `location` (no store, no migration), closed afterwards.
    @discardableResult
    package static func withConnection<Result: Sendable>(
        _ location: PostgresLocation,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let connection = try await connect(location)
        do {
            let result = try await body(connection)
            // A body may end its own connection (the outage tests): closing it again is no failure.
            try? await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// A ``PostgresStore`` on a fresh database, running for the duration of `body`, then closed.
    package static func withStore<Result: Sendable>(
        _ label: String,
        _ body: (PostgresStore) async throws -> Result
    ) async throws -> Result {
        let store = try PostgresStore(location: try await database(label), maximumConnections: 8)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await store.run() }
            do {
                let result = try await body(store)
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
}

/// A PostgreSQL server of a test's own (`scripts/postgres.sh` in a temporary folder, on a free port), for tests
/// that stop and restart the database under a running Quill.
public final class PrivatePostgres: Sendable {
    /// The server's folder (data directory, log).
    public let folder: String
    /// The port it listens on (127.0.0.1).
    public let port: Int
    /// The administrative location (database `postgres`).
    public let server: PostgresLocation

    /// The project's `scripts/postgres.sh`.
    static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/postgres.sh").path
    }

    /// Makes a server; ``start()`` starts it.
    public init(_ label: String) {
        folder = NSTemporaryDirectory() + "quill-pg-\(label)-\(UInt32.random(in: 0...UInt32.max))"
        port = Int.random(in: 20_000...40_000)
        server = PostgresLocation(host: "127.0.0.1", port: port, database: "postgres", tls: .disable)
    }

    /// Starts (or restarts) the server on its port, keeping its data, off Swift's cooperative pool (`initdb`
    /// takes seconds, and a blocked pool thread stalls every other test of the process).
    ///
    /// - Throws: ``QuillError`` when the script fails (its output is in the message).
    public func start() async throws {
        let result = try await BuiltProducts.run("/bin/bash", [Self.script, "start", folder, String(port)])
        guard result.status == 0 else {
            throw QuillError(.io, "scripts/postgres.sh start failed: \(result.stderr)")
        }
    }

    /// Stops the server (fast shutdown: connections are closed, committed data kept), off the cooperative pool.
    public func stop() async throws {
        let result = try await BuiltProducts.run("/bin/bash", [Self.script, "stop", folder])
        guard result.status == 0 else {
            throw QuillError(.io, "scripts/postgres.sh stop failed: \(result.stderr)")
        }
    }

    /// Makes an empty database and returns where it is.
    public func database(_ name: String) async throws -> PostgresLocation {
        try await TestPostgres.createDatabase(name, on: server)
    }

    deinit {
        _ = try? BuiltProducts.run("/bin/bash", [Self.script, "stop", folder])
        try? FileManager.default.removeItem(atPath: folder)
    }
}
