import Foundation
import Logging
import PostgresNIO
import QuillCore
import QuillStore
import QuillStorePostgres
import QuillTesting
import Synchronization
import Testing

@Suite("PostgreSQL outages")
struct PostgresOutageTests {
    @Test(
        "a stopped database is reported at once and methods fail fast with unavailable; a restarted one is used again"
    )
    func stopAndRestart() async throws {
        let database = PrivatePostgres("outage")
        try await database.start()
        let store = try PostgresStore(location: try await database.database("quill"), maximumConnections: 4)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await store.run() }
            #expect(try await store.selectOne() == 1)
            #expect(await store.health() == .ok)

            try await database.stop()
            let down = try await eventually(seconds: 30) { await !store.health().reachable }
            #expect(down, "the store did not notice the database stopped")
            let health = await store.health()
            #expect(health.message?.contains("PostgreSQL database") == true, "\(health.message ?? "-")")
            let started = ContinuousClock.now
            do {
                _ = try await store.selectOne()
                Issue.record("a query succeeded with the database stopped")
            } catch let error as QuillError {
                #expect(error.code == .unavailable)
            }
            #expect(ContinuousClock.now - started < .seconds(2), "failing took \(ContinuousClock.now - started)")

            try await database.start()
            let up = try await eventually(seconds: 90) {
                guard await store.health().reachable else { return false }
                return (try? await store.selectOne()) == 1
            }
            #expect(up, "the store did not recover after the database restarted")
            group.cancelAll()
        }
    }

    @Test("a request made as the database stops gets unavailable once the outage is noticed, instead of hanging")
    func requestDuringOutageFails() async throws {
        let database = PrivatePostgres("outage-wait")
        try await database.start()
        let store = try PostgresStore(location: try await database.database("quill"), maximumConnections: 4)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await store.run() }
            #expect(try await store.selectOne() == 1)
            try await database.stop()
            // Before the check notices: the request waits in the pool, which retries connecting for up to a
            // minute; it must end with unavailable once the outage is noticed (within about ten seconds).
            let started = ContinuousClock.now
            do {
                _ = try await store.selectOne()
                Issue.record("a query succeeded with the database stopped")
            } catch let error as QuillError {
                #expect(error.code == .unavailable, "\(error)")
            }
            let waited = ContinuousClock.now - started
            #expect(waited < .seconds(25), "the request waited \(waited)")
            group.cancelAll()
        }
    }

    @Test(
        "the check notices a stopped database within seconds and its return within seconds, on its own connection",
        .timeLimit(.minutes(5))
    )
    func checkNoticesQuickly() async throws {
        let database = PrivatePostgres("outage-quick")
        try await database.start()
        let store = try PostgresStore(location: try await database.database("quill"), maximumConnections: 4)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await store.run() }
            #expect(try await store.selectOne() == 1)
            // Twice: the second outage starts with a pool that already lost its connections once.
            for round in 1...2 {
                // Requests keep the pool busy meanwhile: the check must not wait behind them.
                let busy = Task {
                    while !Task.isCancelled {
                        _ = try? await store.selectOne()
                        try? await Task.sleep(for: .milliseconds(20))
                    }
                }
                defer { busy.cancel() }
                try await database.stop()
                let stopped = ContinuousClock.now
                let down = try await eventually(seconds: 30) { await !store.health().reachable }
                let noticed = ContinuousClock.now - stopped
                #expect(down, "round \(round): the store did not notice the database stopped")
                try await database.start()
                let started = ContinuousClock.now
                let up = try await eventually(seconds: 30) { await store.health().reachable }
                let recovered = ContinuousClock.now - started
                #expect(up, "round \(round): the store did not notice the database is back")
                print("PostgresOutageTests: round \(round): down noticed after \(noticed), return after \(recovered)")
                // The check runs every 0.5 s with a 2 s timeout; a stopped server closes the check's connection
                // and refuses the next, so both take about a second here; 5 s leaves room for a loaded machine.
                #expect(noticed < .seconds(5), "round \(round): the outage was noticed after \(noticed)")
                #expect(recovered < .seconds(5), "round \(round): the return was noticed after \(recovered)")
                let served = try await eventually(seconds: 60) { (try? await store.selectOne()) == 1 }
                #expect(served, "round \(round): requests did not succeed again")
            }
            group.cancelAll()
        }
    }

    @Test(
        "a transaction whose connection the server closed between two statements answers unavailable instead of hanging",
        .timeLimit(.minutes(2))
    )
    func closedBetweenStatements() async throws {
        let store = try PostgresStore(location: try await TestPostgres.database("outage_closed"), maximumConnections: 4)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await store.run() }
            #expect(try await store.selectOne() == 1)
            let logger = Logger(label: "test")
            // The body ends its own backend (as a fast shutdown ends every backend, idle ones included) and waits
            // until PostgresNIO has torn the connection down; the transaction's COMMIT then goes to a closed
            // connection. Before the fix, PostgresNIO dropped that statement and the request waited forever, so
            // the outcome is awaited in a task of its own, with a deadline.
            let finished = Mutex<Result<Int, any Error>?>(nil)
            let request = Task {
                do {
                    let value = try await store.transaction { connection in
                        try await endOwnBackend(connection, logger: logger)
                        return 1
                    }
                    finished.withLock { $0 = .success(value) }
                } catch {
                    finished.withLock { $0 = .failure(error) }
                }
            }
            let answered = try await eventually(seconds: 20) { finished.withLock { $0 != nil } }
            #expect(answered, "the transaction on a closed connection did not end within 20 s")
            if answered {
                request.cancel()
                switch finished.withLock({ $0 }) {
                case .success(let value): Issue.record("a COMMIT on a closed connection succeeded: \(value)")
                case .failure(let error as QuillError): #expect(error.code == .unavailable, "\(error)")
                case .failure(let error): Issue.record("not a QuillError: \(error)")
                case nil: break
                }
            }
            // The pool replaces the lost connection.
            #expect(try await store.selectOne() == 1)
            group.cancelAll()
        }
    }

    @Test(
        "a COPY on a connection the server closed (quill db copy between two batches) fails at once instead of hanging",
        .timeLimit(.minutes(2))
    )
    func copyOnClosedConnection() async throws {
        let location = try await TestPostgres.database("outage_copy")
        let logger = Logger(label: "test")
        try await TestPostgres.withConnection(location) { connection in
            try await connection.query("CREATE TABLE copied (x BIGINT)", logger: logger)
            try await endOwnBackend(connection, logger: logger)
            let started = ContinuousClock.now
            await #expect(throws: PostgresConnectionClosed.self) {
                try await connection.copyFrom(table: "copied", columns: ["x"], logger: logger) { writer in
                    try await writer.write(ByteBuffer(string: "1\n"))
                }
            }
            #expect(ContinuousClock.now - started < .seconds(5))
        }
    }

    /// Ends the connection's backend from the server's side (as a fast shutdown ends every backend) and waits
    /// until PostgresNIO has torn the connection down.
    private func endOwnBackend(_ connection: PostgresConnection, logger: Logger) async throws {
        do {
            for try await _ in try await connection.query(
                "SELECT pg_terminate_backend(pg_backend_pid())",
                logger: logger
            ) {}
        } catch {
            // The server's 57P01: expected.
        }
        try await connection.closeFuture.get()
    }

    /// Polls `condition` every 100 ms until it holds or `seconds` pass.
    private func eventually(seconds: Int, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }
}

extension PostgresStore {
    /// `SELECT 1` through the pool.
    fileprivate func selectOne() async throws -> Int {
        try await withConnection { connection in
            var value = 0
            for try await one in try await connection.query("SELECT 1::BIGINT", logger: Logger(label: "test")).decode(
                Int.self
            ) {
                value = one
            }
            return value
        }
    }
}
