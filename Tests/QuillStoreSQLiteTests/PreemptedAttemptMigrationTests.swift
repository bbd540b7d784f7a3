import Foundation
import GRDB
import QuillCore
import QuillStore
import QuillStoreSQLite
import QuillTesting
import Testing

@Suite("SQLite: v17 lets an attempt end preempted")
struct PreemptedAttemptMigrationTests {
    @Test("a v16 database keeps its job attempts and indexes, and takes preempted attempts afterwards")
    func migration() async throws {
        let temp = TemporaryDirectory("quill-v17")
        let currentPath = temp.file("current.db")
        let olderPath = temp.file("v16.db")
        let current = try SQLiteTrackingStore(path: currentPath)
        let project = try await current.project(namespace: "ada", displayName: "p")
        let job = try await current.submitJob(
            NewJob(projectID: project.id, runID: .random(), name: "old", argv: ["/bin/true"]),
            now: JobRunTests.t0
        )
        let claim = try #require(
            try await current.claimJob(WorkerCapabilities(name: "w"), lease: .seconds(30), now: JobRunTests.t0)
        )
        _ = try await current.finishAttempt(
            claim.ref,
            AttemptResult(.failed, exitCode: 3, reason: "boom"),
            now: JobRunTests.t0
        )
        let before = try #require(try await current.job(job.id))
        let schema = try JobRunTests.schema(currentPath)
        try await current.close()

        try JobRunTests.copy(currentPath, to: olderPath, migratedUpTo: "v16: project tags and the trash")
        let refusedBefore = try await DatabaseQueue(path: olderPath).write { db in
            (try? db.execute(sql: "UPDATE job_attempts SET outcome = 'preempted'")) == nil
        }
        #expect(refusedBefore, "v16 refuses the outcome preempted")
        let migrated = try SQLiteTrackingStore(path: olderPath)
        #expect(try JobRunTests.schema(olderPath) == schema, "the same tables, indexes and triggers as a new database")
        #expect(try await migrated.job(job.id) == before)

        _ = try await migrated.retryJob(job.id, now: JobRunTests.t0)
        let again = try #require(
            try await migrated.claimJob(WorkerCapabilities(name: "w"), lease: .seconds(30), now: JobRunTests.t0)
        )
        let preempted = try await migrated.finishAttempt(
            again.ref,
            AttemptResult(.preempted, reason: "SLURM job 9 PREEMPTED"),
            now: JobRunTests.t0
        )
        #expect(preempted.status == .queued)
        #expect(preempted.attempts.map(\.outcome) == [.failed, .preempted])
        let refusedAfter = try await DatabaseQueue(path: olderPath).write { db in
            (try? db.execute(sql: "UPDATE job_attempts SET outcome = 'paused'")) == nil
        }
        #expect(refusedAfter, "the outcome check still refuses an unknown outcome")
        try await migrated.close()
    }
}
