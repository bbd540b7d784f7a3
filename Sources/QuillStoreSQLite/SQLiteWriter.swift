import Dispatch
package import GRDB
import Synchronization

/// How the SQLite store makes an acknowledged write durable.
package enum SQLiteDurability: String, Sendable, CaseIterable {
    /// `synchronous = FULL`: a write is on disk (the WAL is synced) before it is acknowledged, so it survives
    /// a power loss or an operating system crash. Concurrent writes share one sync (group commit).
    case full
    /// `synchronous = NORMAL`: a write survives a crash of the server process (SIGKILL included), but the last
    /// writes acknowledged before a power loss or an operating system crash may be lost. Faster for many
    /// small writes.
    case relaxed
}

/// The store's one writer: runs write transactions on its own dispatch queue, never on Swift's cooperative
/// thread pool, and commits the writes that queued up meanwhile together.
///
/// A caller awaits its write through a continuation, so a long transaction (a batch of 100,000 points)
/// occupies the writer queue, not a thread that request handlers, `/healthz` or reads need. Writes that
/// arrive while a transaction runs wait in a queue; the writer then takes all of them and runs them in one
/// transaction, each inside its own savepoint, and commits once (group commit): with
/// ``SQLiteDurability/full`` one sync of the WAL serves all of them. A write that throws rolls back to its
/// savepoint and fails alone; the others still commit. No caller is resumed before the transaction that holds
/// its write has committed, so an acknowledged write is as durable as the connection's `synchronous` setting.
package final class SQLiteWriter: Sendable {
    /// What the writer has done, for tests and diagnostics.
    package struct Statistics: Sendable, Equatable {
        /// Transactions committed (each holds one or more writes).
        package var transactions = 0
        /// Writes that committed.
        package var committedWrites = 0
        /// Writes that failed (their own error, or their transaction's).
        package var failedWrites = 0
    }

    /// One queued write: `perform` runs inside the group's transaction, `finish` resumes the caller after it
    /// committed (or failed).
    private struct Job: Sendable {
        let perform: @Sendable (Database) throws -> Void
        let finish: @Sendable (Result<Void, any Error>) -> Void
    }

    private struct State: Sendable {
        var pending: [Job] = []
        var draining = false
        var statistics = Statistics()
    }

    private let pool: DatabasePool
    private let queue = DispatchQueue(label: "quill.sqlite.writer", qos: .userInitiated)
    private let state = Mutex(State())

    /// A writer for a pool's writer connection; every write to the pool must go through it.
    package init(pool: DatabasePool) {
        self.pool = pool
    }

    /// What the writer has done so far.
    package var statistics: Statistics { state.withLock { $0.statistics } }

    /// Writes waiting for the transaction in progress to end.
    package var queuedWrites: Int { state.withLock { $0.pending.count } }

    /// Runs `body` in a write transaction on the writer queue and returns its result once the transaction
    /// committed; rethrows the body's error (its changes rolled back) or the commit's.
    package func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let slot = ResultSlot<T>()
            submit(
                Job(
                    perform: { db in slot.value = try body(db) },
                    finish: { result in
                        switch result {
                        case .success:
                            guard let value = slot.value else {
                                preconditionFailure("a write that succeeded has stored its result")
                            }
                            continuation.resume(returning: value)
                        case .failure(let error):
                            continuation.resume(throwing: error)
                        }
                    }
                )
            )
        }
    }

    private func submit(_ job: Job) {
        let start = state.withLock { state in
            state.pending.append(job)
            if state.draining { return false }
            state.draining = true
            return true
        }
        if start { queue.async { self.drain() } }
    }

    /// Runs queued writes, a group at a time, until none is left.
    private func drain() {
        while true {
            let jobs = state.withLock { state in
                let jobs = state.pending
                state.pending.removeAll(keepingCapacity: true)
                if jobs.isEmpty { state.draining = false }
                return jobs
            }
            if jobs.isEmpty { return }
            let outcomes = run(jobs)
            state.withLock { state in
                if outcomes.contains(where: { if case .success = $0 { true } else { false } }) {
                    state.statistics.transactions += 1
                }
                for outcome in outcomes {
                    if case .success = outcome {
                        state.statistics.committedWrites += 1
                    } else {
                        state.statistics.failedWrites += 1
                    }
                }
            }
            for (job, outcome) in zip(jobs, outcomes) { job.finish(outcome) }
        }
    }

    /// Runs a group of writes in one transaction, each in its own savepoint, and commits once.
    private func run(_ jobs: [Job]) -> [Result<Void, any Error>] {
        var outcomes = [Result<Void, any Error>](repeating: .success(()), count: jobs.count)
        do {
            try pool.writeWithoutTransaction { db in
                try db.beginTransaction(.immediate)
                do {
                    for (index, job) in jobs.enumerated() {
                        try db.execute(sql: "SAVEPOINT quill_write")
                        do {
                            try job.perform(db)
                            try db.execute(sql: "RELEASE SAVEPOINT quill_write")
                        } catch {
                            // Some errors (a full disk, I/O) make SQLite roll back the whole transaction: then
                            // the writes before this one are gone too, and the group fails as one.
                            guard db.isInsideTransaction else { throw error }
                            try db.execute(sql: "ROLLBACK TO SAVEPOINT quill_write")
                            try db.execute(sql: "RELEASE SAVEPOINT quill_write")
                            outcomes[index] = .failure(error)
                        }
                    }
                    try db.commit()
                } catch {
                    if db.isInsideTransaction { try? db.rollback() }
                    throw error
                }
            }
        } catch {
            // Nothing committed: every write fails, with its own error when it had one.
            for index in outcomes.indices {
                if case .success = outcomes[index] { outcomes[index] = .failure(error) }
            }
        }
        return outcomes
    }
}

/// Holds a write's result between the transaction that computed it and the commit that makes it final.
///
/// `@unchecked Sendable`: `value` is set by the job's `perform` and read by its `finish`, both on the writer
/// queue, one after the other.
private final class ResultSlot<T: Sendable>: @unchecked Sendable {
    var value: T?
}
