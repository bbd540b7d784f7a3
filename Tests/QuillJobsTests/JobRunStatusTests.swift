import Foundation
import QuillCore
import QuillJobs
import QuillStore
import QuillStoreSQLite
import QuillTesting
import Testing

/// A job's run through the queue and a real worker running real processes: queued at submission, running
/// while the command runs, then the job's end.
@Suite("A job's run follows the job through the queue")
struct JobRunStatusTests {
    /// Polls the run of `job` until its status is `status` (at most 30 s).
    func waitForRun(_ fixture: QueueFixture, _ job: Job, _ status: RunStatus) async throws -> StoredRun {
        let deadline = ContinuousClock.now + .seconds(30)
        var last: StoredRun?
        while ContinuousClock.now < deadline {
            last = try await fixture.store.run(job.spec.runID)
            if let last, last.status == status { return last }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("run of job \(job.id) did not become \(status): \(String(describing: last?.status))")
        throw QuillError(.unavailable, "timed out")
    }

    @Test("submitted: queued at once; claimed: running on the worker; cancelled while running: killed")
    func queuedRunningKilled() async throws {
        let fixture = try await QueueFixture()
        let job = try await fixture.submit(["/bin/sh", "-c", "echo started; sleep 30"], name: "sleeper") { job in
            job.tags = ["team": "ml"]
            job.submittedBy = "ada"
        }
        let queued = try #require(try await fixture.store.runDetails(job.spec.runID))
        #expect(queued.run.status == .queued)
        #expect(queued.run.name == "sleeper")
        #expect(queued.run.user == "ada")
        #expect(queued.tags == ["team": "ml", JobQueue.jobTag: String(job.id)])
        try await fixture.with([fixture.worker("w1")]) {
            let running = try await waitForRun(fixture, job, .running)
            #expect(running.host == "w1")
            #expect(running.endedAt == nil)
            _ = try await fixture.queue.cancel(job.id)
            let final = try await fixture.final(job.id)
            #expect(final.status == .cancelled)
        }
        let killed = try await waitForRun(fixture, job, .killed)
        #expect(killed.endedAt != nil)
    }

    @Test("a job that ran completes its run; retried, the run is queued again and completes again")
    func completedRetried() async throws {
        let fixture = try await QueueFixture()
        let job = try await fixture.submit(["/bin/sh", "-c", "echo done"])
        try await fixture.with([fixture.worker("w1")]) {
            let final = try await fixture.final(job.id)
            #expect(final.status == .completed)
        }
        #expect(try await fixture.store.run(job.spec.runID)?.status == .completed)
        _ = try await fixture.queue.retry(job.id)
        let again = try #require(try await fixture.store.run(job.spec.runID))
        #expect(again.status == .queued)
        #expect(again.endedAt == nil)
        try await fixture.with([fixture.worker("w2")]) {
            let final = try await fixture.final(job.id)
            #expect(final.status == .completed)
        }
        let done = try #require(try await fixture.store.run(job.spec.runID))
        #expect(done.status == .completed)
        #expect(done.host == "w2")
        #expect(try await fixture.log(job).filter { $0 == "done" }.count == 2)
    }
}
