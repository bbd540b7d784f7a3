import Foundation
import Logging
import PostgresNIO
import QuillCore
import QuillStore
import QuillStorePostgres
import QuillTesting
import Synchronization
import Testing

@Suite("PostgreSQL job store")
struct PostgresJobStoreTests {
    @Test("conforms to the JobStore contract", arguments: JobStoreConformance.allCases)
    func conformance(check: JobStoreConformance) async throws {
        try await PostgresJobDatabase.with("jobs_\(check.rawValue)") { database in
            let fixture = JobStoreFixture(store: database.store, projectID: try await database.project()) {
                try await database.openAnother()
            }
            try await check.check(fixture)
        }
    }

    @Test("conforms to the RemoteArtifactStore contract", arguments: RemoteArtifactStoreConformance.allCases)
    func remoteArtifacts(check: RemoteArtifactStoreConformance) async throws {
        try await PostgresJobDatabase.with("remote_\(check.rawValue)") { database in
            let store = database.store
            let project = try await database.project()
            let fixture = RemoteArtifactStoreFixture(
                jobs: store,
                makeRun: { try await store.createRun(NewRun(projectID: project)).id },
                deleteRun: { try await store.deleteRun($0) }
            )
            try await check.check(fixture)
        }
    }

    @Test("1,000 jobs claimed by 8 claimers over 3 stores on one database: each claimed exactly once")
    func claimRace() async throws {
        try await PostgresJobDatabase.with("jobs_claim_race") { database in
            let project = try await database.project()
            let count = 1_000
            let t0 = Date(timeIntervalSince1970: 1_800_000_000)
            // Submitted from the three stores at once, as three replicas would take submissions.
            let stores = [database.store, try await database.openAnother(), try await database.openAnother()]
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, store) in stores.enumerated() {
                    group.addTask {
                        for number in stride(from: index, to: count, by: stores.count) {
                            let job = NewJob(projectID: project, runID: .random(), name: "j\(number)", argv: ["true"])
                            _ = try await store.submitJob(job, now: t0)
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await database.store.jobCounts(projectIDs: nil) == [.queued: count])
            let started = ContinuousClock.now
            let claimed = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for claimer in 0..<8 {
                    let store = stores[claimer % stores.count]
                    let worker = WorkerCapabilities(name: "w\(claimer)", slots: 4)
                    group.addTask {
                        var mine: [Int64] = []
                        while let claim = try await store.claimJob(worker, lease: .seconds(60), now: t0) {
                            mine.append(claim.job.id)
                            _ = try await store.finishAttempt(
                                claim.ref,
                                AttemptResult(.completed, exitCode: 0),
                                now: t0
                            )
                        }
                        return mine
                    }
                }
                var all: [Int64] = []
                for try await mine in group { all += mine }
                return all
            }
            let elapsed = ContinuousClock.now - started
            print("claim race: \(count) jobs claimed and finished by 8 claimers over 3 stores in \(elapsed)")
            #expect(claimed.count == count, "every job claimed exactly once")
            #expect(Set(claimed).count == count, "no job claimed twice")
            #expect(try await database.store.jobCounts(projectIDs: nil) == [.completed: count])
            let attempts = try await database.store.withConnection { connection in
                try await connection.query(
                    "SELECT count(*), count(DISTINCT job_id), max(number) FROM job_attempts",
                    logger: PostgresJobDatabase.logger
                ).collect().first?.decode((Int, Int, Int).self)
            }
            #expect(attempts?.0 == count)
            #expect(attempts?.1 == count)
            #expect(attempts?.2 == 1, "no job needed a second attempt")
        }
    }

    @Test("one worker claiming through 3 stores at once gets no more than its slots, and never a GPU twice")
    func oneWorkerOverReplicas() async throws {
        try await PostgresJobDatabase.with("jobs_one_worker") { database in
            let project = try await database.project()
            let t0 = Date(timeIntervalSince1970: 1_800_000_000)
            for index in 0..<6 {
                var job = NewJob(projectID: project, runID: .random(), name: "g\(index)", argv: ["true"])
                job.resources = JobResources(gpus: 1)
                _ = try await database.store.submitJob(job, now: t0)
            }
            let stores = [database.store, try await database.openAnother(), try await database.openAnother()]
            let worker = WorkerCapabilities(name: "box", slots: 3, gpus: [0, 1])
            let claims = try await withThrowingTaskGroup(of: JobClaim?.self) { group in
                for index in 0..<9 {
                    let store = stores[index % stores.count]
                    group.addTask { try await store.claimJob(worker, lease: .seconds(60), now: t0) }
                }
                var claims: [JobClaim] = []
                for try await claim in group { if let claim { claims.append(claim) } }
                return claims
            }
            // Three slots, but two GPUs: two claims, one GPU each, not the same.
            #expect(claims.count == 2)
            #expect(Set(claims.flatMap(\.attempt.gpus)) == [0, 1])
            #expect(Set(claims.map(\.job.id)).count == claims.count)
        }
    }

    @Test("a submission on one store wakes the workers of another: .jobs reaches its externalChanges()")
    func submissionIsAnnounced() async throws {
        try await PostgresJobDatabase.with("jobs_announce") { database in
            let project = try await database.project()
            let other = try await database.openAnother()
            let changes = other.externalChanges()
            let heard = try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    for await change in changes where change == .jobs { return true }
                    return false
                }
                group.addTask {
                    // The other store listens once its service runs; submit until it hears one (bounded).
                    for attempt in 0..<20 {
                        let job = NewJob(projectID: project, runID: .random(), name: "n\(attempt)", argv: ["true"])
                        _ = try await database.store.submitJob(job, now: Date())
                        try await Task.sleep(for: .milliseconds(500))
                    }
                    return false
                }
                let first = try await group.next() ?? false
                group.cancelAll()
                return first
            }
            #expect(heard, "the second store heard .jobs after a submission on the first")
        }
    }

    @Test("a cancel, a retry and a lost attempt re-queued are announced; a claim is not")
    func requeuesAreAnnounced() async throws {
        try await PostgresJobDatabase.with("jobs_announce_requeue") { database in
            let store = database.store
            let project = try await database.project()
            let t0 = Date(timeIntervalSince1970: 1_800_000_000)
            let job = try await store.submitJob(
                NewJob(projectID: project, runID: .random(), name: "a", argv: ["true"]),
                now: t0
            )
            // Counted on the connection: each notification the transactions send, once committed.
            let notes = try await database.notifications {
                let claim = try #require(
                    try await store.claimJob(WorkerCapabilities(name: "w"), lease: .seconds(10), now: t0)
                )
                _ = try await store.recoverExpiredLeases(now: t0.addingTimeInterval(11))
                _ = try await store.cancelJob(job.id, reason: nil, now: t0.addingTimeInterval(12))
                _ = try await store.retryJob(job.id, now: t0.addingTimeInterval(13))
                #expect(claim.job.id == job.id)
            }
            #expect(notes == 3, "lost and re-queued, cancelled, retried")
        }
    }

    @Test("a job's run follows the job in the database: queued, running on the worker's host, ended")
    func jobRunRows() async throws {
        try await PostgresJobDatabase.with("jobs_runs") { database in
            let store = database.store
            let project = try await database.project()
            let t0 = Date(timeIntervalSince1970: 1_800_000_000)
            var spec = NewJob(projectID: project, runID: .random(), name: "train", argv: ["true"])
            spec.tags = ["team": "ml"]
            spec.submittedBy = "ada"
            let job = try await store.submitJob(spec, now: t0)
            var twin = NewJob(projectID: project, runID: .random(), name: "train", argv: ["true"])
            twin.priority = -1
            _ = try await store.submitJob(twin, now: t0)
            let queued = try #require(try await database.runRow(spec.runID))
            #expect(queued.status == "queued" && queued.name == "train" && queued.user == "ada")
            #expect(try await database.runRow(twin.runID)?.name == "train_1", "a taken name gets a suffix")
            #expect(try await database.tags(spec.runID) == ["quill.job": String(job.id), "team": "ml"])
            let claim = try #require(
                try await store.claimJob(WorkerCapabilities(name: "box"), lease: .seconds(10), now: t0)
            )
            #expect(claim.job.id == job.id)
            let running = try #require(try await database.runRow(spec.runID))
            #expect(running.status == "running" && running.host == "box")
            _ = try await store.finishAttempt(claim.ref, AttemptResult(.failed, exitCode: 2), now: t0 + 5)
            let failed = try #require(try await database.runRow(spec.runID))
            #expect(failed.status == "failed" && failed.endedAt == Timestamp.microseconds(t0 + 5))
            try await expectConflict {
                _ = try await store.submitJob(
                    NewJob(projectID: project, runID: spec.runID, name: "x", argv: ["true"]),
                    now: t0
                )
            }
        }
    }

    private func expectConflict(_ body: () async throws -> Void) async throws {
        do {
            try await body()
            Issue.record("expected a conflict")
        } catch let error as QuillError {
            #expect(error.code == .conflict, "\(error)")
        }
    }
}

/// A fresh PostgreSQL database with a running store, more stores on it on demand (another replica's view), and
/// direct reads of rows the job store writes.
final class PostgresJobDatabase: Sendable {
    static let logger = Logger(label: "quill.test.jobs")

    let location: PostgresLocation
    let store: PostgresStore
    private let services = Mutex<[Task<Void, any Error>]>([])

    private init(location: PostgresLocation) throws {
        self.location = location
        store = try PostgresStore(location: location, maximumConnections: 8)
    }

    /// Runs `body` with a fresh database whose store runs meanwhile; every store opened stops afterwards.
    static func with(_ label: String, _ body: (PostgresJobDatabase) async throws -> Void) async throws {
        let database = try PostgresJobDatabase(location: try await TestPostgres.database(label))
        database.start(database.store)
        do {
            try await body(database)
            await database.stop()
        } catch {
            await database.stop()
            throw error
        }
    }

    /// Another store on the same database, its service running (as another replica).
    func openAnother() async throws -> PostgresStore {
        let other = try PostgresStore(location: location, maximumConnections: 8)
        start(other)
        return other
    }

    private func start(_ store: PostgresStore) {
        let task = Task { try await store.run() }
        services.withLock { $0.append(task) }
    }

    private func stop() async {
        let tasks = services.withLock { $0 }
        for task in tasks { task.cancel() }
        for task in tasks { _ = await task.result }
    }

    /// A project to submit to.
    func project() async throws -> Int64 {
        try await store.project(namespace: "ada", displayName: "jobs").id
    }

    /// A run's row as stored.
    struct RunRow {
        var name: String
        var status: String
        var user: String?
        var host: String?
        var endedAt: Int64?
    }

    func runRow(_ id: RunID) async throws -> RunRow? {
        try await store.withConnection { connection in
            let rows = try await connection.query(
                "SELECT name, status, \"user\", host, ended_at FROM runs WHERE id = \(id.rawValue)",
                logger: Self.logger
            ).collect()
            guard let row = rows.first else { return nil }
            let (name, status, user, host, endedAt) = try row.decode((String, String, String?, String?, Int64?).self)
            return RunRow(name: name, status: status, user: user, host: host, endedAt: endedAt)
        }
    }

    func tags(_ id: RunID) async throws -> [String: String] {
        try await store.withConnection { connection in
            var tags: [String: String] = [:]
            for try await (key, value) in try await connection.query(
                "SELECT key, value FROM tags WHERE run_id = \(id.rawValue)",
                logger: Self.logger
            ).decode((String, String).self) {
                tags[key] = value
            }
            return tags
        }
    }

    /// How many `jobs` notifications the database delivers while `body` runs, heard on a connection of its own.
    func notifications(_ body: () async throws -> Void) async throws -> Int {
        let connection = try await TestPostgres.connect(location)
        let marker = "marker-\(UInt32.random(in: 0...UInt32.max))"
        do {
            let result = try await withThrowingTaskGroup(of: Int?.self) { group in
                let listening = AsyncStream.makeStream(of: Void.self)
                group.addTask {
                    defer { listening.continuation.finish() }
                    return try await connection.listen(on: PostgresStore.changeChannel) { notifications in
                        listening.continuation.finish()
                        var jobs = 0
                        for try await note in notifications {
                            if note.payload == StoreChange.jobs.rawValue { jobs += 1 }
                            if note.payload == marker { return jobs }
                        }
                        return jobs
                    }
                }
                for await _ in listening.stream {}
                try await body()
                // A marker sent after the body: once it arrives, every earlier notification has.
                try await store.withConnection { connection in
                    _ = try await connection.query(
                        "SELECT pg_notify(\(PostgresStore.changeChannel), \(marker))",
                        logger: Self.logger
                    ).collect()
                }
                // The deadline counts from the marker, not from before the body, which may take long on a loaded
                // machine (the fresh-clone CI run at load 20 took over 30 s for it).
                group.addTask {
                    try await Task.sleep(for: .seconds(60))
                    return nil
                }
                let first = try await group.next() ?? nil
                group.cancelAll()
                return try #require(first, "the marker notification did not arrive within 60 s of being sent")
            }
            try? await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }
}
