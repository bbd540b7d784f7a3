import Foundation
import Logging
import QuillCore
import QuillJobs
import QuillStore
import QuillStoreSQLite
import QuillTesting
import Testing

/// A queue on a fresh SQLite file, with a project to submit to.
struct QueueFixture {
    let temp = TemporaryDirectory("quill-worker")
    let store: SQLiteTrackingStore
    let queue: JobQueue
    let projectID: Int64

    init() async throws {
        store = try SQLiteTrackingStore(path: temp.file("quill.db"))
        queue = JobQueue(jobs: store, runs: store, sweepInterval: .milliseconds(200), logger: Logger(label: "test"))
        projectID = try await store.project(namespace: "local", displayName: "jobs").id
    }

    func submit(
        _ argv: [String],
        name: String = "job",
        configure: (inout NewJob) -> Void = { _ in }
    ) async throws -> Job {
        var job = NewJob(projectID: projectID, runID: .random(), name: name, argv: argv)
        configure(&job)
        return try await queue.submit(job)
    }

    /// A worker; the lease is long, so a loaded machine never loses an attempt (expiry has its own tests).
    func worker(
        _ name: String,
        slots: Int = 1,
        gpus: [Int] = [],
        lease: Duration = .seconds(60),
        uploads: (any RunDirectoryUploads)? = nil
    ) -> Worker {
        var configuration = WorkerConfiguration(
            device: NewDevice(
                name: name,
                host: "localhost",
                cpus: 1,
                memoryBytes: 1 << 30,
                gpus: gpus.map { DeviceGPU(index: $0) },
                slots: slots
            ),
            runsDirectory: temp.file("runs-\(name)"),
            trackingURI: { "http://127.0.0.1:1" }
        )
        configuration.lease = lease
        configuration.heartbeatInterval = .milliseconds(100)
        configuration.uploadInterval = .milliseconds(100)
        configuration.claimWait = .seconds(2)
        configuration.stopGrace = .seconds(1)
        return Worker(
            configuration: configuration,
            channel: LocalJobChannel(queue: queue),
            uploads: uploads,
            logger: Logger(label: "test")
        )
    }

    /// Waits until the job reaches a final status (at most `timeout`).
    func final(_ id: Int64, timeout: Duration = .seconds(30)) async throws -> Job {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let job = try await store.job(id), job.status.isTerminal { return job }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw QuillError(.unavailable, "job \(id) did not finish within \(timeout)")
    }

    /// The job's run log; empty before the run exists (the job has not started).
    func log(_ job: Job) async throws -> [String] {
        guard try await store.run(job.spec.runID) != nil else { return [] }
        return try await store.logLines(job.spec.runID, offset: 0, limit: 10_000).lines.map(\.message)
    }

    /// Runs workers while `body` runs, then stops them.
    func with<T: Sendable>(_ workers: [Worker], _ body: () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in workers { group.addTask { try await worker.run() } }
            group.addTask { try await queue.run() }
            defer { group.cancelAll() }
            return try await body()
        }
    }
}

@Suite("Worker")
struct WorkerTests {
    @Test("a job runs in its directory with the job's environment; its output becomes the run's log")
    func runsAJob() async throws {
        let fixture = try await QueueFixture()
        let workdir = fixture.temp.file("work")
        try FileManager.default.createDirectory(atPath: workdir, withIntermediateDirectories: true)
        let script =
            "pwd; echo job=$QUILL_JOB_ID run=$QUILL_RUN_ID dir=$QUILL_RUN_DIR uri=$QUILL_TRACKING_URI extra=$EXTRA; echo oops >&2"
        let job = try await fixture.submit(["/bin/sh", "-c", script]) { job in
            job.workdir = workdir
            job.environment = ["EXTRA": "yes"]
        }
        let final = try await fixture.with([fixture.worker("w1")]) {
            let final = try await fixture.final(job.id)
            // The run's status follows the job's end, written by the worker's report a moment after it.
            try await waitUntil { try await fixture.store.run(job.spec.runID)?.status == .completed }
            return final
        }
        #expect(final.status == .completed)
        #expect(final.exitCode == 0)
        #expect(final.attempts.map(\.worker) == ["w1"])
        let lines = try await fixture.log(job)
        let runDirectory = fixture.temp.file("runs-w1") + "/" + job.spec.runID.rawValue
        #expect(
            lines.first.map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path }
                == URL(fileURLWithPath: workdir).resolvingSymlinksInPath().path
        )
        #expect(
            lines.contains("job=\(job.id) run=\(job.spec.runID) dir=\(runDirectory) uri=http://127.0.0.1:1 extra=yes")
        )
        #expect(lines.contains("oops"))
        #expect(try await fixture.store.run(job.spec.runID)?.name == "job")
    }

    @Test("a failing command fails the job with its exit status; a missing command fails with the reason")
    func failures() async throws {
        let fixture = try await QueueFixture()
        let failing = try await fixture.submit(["/bin/sh", "-c", "exit 3"])
        let missing = try await fixture.submit(["quill-no-such-command-xyz"])
        let (first, second) = try await fixture.with([fixture.worker("w1")]) {
            let ended = (try await fixture.final(failing.id), try await fixture.final(missing.id))
            try await waitUntil { try await fixture.store.run(failing.spec.runID)?.status == .failed }
            return ended
        }
        #expect(first.status == .failed)
        #expect(first.exitCode == 3)
        #expect(second.status == .failed)
        #expect(second.reason?.contains("not found") == true)
    }

    @Test("a job past its timeout is stopped with SIGTERM and fails with the reason")
    func timeout() async throws {
        let fixture = try await QueueFixture()
        let job = try await fixture.submit(["/bin/sh", "-c", "echo started; sleep 30"]) {
            $0.timeout = .milliseconds(500)
        }
        let final = try await fixture.with([fixture.worker("w1")]) { try await fixture.final(job.id) }
        #expect(final.status == .failed)
        #expect(final.signal == Int(SIGTERM))
        #expect(final.reason?.contains("timeout") == true)
        #expect(final.attempts.last?.outcome == .timedOut)
    }

    @Test("cancelling a running job stops its command and ends it cancelled")
    func cancelRunning() async throws {
        let fixture = try await QueueFixture()
        let job = try await fixture.submit(["/bin/sh", "-c", "echo started; sleep 30"])
        let final = try await fixture.with([fixture.worker("w1")]) {
            try await waitUntil { try await fixture.log(job).contains("started") }
            _ = try await fixture.queue.cancel(job.id)
            let final = try await fixture.final(job.id)
            try await waitUntil { try await fixture.store.run(job.spec.runID)?.status == .killed }
            return final
        }
        #expect(final.status == .cancelled)
        #expect(final.attempts.last?.outcome == .cancelled)
    }

    @Test("GPUs are never given to two jobs at once (simulated GPU list)")
    func gpus() async throws {
        let fixture = try await QueueFixture()
        // Each job records its CUDA_VISIBLE_DEVICES and holds them for a while; 3 slots, 4 GPUs, jobs of 2 and 1.
        let marker = fixture.temp.file("held")
        try FileManager.default.createDirectory(atPath: marker, withIntermediateDirectories: true)
        let script = """
            for g in $(echo $CUDA_VISIBLE_DEVICES | tr ',' ' '); do
              if ! mkdir "\(marker)/$g" 2>/dev/null; then echo "double-booked $g"; exit 9; fi
            done
            echo "gpus=$CUDA_VISIBLE_DEVICES"; sleep 0.3
            for g in $(echo $CUDA_VISIBLE_DEVICES | tr ',' ' '); do rmdir "\(marker)/$g"; done
            """
        var jobs: [Job] = []
        for index in 0..<8 {
            jobs.append(
                try await fixture.submit(["/bin/sh", "-c", script], name: "g\(index)") {
                    $0.resources = JobResources(gpus: index % 2 == 0 ? 2 : 1)
                }
            )
        }
        let finals = try await fixture.with([fixture.worker("gpu-box", slots: 3, gpus: [0, 1, 2, 3])]) {
            var finals: [Job] = []
            for job in jobs { finals.append(try await fixture.final(job.id, timeout: .seconds(60))) }
            return finals
        }
        for (job, final) in zip(jobs, finals) {
            let log = try await fixture.log(job)
            #expect(final.status == .completed, "\(log)")
            #expect(final.attempts.last?.gpus.count == job.spec.resources.gpus)
        }
    }

    @Test("a stopped worker hands its running job back; another worker finishes it")
    func handBack() async throws {
        let fixture = try await QueueFixture()
        // The first attempt sleeps far longer than the test takes to stop its worker; the second finishes.
        let marker = fixture.temp.file("tried")
        let script = "if [ -e \(marker) ]; then echo done; else touch \(marker); echo attempt; sleep 60; fi"
        let job = try await fixture.submit(["/bin/sh", "-c", script])
        let first = fixture.worker("first")
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await first.run() }
            try await waitUntil { try await fixture.log(job).contains("attempt") }
            group.cancelAll()
        }
        let back = try #require(try await fixture.store.job(job.id))
        #expect(back.status == .queued)
        #expect(back.attempts.map(\.outcome) == [.handedBack])
        // A cancelled worker leaves its device to expire with its lease (a graceful stop unregisters it: the
        // end-to-end test with SIGTERM); it holds no job any more.
        #expect(try await fixture.store.device("first", now: Date())?.runningJobs == [])
        let final = try await fixture.with([fixture.worker("second")]) { try await fixture.final(job.id) }
        #expect(final.status == .completed)
        #expect(final.attempts.map(\.worker) == ["first", "second"])
    }
}

/// Waits until `condition` holds, failing the test after `timeout`.
func waitUntil(
    timeout: Duration = .seconds(20),
    sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    Issue.record("condition not met within \(timeout)", sourceLocation: sourceLocation)
    throw CancellationError()
}
