import Foundation
import Logging
import PostgresNIO
import QuillCore
package import QuillStore
import ServiceLifecycle
import Synchronization

/// The PostgreSQL backend of ``StoreURL/postgres(_:)``: its records and its lifecycle.
extension PostgresStore: StoreBackend {
    /// Runs the store as a service: keeps the connection pool running, brings the schema up to date (waiting
    /// for the database while it cannot be reached), listens for other replicas' changes, and after a graceful
    /// shutdown or cancellation closes the pool.
    ///
    /// - Throws: ``QuillError`` when the schema cannot be brought up to date for a reason other than the
    ///   database being unreachable (a failed migration); store methods then fail with that error.
    package func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await self.client.run() }
            do {
                try await cancelWhenGracefulShutdown {
                    try await self.migrateWhenReachable()
                    await self.readiness.open()
                    try await withThrowingTaskGroup(of: Void.self) { watchers in
                        watchers.addTask { try await self.listenForChanges() }
                        watchers.addTask { try await self.watchReachability() }
                        try await watchers.next()
                        watchers.cancelAll()
                    }
                }
            } catch is CancellationError {
                // A graceful shutdown or the group's cancellation: close the pool below.
            } catch {
                await readiness.fail(error)
                group.cancelAll()
                throw error
            }
            await readiness.fail(QuillError(.unavailable, "the store is closed; the server is shutting down"))
            group.cancelAll()
        }
    }

    /// The changes other replicas (and this one) announced since the stream was made.
    package func externalChanges() -> AsyncStream<StoreChange> {
        changeFeed.subscribe()
    }

    /// Whether the server answered the last check (every half second).
    package func health() async -> StoreHealth {
        if let message = outage.withLock({ $0 }) { return StoreHealth(reachable: false, message: message) }
        return .ok
    }

    /// Checks every half second that the server answers `SELECT 1`, on a connection of its own outside the pool
    /// (``ReachabilityProbe``), and records the outcome in ``outage``: store methods fail at once while the server
    /// is down, and go back to the pool as soon as a check succeeds again. The check shares nothing with the
    /// requests, so a busy or reconnecting pool never delays it: an outage is noticed within about a second (a
    /// stopped server closes the probe's connection; the next check cannot connect), and so is the server's
    /// return. Checks that get no answer at all count as down when two in a row time out
    /// (``ReachabilityProbe/timeout`` each): one slow answer on a loaded machine is no outage.
    private func watchReachability() async throws {
        let probe = ReachabilityProbe(store: self)
        defer { probe.close() }
        var previous = ReachabilityProbe.Outcome.answered
        while !Task.isCancelled {
            let started = ContinuousClock.now
            let outcome = await probe.check()
            // A store shutting down closes the check's connection under it: that is no outage to report.
            if Task.isCancelled { return }
            switch outcome {
            case .answered: record(outage: nil)
            case .failed(let problem): record(outage: problem)
            case .noAnswer(let problem):
                // One slow answer on a loaded machine is no outage; two in a row are.
                if previous != .answered { record(outage: problem) }
            }
            previous = outcome
            try await Task.sleep(until: started + ReachabilityProbe.interval)
        }
    }

    /// Records what the last check found, logging the changes between up and down.
    private func record(outage problem: String?) {
        let before = outage.withLock { state in
            defer { state = problem }
            return state
        }
        if before == nil, let problem {
            logger.error("PostgreSQL is down; answering 503 until it is back: \(problem)")
        } else if before != nil, problem == nil {
            logger.notice("PostgreSQL is reachable again")
            // Notifications sent while the listener was disconnected are lost: refresh everything.
            changeFeed.yield(.all)
        }
    }

    /// Applies the migrations. A database that cannot be reached when the store starts is an error at once
    /// (`quill serve` exits with a clear line and its supervisor restarts it); once started, the store rides out
    /// outages by itself (``watchReachability()``).
    private func migrateWhenReachable() async throws {
        try await migrateNow()
    }

    /// Holds one connection that listens on ``PostgresStore/changeChannel`` and hands what arrives to
    /// ``externalChanges()``'s subscribers; listens again after the connection is lost.
    private func listenForChanges() async throws {
        while !Task.isCancelled {
            do {
                try await client.withConnection { connection in
                    try await connection.listen(on: Self.changeChannel) { notifications in
                        for try await notification in notifications {
                            if let change = StoreChange(rawValue: notification.payload) {
                                self.changeFeed.yield(change)
                            }
                        }
                    }
                }
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                logger.warning("lost the PostgreSQL change listener; listening again in 1 s: \(error)")
                // Changes announced while nobody listened are lost: tell subscribers to refresh everything.
                changeFeed.yield(.all)
                try await Task.sleep(for: .seconds(1))
            }
        }
    }
}
