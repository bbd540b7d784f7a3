import Foundation
import QuillCore
import QuillJobs
import QuillStore
import QuillStoreSQLite
import QuillTesting
import Synchronization
import Testing

/// Records each upload of a job's run directory: the rows `metrics.jsonl` had then and the attempt's index base.
final class RecordingUploads: RunDirectoryUploads {
    struct Call: Sendable, Hashable {
        var directory: String
        var rows: Int
        var indexBase: Int
    }

    let calls = Mutex<[Call]>([])

    func session(for directory: RunDirectory, claim: JobClaim) -> any RunDirectoryUpload {
        Session(owner: self, directory: directory, indexBase: JobRunDirectory.indexBase(attempt: claim.attempt.number))
    }

    struct Session: RunDirectoryUpload {
        let owner: RecordingUploads
        let directory: RunDirectory
        let indexBase: Int

        func upload() async throws {
            let rows = (try? MetricsFile.read(directory.metricsPath).rows.count) ?? 0
            owner.calls.withLock { $0.append(Call(directory: directory.path, rows: rows, indexBase: indexBase)) }
        }
    }
}

@Suite("A job's run directory")
struct JobRunDirectoryTests {
    @Test("is a Quill run directory of the job's run, uploaded while the job runs and once at its end")
    func runDirectoryIsARunAndStreams() async throws {
        let fixture = try await QueueFixture()
        let uploads = RecordingUploads()
        let go = fixture.temp.file("go")
        // Two rows, then (once the test saw them uploaded while the job runs) three more.
        let script = """
            row() { echo "{\\"step\\": $1, \\"loss\\": $1}" >> "$QUILL_RUN_DIR/metrics.jsonl"; }
            row 1; row 2
            n=0; while [ ! -e "\(go)" ] && [ $n -lt 1200 ]; do sleep 0.05; n=$((n + 1)); done
            row 3; row 4; row 5
            """
        let job = try await fixture.submit(["/bin/sh", "-c", script], name: "streamed") { job in
            job.config = ["lr": 0.1]
            job.tags = ["team": "ml"]
        }
        let final = try await fixture.with([fixture.worker("w1", uploads: uploads)]) {
            try await waitUntil { uploads.calls.withLock { $0 }.contains { $0.rows == 2 } }
            _ = FileManager.default.createFile(atPath: go, contents: nil)
            return try await fixture.final(job.id)
        }
        #expect(final.status == .completed)
        let directory = RunDirectory(path: fixture.temp.file("runs-w1") + "/" + job.spec.runID.rawValue)
        let meta = try directory.readMeta()
        #expect(meta.id == job.spec.runID)
        #expect(meta.name == "streamed")
        #expect(meta.status == .completed)
        #expect(meta.tagValues == ["team": "ml", JobQueue.jobTag: String(job.id)])
        #expect(meta.extra[JobRunDirectory.jobIDField] == .int(Int(job.id)))
        #expect(try directory.readConfig() == ["lr": 0.1])
        #expect(FileManager.default.fileExists(atPath: directory.artifactsPath))
        let calls = uploads.calls.withLock { $0 }
        #expect(calls.last?.rows == 5, "the last upload comes after the command ended: \(calls)")
        #expect(Set(calls.map(\.directory)) == [directory.path])
        #expect(Set(calls.map(\.indexBase)) == [0])
    }

    @Test(
        "a retried job starts in a fresh directory on the same worker, the earlier one moved aside, with its own index base"
    )
    func retryStartsFresh() async throws {
        let fixture = try await QueueFixture()
        let uploads = RecordingUploads()
        let job = try await fixture.submit([
            "/bin/sh", "-c", "echo '{\"loss\": 1}' >> \"$QUILL_RUN_DIR/metrics.jsonl\"; exit 3",
        ])
        try await fixture.with([fixture.worker("w1", uploads: uploads)]) {
            _ = try await fixture.final(job.id)
            _ = try await fixture.queue.retry(job.id)
            try await waitUntil { try await fixture.store.job(job.id)?.attempts.count == 2 }
            _ = try await fixture.final(job.id)
        }
        let path = fixture.temp.file("runs-w1") + "/" + job.spec.runID.rawValue
        #expect(try MetricsFile.read(path + "/metrics.jsonl").rows.count == 1)
        #expect(try MetricsFile.read(path + ".attempt-1/metrics.jsonl").rows.count == 1)
        #expect(try RunDirectory(path: path).readMeta().extra[JobRunDirectory.attemptField] == 2)
        let bases = Set(uploads.calls.withLock { $0 }.map(\.indexBase))
        #expect(bases == [0, JobRunDirectory.indexBase(attempt: 2)])
        #expect(JobRunDirectory.indexBase(attempt: 2) == 1 << 32)
    }
}
