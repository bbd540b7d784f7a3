import Foundation
import GRDB
import QuillCore
import QuillStore
import QuillStoreSQLite
import QuillTesting
import Testing

/// Every job is a run: the SQLite store writes a job's run in the transaction of each change of the job, and
/// migration "v15: queued runs" lets the run be `queued`.
@Suite("SQLite: a job's run follows the job")
struct JobRunTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    static func at(_ seconds: Double) -> Date { t0.addingTimeInterval(seconds) }

    struct Fixture {
        let temp = TemporaryDirectory("quill-job-runs")
        let store: SQLiteTrackingStore
        let projectID: Int64

        init() async throws {
            store = try SQLiteTrackingStore(path: temp.file("quill.db"))
            projectID = try await store.project(namespace: "ada", displayName: "jobs").id
        }

        func submit(_ name: String, maxAttempts: Int = 3, at seconds: Double = 0) async throws -> Job {
            var job = NewJob(projectID: projectID, runID: .random(), name: name, argv: ["/bin/true"])
            job.config = ["lr": 0.1]
            job.tags = ["team": "ml"]
            job.maxAttempts = maxAttempts
            job.submittedBy = "ada"
            return try await store.submitJob(job, now: JobRunTests.at(seconds))
        }

        func run(_ job: Job) async throws -> StoredRun {
            try #require(try await store.run(job.spec.runID), "job \(job.id) has no run")
        }
    }

    @Test("submitting creates the run, queued, with the job's name, config, tags, project and user")
    func submitCreatesTheRun() async throws {
        let fixture = try await Fixture()
        let job = try await fixture.submit("train")
        let details = try #require(try await fixture.store.runDetails(job.spec.runID))
        #expect(details.run.status == .queued)
        #expect(!details.run.status.isTerminal)
        #expect(details.run.name == "train")
        #expect(details.run.projectID == fixture.projectID)
        #expect(details.run.user == "ada")
        #expect(details.run.host == nil)
        #expect(details.run.endedAt == nil)
        #expect(details.run.config["lr"] == 0.1)
        #expect(details.tags == ["team": "ml", Job.runTag: String(job.id)])

        // The query language sees the status.
        var search = RunSearch(projectIDs: [fixture.projectID])
        search.query = try RunQuery(parsing: "status = queued")
        #expect(try await fixture.store.searchRuns(search).runs.map(\.run.id) == [job.spec.runID])
        search.query = try RunQuery(parsing: "status = running")
        #expect(try await fixture.store.searchRuns(search).runs.isEmpty)
        let activity = try await fixture.store.projectActivity([fixture.projectID])
        #expect(activity[fixture.projectID]?.runsByStatus[.queued] == 1)
        let statistics = try await fixture.store.statistics(projectIDs: [fixture.projectID], since: .distantPast)
        #expect(statistics.runsByStatus == [.queued: 1])
    }

    @Test("a refused submission leaves neither a job nor a run")
    func refusedSubmissionLeavesNothing() async throws {
        let fixture = try await Fixture()
        let taken = try await fixture.store.createRun(NewRun(projectID: fixture.projectID))
        var clash = NewJob(projectID: fixture.projectID, runID: taken.id, name: "clash", argv: ["/bin/true"])
        await #expect(throws: QuillError.self) { _ = try await fixture.store.submitJob(clash, now: Self.t0) }
        clash.runID = .random()
        clash.projectID = 9_999
        await #expect(throws: QuillError.self) { _ = try await fixture.store.submitJob(clash, now: Self.t0) }
        #expect(try await fixture.store.jobs(JobQuery()).isEmpty)
        #expect(try await fixture.store.counts().runs == 1)
        #expect(try await fixture.store.run(clash.runID) == nil)
    }

    @Test("claim: running, started then on the worker; the end: completed, failed or killed, ended")
    func claimAndEnd() async throws {
        let fixture = try await Fixture()
        let store = fixture.store
        let ok = try await fixture.submit("ok")
        let bad = try await fixture.submit("bad", at: 1)
        let stopped = try await fixture.submit("stopped", at: 2)
        let worker = WorkerCapabilities(name: "gpu-box", slots: 3)
        var claims: [JobClaim] = []
        for second in 10...12 {
            claims.append(
                try #require(try await store.claimJob(worker, lease: .seconds(60), now: Self.at(Double(second))))
            )
        }
        let running = try await fixture.run(ok)
        #expect(running.status == .running)
        #expect(running.host == "gpu-box")
        #expect(running.startedAt == Self.at(10))
        #expect(running.endedAt == nil)

        _ = try await store.finishAttempt(claims[0].ref, AttemptResult(.completed, exitCode: 0), now: Self.at(20))
        _ = try await store.finishAttempt(claims[1].ref, AttemptResult(.failed, exitCode: 3), now: Self.at(21))
        _ = try await store.cancelJob(stopped.id, reason: nil, now: Self.at(22))
        #expect(try await fixture.run(stopped).status == .running, "a running job's cancel waits for its worker")
        _ = try await store.finishAttempt(claims[2].ref, AttemptResult(.cancelled, signal: 15), now: Self.at(23))
        let ends = [try await fixture.run(ok), try await fixture.run(bad), try await fixture.run(stopped)]
        #expect(ends.map(\.status) == [.completed, .failed, .killed])
        #expect(ends.map(\.endedAt) == [Self.at(20), Self.at(21), Self.at(23)])
    }

    @Test("cancel of a queued job kills its run at once; retry queues it again")
    func cancelAndRetry() async throws {
        let fixture = try await Fixture()
        let job = try await fixture.submit("waiting")
        _ = try await fixture.store.cancelJob(job.id, reason: nil, now: Self.at(5))
        let killed = try await fixture.run(job)
        #expect(killed.status == .killed)
        #expect(killed.endedAt == Self.at(5))
        _ = try await fixture.store.retryJob(job.id, now: Self.at(6))
        let queued = try await fixture.run(job)
        #expect(queued.status == .queued)
        #expect(queued.endedAt == nil)
    }

    @Test("a lost attempt re-queued makes the run queued again; the last attempt lost fails it; a hand-back queues it")
    func lostAndHandedBack() async throws {
        let fixture = try await Fixture()
        let store = fixture.store
        let flaky = try await fixture.submit("flaky", maxAttempts: 2)
        let worker = WorkerCapabilities(name: "w", slots: 1)
        _ = try #require(try await store.claimJob(worker, lease: .seconds(5), now: Self.at(1)))
        #expect(try await fixture.run(flaky).status == .running)
        _ = try await store.recoverExpiredLeases(now: Self.at(10))
        let requeued = try await fixture.run(flaky)
        #expect(requeued.status == .queued)
        #expect(requeued.endedAt == nil)
        _ = try #require(try await store.claimJob(worker, lease: .seconds(5), now: Self.at(11)))
        _ = try await store.recoverExpiredLeases(now: Self.at(20))
        let failed = try await fixture.run(flaky)
        #expect(try await store.job(flaky.id)?.status == .failed)
        #expect(failed.status == .failed)
        #expect(failed.endedAt == Self.at(20))

        let handed = try await fixture.submit("handed")
        let claim = try #require(try await store.claimJob(worker, lease: .seconds(60), now: Self.at(30)))
        #expect(claim.job.id == handed.id)
        _ = try await store.finishAttempt(claim.ref, AttemptResult(.handedBack), now: Self.at(31))
        #expect(try await fixture.run(handed).status == .queued)
    }

    @Test("a job whose run was deleted gets it back when a worker claims it")
    func deletedRunComesBack() async throws {
        let fixture = try await Fixture()
        let job = try await fixture.submit("orphaned")
        try await fixture.store.deleteRun(job.spec.runID)
        _ = try #require(
            try await fixture.store.claimJob(WorkerCapabilities(name: "w"), lease: .seconds(60), now: Self.at(1))
        )
        let run = try await fixture.run(job)
        #expect(run.status == .running)
        #expect(run.host == "w")
    }

    @Test("jobs of one name get runs named name, name_1, name_2, …, the first free suffix")
    func runNamesOfManyJobs() async throws {
        let fixture = try await Fixture()
        var names: [String] = []
        for _ in 0..<40 { names.append(try await fixture.run(try await fixture.submit("python")).name) }
        #expect(names == ["python"] + (1..<40).map { "python_\($0)" })
        var request = NewRun(projectID: fixture.projectID)
        request.name = "eval_41"
        _ = try await fixture.store.createRun(request)
        for name in ["eval_07", "eval_x", "eval_1_2"] {
            request.name = name
            _ = try await fixture.store.createRun(request)
        }
        request.name = "eval"
        #expect(try await fixture.store.createRun(request).name == "eval")
        #expect(try await fixture.store.createRun(request).name == "eval_1")
        #expect(try await fixture.store.createRun(request).name == "eval_2")
        request.name = "évaluation"
        #expect(try await fixture.store.createRun(request).name == "évaluation")
        #expect(try await fixture.store.createRun(request).name == "évaluation_1")
        #expect(try await fixture.store.createRun(request).name == "évaluation_2")
    }

    @Test("v15: a v13 database keeps its runs, indexes and triggers and takes queued runs; the check still holds")
    func migration() async throws {
        let temp = TemporaryDirectory("quill-v15")
        let currentPath = temp.file("current.db")
        let olderPath = temp.file("v13.db")
        let current = try SQLiteTrackingStore(path: currentPath)
        let project = try await current.project(namespace: "ada", displayName: "p")
        var request = NewRun(projectID: project.id)
        request.name = "old"
        request.tags = ["team": "ml"]
        request.status = .completed
        let old = try await current.createRun(request)
        var batch = LogBatch()
        batch.metrics = (0..<10).map { MetricValue(key: "loss", value: Double($0), step: $0, timestamp: Self.t0) }
        _ = try await current.logBatch(old.id, batch)
        let before = try #require(try await current.runDetails(old.id))
        let schema = try Self.schema(currentPath)
        try await current.close()

        try Self.copy(currentPath, to: olderPath, migratedUpTo: "v13: jobs")
        #expect(try Self.runsDefinition(olderPath).contains("'queued'") == false)
        let migrated = try SQLiteTrackingStore(path: olderPath)
        #expect(try Self.runsDefinition(olderPath).contains("'queued'"))
        #expect(try Self.schema(olderPath) == schema, "the same tables, indexes and triggers as a new database")
        #expect(try await migrated.runDetails(old.id) == before)
        var search = RunSearch(projectIDs: [project.id])
        search.query = try RunQuery(parsing: "status = completed and metrics.loss.last = 9")
        #expect(try await migrated.searchRuns(search).runs.map(\.run.id) == [old.id])

        let job = try await migrated.submitJob(
            NewJob(projectID: project.id, runID: .random(), name: "new", argv: ["/bin/true"]),
            now: Self.t0
        )
        #expect(try await migrated.run(job.spec.runID)?.status == .queued)
        let refused = try await DatabaseQueue(path: olderPath).write { db in
            do {
                try db.execute(sql: "UPDATE runs SET status = 'waiting' WHERE id = ?", arguments: [old.id.rawValue])
                return false
            } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
                return true
            }
        }
        #expect(refused, "the status check still refuses an unknown status")
        try await migrated.deleteRun(old.id)
        #expect(try await migrated.run(old.id) == nil)
    }

    // MARK: Helpers

    /// Makes a database with the schema after migration `identifier`, holding the rows of the database at
    /// `source` (the columns both have, table by table).
    static func copy(_ source: String, to path: String, migratedUpTo identifier: String) throws {
        try SQLiteTrackingStore.createDatabase(path: path, migratedUpTo: identifier)
        var configuration = Configuration()
        configuration.foreignKeysEnabled = false
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: "ATTACH DATABASE ? AS current", arguments: [source])
            try db.inTransaction {
                let tables = try String.fetchAll(
                    db,
                    sql: """
                        SELECT name FROM main.sqlite_master
                        WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'grdb_migrations'
                        ORDER BY name
                        """
                )
                for table in tables {
                    let old = try Row.fetchAll(db, sql: "PRAGMA main.table_info(\(table))").map { $0["name"] as String }
                    let new = Set(
                        try Row.fetchAll(db, sql: "PRAGMA current.table_info(\(table))").map { $0["name"] as String }
                    )
                    let columns = old.filter(new.contains).joined(separator: ", ")
                    guard !columns.isEmpty else { continue }
                    try db.execute(sql: "DELETE FROM main.\(table)")
                    try db.execute(
                        sql: "INSERT INTO main.\(table) (\(columns)) SELECT \(columns) FROM current.\(table)"
                    )
                }
                return .commit
            }
            try db.execute(sql: "DETACH DATABASE current")
        }
        try queue.close()
    }

    /// Every table, index, trigger and view of a database, by type and name.
    static func schema(_ path: String) throws -> [String] {
        try DatabaseQueue(path: path).read { db in
            try String.fetchAll(
                db,
                sql: "SELECT type || ' ' || name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY 1"
            )
        }
    }

    static func runsDefinition(_ path: String) throws -> String {
        try DatabaseQueue(path: path).read { db in
            try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'runs'") ?? ""
        }
    }
}
