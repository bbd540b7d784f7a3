import Foundation
import QuillCore
import QuillStore
import QuillStoreSQLite
import QuillTesting
import Testing

@Suite("SQLite job store")
struct JobStoreTests {
    @Test("conforms to the JobStore contract", arguments: JobStoreConformance.allCases)
    func conformance(check: JobStoreConformance) async throws {
        let temp = TemporaryDirectory("quill-jobs")
        let path = temp.file("quill.db")
        // Twelve claimers over four stores queue for SQLite's one write lock; on a loaded machine a claim can
        // wait longer than the default 5 s for it ("database is locked"), which says nothing about exclusivity.
        let busyTimeout = Duration.seconds(120)
        let store = try SQLiteTrackingStore(path: path, busyTimeout: busyTimeout)
        let project = try await store.project(namespace: "ada", displayName: "jobs")
        // Each extra store is its own connection pool on the same file, as another process would be: claims
        // from them contend for SQLite's write lock, not for one writer queue.
        let fixture = JobStoreFixture(store: store, projectID: project.id) {
            try SQLiteTrackingStore(path: path, busyTimeout: busyTimeout)
        }
        try await check.check(fixture)
    }

    @Test("jobs survive closing and reopening the database file")
    func reopen() async throws {
        let temp = TemporaryDirectory("quill-jobs")
        let path = temp.file("quill.db")
        let id: Int64
        do {
            let store = try SQLiteTrackingStore(path: path)
            let project = try await store.project(namespace: "ada", displayName: "jobs")
            id = try await store.submitJob(
                NewJob(projectID: project.id, runID: .random(), name: "a", argv: ["true"]),
                now: Date()
            ).id
            _ = try await store.claimJob(WorkerCapabilities(name: "w"), lease: .seconds(30), now: Date())
            try await store.close()
        }
        let reopened = try SQLiteTrackingStore(path: path)
        let job = try #require(try await reopened.job(id))
        #expect(job.status == .running)
        #expect(job.attempts.count == 1)
    }
}
