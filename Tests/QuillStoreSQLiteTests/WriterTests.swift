import Dispatch
import Foundation
import GRDB
import QuillCore
import QuillStore
import QuillStoreSQLite
import QuillTesting
import Synchronization
import Testing

/// A gate a write job waits at, on the writer queue, until the test opens it.
private final class Gate: Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    private let entered = Mutex(false)

    var isEntered: Bool { entered.withLock { $0 } }

    func wait() {
        entered.withLock { $0 = true }
        semaphore.wait()
    }

    func open() { semaphore.signal() }
}

/// Polls a condition every 10 ms for up to `seconds`.
private func eventually(seconds: Double = 20, _ condition: () -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

private struct Refused: Error {}

/// A value shared between a test and work on other threads.
private final class Shared<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) { mutex = Mutex(value) }

    var value: Value { mutex.withLock { $0 } }

    func update(_ body: @Sendable (inout Value) -> Void) { mutex.withLock { body(&$0) } }
}

@Suite("SQLite writer: group commit, durability, off the cooperative pool")
struct WriterTests {
    private static func pool(_ temp: TemporaryDirectory) throws -> DatabasePool {
        let pool = try DatabasePool(path: temp.file("writer.db"))
        try pool.write { db in try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)") }
        return pool
    }

    @Test("a store syncs every acknowledged write by default (synchronous = FULL), NORMAL when relaxed")
    func durabilitySetting() async throws {
        let temp = TemporaryDirectory("quill-writer")
        let store = try SQLiteTrackingStore(path: temp.file("quill.db"))
        #expect(store.durability == .full)
        #expect(try await store.synchronousSetting() == 2)
        let relaxed = try SQLiteTrackingStore(path: temp.file("relaxed.db"), durability: .relaxed)
        #expect(try await relaxed.synchronousSetting() == 1)
        // Reopening keeps the setting per open, not per file.
        let again = try SQLiteTrackingStore(path: temp.file("relaxed.db"))
        #expect(try await again.synchronousSetting() == 2)
    }

    @Test("the writer keeps SQLite's temporary files (a batch's statement journal) in memory, not in a file per batch")
    func temporaryFilesInMemory() async throws {
        let temp = TemporaryDirectory("quill-writer")
        for durability in SQLiteDurability.allCases {
            let store = try SQLiteTrackingStore(path: temp.file("\(durability).db"), durability: durability)
            #expect(try await store.tempStoreSetting() == 2)
        }
    }

    @Test("writes that queue behind a running transaction commit together, in one transaction")
    func groupCommit() async throws {
        let temp = TemporaryDirectory("quill-writer")
        let writer = SQLiteWriter(pool: try Self.pool(temp))
        let gate = Gate()
        let first = Task {
            try await writer.write { db in
                gate.wait()
                try db.execute(sql: "INSERT INTO t (value) VALUES (0)")
            }
        }
        #expect(try await eventually { gate.isEntered })
        let queued = (1...20).map { (value: Int) in
            Task {
                try await writer.write { db in
                    try db.execute(sql: "INSERT INTO t (value) VALUES (?)", arguments: [value])
                }
            }
        }
        // All twenty are queued behind the first transaction before it commits.
        #expect(try await eventually { writer.queuedWrites == 20 })
        gate.open()
        try await first.value
        for task in queued { try await task.value }
        let statistics = writer.statistics
        #expect(statistics.committedWrites == 21)
        #expect(statistics.transactions == 2)
        let values = try await writer.write { db in try Int.fetchAll(db, sql: "SELECT value FROM t ORDER BY id") }
        // The first write commits first; the twenty tasks reach the queue in whatever order they start.
        #expect(values.first == 0)
        #expect(values.sorted() == Array(0...20))
    }

    @Test("a write that fails in a group rolls back alone; the others commit")
    func failureIsolation() async throws {
        let temp = TemporaryDirectory("quill-writer")
        let writer = SQLiteWriter(pool: try Self.pool(temp))
        let gate = Gate()
        let blocker = Task { try await writer.write { _ in gate.wait() } }
        #expect(try await eventually { gate.isEntered })
        let before = Task { try await writer.write { db in try db.execute(sql: "INSERT INTO t (value) VALUES (1)") } }
        #expect(try await eventually { writer.queuedWrites == 1 })
        let failing = Task {
            try await writer.write { db in
                try db.execute(sql: "INSERT INTO t (value) VALUES (2)")
                throw Refused()
            }
        }
        #expect(try await eventually { writer.queuedWrites == 2 })
        let constraint = Task {
            try await writer.write { db in
                try db.execute(sql: "INSERT INTO t (value) VALUES (3)")
                try db.execute(sql: "INSERT INTO t (value) VALUES (NULL)")  // NOT NULL: a SQLite error
            }
        }
        #expect(try await eventually { writer.queuedWrites == 3 })
        let after = Task { try await writer.write { db in try db.execute(sql: "INSERT INTO t (value) VALUES (4)") } }
        #expect(try await eventually { writer.queuedWrites == 4 })
        gate.open()
        try await blocker.value
        try await before.value
        await #expect(throws: Refused.self) { try await failing.value }
        await #expect(throws: DatabaseError.self) { try await constraint.value }
        try await after.value
        // The blocker alone, then the four queued writes in one transaction.
        #expect(writer.statistics.failedWrites == 2)
        #expect(writer.statistics.transactions == 2)
        let values = try await writer.write { db in try Int.fetchAll(db, sql: "SELECT value FROM t ORDER BY id") }
        #expect(values == [1, 4])
    }

    @Test("reads do not wait for a write transaction in progress, and see the last committed state")
    func readsDoNotWaitForWriter() async throws {
        let temp = TemporaryDirectory("quill-writer")
        let store = try SQLiteTrackingStore(path: temp.file("quill.db"))
        _ = try await store.project(namespace: "local", displayName: "before")
        let gate = Gate()
        // A write whose transaction stays open (it has inserted a project) until the gate opens.
        let holding = Task {
            try await store.write { db in
                try db.execute(
                    sql:
                        "INSERT INTO projects (namespace, slug, display_name, created_at) VALUES ('local', 'during', 'during', 0)"
                )
                gate.wait()
            }
        }
        #expect(try await eventually { gate.isEntered })
        let clock = ContinuousClock()
        let started = clock.now
        let projects = try await store.projects()
        #expect(clock.now - started < .seconds(2))
        #expect(projects.map(\.slug) == ["before"])
        gate.open()
        try await holding.value
        #expect(try await store.projects().map(\.slug) == ["before", "during"])
    }

    @Test("write transactions run on the writer queue, outside any Swift task, so they never hold a cooperative thread")
    func writesRunOutsideTasks() async throws {
        let temp = TemporaryDirectory("quill-writer")
        let store = try SQLiteTrackingStore(path: temp.file("quill.db"))
        // A synchronous GRDB write called from a task runs on that task's (cooperative) thread: the task is
        // then visible inside the transaction. On the writer queue there is none.
        let insideTask = try await store.write { _ in withUnsafeCurrentTask { $0 != nil } }
        #expect(!insideTask)
        let concurrent = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<8 { group.addTask { try await store.write { _ in withUnsafeCurrentTask { $0 != nil } } } }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(concurrent == Array(repeating: false, count: 8))
    }

    @Test("reads wait on GRDB's reader queues, not on cooperative threads, and open() opens and migrates the store")
    func readsHoldNoCooperativeThread() async throws {
        let temp = TemporaryDirectory("quill-reader")
        let store = try await SQLiteTrackingStore.open(path: temp.file("quill.db"))
        #expect(try await store.serverID().count == 32, "open() migrated the database")
        // More blocked reads than the pool has threads: if a read held a cooperative thread, this task could
        // not run (its polling sleeps on the pool) until the fail-safe below opens the gate.
        let readers = max(4, ProcessInfo.processInfo.activeProcessorCount + 2)
        let held = Shared(0)
        let released = Shared(false)
        let gate = DispatchSemaphore(value: 0)
        DispatchQueue.global().asyncAfter(deadline: .now() + 20) {
            released.update { $0 = true }
            for _ in 0..<readers { gate.signal() }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<readers {
                group.addTask {
                    try await store.read { _ in
                        held.update { $0 += 1 }
                        gate.wait()
                    }
                }
            }
            // GRDB runs at most 5 reads at once; the others wait for a reader, off the pool too.
            let someHeld = try await eventually(seconds: 15) { held.value >= min(readers, 5) }
            #expect(someHeld)
            #expect(!released.value, "this task ran while reads were blocked")
            for _ in 0..<readers { gate.signal() }
            try await group.waitForAll()
        }
    }
}
