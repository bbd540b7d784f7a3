import Foundation
import QuillCore
import QuillTesting
import Testing

/// Jobs on SLURM end to end (issue 16): a real `quill serve`, a real `quill worker --executor slurm` submitting
/// to the test cluster (`QUILL_TEST_SLURM_CONF`), `quill submit`/`sweep`/`cancel`, and SLURM's own tools to look
/// at the cluster. Synchronous, like ``JobCommandsTests`` (scripts/test.sh runs it one test at a time). Jobs ask
/// for 50M so several fit on the one node; every wait has a deadline.
@Suite("Jobs on SLURM", .serialized, .enabled(if: TestSlurm.isAvailable, TestSlurm.skipComment))
struct SlurmJobTests {
    /// A cluster of one `quill serve` and one SLURM worker.
    static func cluster(environment: [String: String] = [:]) throws -> JobCluster {
        let cluster = try JobCluster()
        try startWorker(cluster, environment: environment)
        return cluster
    }

    /// Starts the SLURM worker `slurm` (its home, hence its runs directory, is the same each time).
    static func startWorker(_ cluster: JobCluster, environment: [String: String] = [:]) throws {
        let worker = cluster.quill.environment.merging(TestSlurm.environment) { _, new in new }
            .merging(environment) { _, new in new }
            .merging(["QUILL_HOME": cluster.quill.home.file("worker-slurm")]) { _, new in new }
        cluster.workers["slurm"] = try BuiltProducts.start(
            BuiltProducts.path("quill"),
            ["worker", "--server", cluster.url, "--name", "slurm", "--executor", "slurm"],
            environment: worker
        )
    }

    /// Runs a SLURM tool against the test cluster.
    static func slurm(_ tool: String, _ arguments: [String]) throws -> BuiltProducts.Result {
        let path = ["/usr/bin/", "/usr/local/bin/"].map { $0 + tool }.first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
        return try BuiltProducts.run(path ?? tool, arguments, environment: TestSlurm.environment)
    }

    /// The state SLURM reports for a job or array task (`squeue --states=all`).
    static func slurmState(_ id: String) throws -> String {
        try slurm("squeue", ["--noheader", "--states=all", "--jobs=\(id)", "--Format=State:|"]).stdout
            .trimmingCharacters(in: CharacterSet(charactersIn: "| \n"))
    }

    /// The SLURM job id the job's run records, once it has one.
    static func slurmJobID(_ cluster: JobCluster, run: String, timeout: Double = 60) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let id = try? cluster.get("/api/v1/runs/\(run)")["tags"]?["quill.slurm.job_id"]?.stringValue {
                return id
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
        Issue.record("run \(run) got no quill.slurm.job_id tag within \(timeout) s")
        throw QuillError(.unavailable, "timed out")
    }

    static let small = ["--executor", "slurm", "--mem", "50M"]

    /// Submits a job whose first attempt prints "first attempt" and sleeps, and whose next prints "second
    /// attempt" and ends; returns once the first runs, with the job and its first SLURM job id.
    static func submitTwoAttemptJob(_ cluster: JobCluster) throws -> (job: (id: Int, run: String), first: String) {
        let mark = cluster.quill.home.file("first-attempt-ran")
        let script =
            "if [ -e '\(mark)' ]; then echo second attempt; else touch '\(mark)'; echo first attempt; sleep 300; fi"
        let job = try cluster.submit(small + ["--", "sh", "-c", script])
        let first = try slurmJobID(cluster, run: job.run)
        try cluster.waitFor(job.id, timeout: 120) { _ in FileManager.default.fileExists(atPath: mark) }
        return (job, first)
    }

    @Test("a job runs through SLURM: its output, metrics and status reach the server; its run names the SLURM job")
    func jobRunsThroughSlurm() throws {
        let cluster = try Self.cluster()
        defer { cluster.stop() }
        let script = """
            echo "hello from $SLURM_JOB_ID"
            for i in 0 1 2; do echo "{\\"step\\": $i, \\"loss\\": $i.5}" >> "$QUILL_RUN_DIR/metrics.jsonl"; done
            echo oops >&2
            """
        let job = try cluster.submit(Self.small + ["--name", "slurm-hello", "--", "sh", "-c", script])
        let final = try cluster.waitFor(job.id, timeout: 180) {
            ["completed", "failed", "cancelled"].contains($0["status"])
        }
        #expect(final["status"] == "completed", "\(final)")
        let slurmID = try Self.slurmJobID(cluster, run: job.run)
        #expect(Int(slurmID) != nil)
        // Recorded on the attempt too, though the job ends before the worker's first heartbeat.
        #expect(final["attempts"]?.arrayValue?.last?["slurm_job_id"]?.stringValue == slurmID, "\(final)")
        #expect(try Self.slurmState(slurmID) == "COMPLETED")
        let lines = try cluster.logLines(job.run)
        #expect(lines.contains("quill: submitted to SLURM as job \(slurmID)"), "\(lines)")
        #expect(lines.contains("hello from \(slurmID)"), "\(lines)")
        #expect(lines.contains("oops"), "\(lines)")
        // The metrics arrive with the final upload, after the status: wait for them.
        let deadline = Date().addingTimeInterval(30)
        var points: [JSONValue] = []
        while Date() < deadline {
            points = (try? cluster.get("/api/v1/runs/\(job.run)/metrics?key=loss")["points"]?.arrayValue) ?? []
            if points.count == 3 { break }
            Thread.sleep(forTimeInterval: 0.2)
        }
        #expect(points.compactMap { $0["value"]?.doubleValue } == [0.5, 1.5, 2.5], "\(points)")
        let run = try cluster.get("/api/v1/runs/\(job.run)")
        #expect(run["status"] == "completed")
        #expect(run["tags"]?["quill.executor"] == "slurm")
    }

    @Test("quill cancel cancels the job in SLURM (scancel) and the job ends cancelled")
    func cancelReachesSlurm() throws {
        let cluster = try Self.cluster()
        defer { cluster.stop() }
        let job = try cluster.submit(Self.small + ["--", "sh", "-c", "echo started; sleep 300"])
        let slurmID = try Self.slurmJobID(cluster, run: job.run)
        try cluster.waitFor(job.id, timeout: 120) { _ in (try? Self.slurmState(slurmID)) == "RUNNING" }
        let cancel = try cluster.quill("cancel", "--server", cluster.url, String(job.id))
        #expect(cancel.status == 0, "\(cancel.stderr)")
        let final = try cluster.waitFor(job.id, timeout: 120) { $0["status"] == "cancelled" }
        #expect(final["attempts"]?.arrayValue?.last?["outcome"] == "cancelled")
        let deadline = Date().addingTimeInterval(60)
        var state = ""
        while Date() < deadline {
            state = try Self.slurmState(slurmID)
            if state == "CANCELLED" { break }
            Thread.sleep(forTimeInterval: 0.2)
        }
        #expect(state == "CANCELLED")
    }

    @Test("a job requeued in SLURM (scontrol requeue) is recorded as preempted and finishes on its next attempt")
    func requeuedJobIsPreemptedAndRunsAgain() throws {
        let cluster = try Self.cluster()
        defer { cluster.stop() }
        let (job, first) = try Self.submitTwoAttemptJob(cluster)
        let requeue = try Self.slurm("scontrol", ["requeue", first])
        #expect(requeue.status == 0, "\(requeue.stderr)")
        let final = try cluster.waitFor(job.id, timeout: 180) {
            ["completed", "failed", "cancelled"].contains($0["status"])
        }
        #expect(final["status"] == "completed", "\(final)")
        let attempts = final["attempts"]?.arrayValue ?? []
        #expect(attempts.compactMap { $0["outcome"]?.stringValue } == ["preempted", "completed"], "\(attempts)")
        #expect(attempts.first?["reason"]?.stringValue?.contains("requeued") == true, "\(attempts)")
        // The requeued SLURM job was cancelled; the second attempt was a new SLURM job.
        let second = try Self.slurmJobID(cluster, run: job.run)
        #expect(second != first)
        #expect(try Self.slurmState(first) == "CANCELLED")
        let lines = try cluster.logLines(job.run)
        #expect(lines.contains("first attempt") && lines.contains("second attempt"), "\(lines)")
    }

    @Test(
        "a SIGKILLed worker's SLURM job is stopped before the job's next attempt, which shares its run directory"
    )
    func lostWorkersSlurmJobIsStopped() throws {
        let cluster = try Self.cluster()
        defer { cluster.stop() }
        let (job, first) = try Self.submitTwoAttemptJob(cluster)
        cluster.killWorker("slurm")
        // Nothing follows the first SLURM job now; it runs on.
        #expect(try Self.slurmState(first) == "RUNNING")
        // A new worker with the same runs directory claims the job once the lost attempt's lease expired.
        try Self.startWorker(cluster)
        let final = try cluster.waitFor(job.id, timeout: 180) {
            ["completed", "failed", "cancelled"].contains($0["status"])
        }
        #expect(final["status"] == "completed", "\(final)")
        let attempts = final["attempts"]?.arrayValue ?? []
        #expect(attempts.compactMap { $0["outcome"]?.stringValue } == ["lost", "completed"], "\(attempts)")
        #expect(attempts.first?["slurm_job_id"]?.stringValue == first, "\(attempts)")
        let second = attempts.last?["slurm_job_id"]?.stringValue
        #expect(second != nil && second != first, "\(attempts)")
        // The first SLURM job was stopped before the second was submitted.
        let state = try Self.slurmState(first)
        #expect(["CANCELLED", "FAILED"].contains(state), "the lost attempt's SLURM job is \(state)")
        let lines = try cluster.logLines(job.run)
        #expect(
            lines.contains("quill: cancelling SLURM job \(first) of an earlier attempt (its worker stopped answering)"),
            "\(lines)"
        )
        #expect(lines.contains("second attempt"), "\(lines)")
        // Nothing of the first job's output comes after the second attempt's submission.
        if let submitted = lines.lastIndex(where: { $0.hasPrefix("quill: submitted to SLURM as job") }) {
            #expect(!lines[submitted...].contains("first attempt"), "\(lines)")
        }
    }

    @Test("a job past SLURM's --time fails as TIMEOUT")
    func timeLimitFailsAsTimeout() throws {
        let cluster = try Self.cluster()
        defer { cluster.stop() }
        let started = Date()
        let job = try cluster.submit(Self.small + ["--time", "1", "--", "sleep", "600"])
        let final = try cluster.waitFor(job.id, timeout: 300) {
            ["completed", "failed", "cancelled"].contains($0["status"])
        }
        let seconds = Date().timeIntervalSince(started)
        #expect(final["status"] == "failed", "\(final)")
        #expect(final["reason"]?.stringValue?.contains("TIMEOUT") == true, "\(final)")
        #expect(final["attempts"]?.arrayValue?.last?["outcome"] == "failed")
        print("a job with --time 1 (one minute) failed as TIMEOUT after \(Int(seconds)) s")
    }

    @Test("quill sweep --executor slurm: 8 jobs as one array job, at most 2 at once (--max-parallel 2)")
    func sweepIsOneArray() throws {
        let cluster = try Self.cluster()
        defer { cluster.stop() }
        let result = try cluster.quill(
            "sweep",
            "--server",
            cluster.url,
            "--json",
            "--executor",
            "slurm",
            "--mem",
            "50M",
            "--max-parallel",
            "2",
            "--grid",
            "i=0,1,2,3,4,5,6,7",
            "--",
            "sh",
            "-c",
            "echo task {i}; sleep 2"
        )
        #expect(result.status == 0, "\(result.stderr)")
        let ids = try (JSONParser.parse(result.stdout)["jobs"]?.arrayValue ?? []).compactMap { $0["job_id"]?.intValue }
        #expect(ids.count == 8, "\(result.stdout)")
        var mostRunning = 0
        var arrayID: String?
        let deadline = Date().addingTimeInterval(240)
        var jobs: [JSONValue] = []
        while Date() < deadline {
            jobs = try ids.map { try cluster.job($0) }
            if arrayID == nil, let run = jobs.first?["run_id"]?.stringValue,
                let tag = try? cluster.get("/api/v1/runs/\(run)")["tags"]?["quill.slurm.job_id"]?.stringValue
            {
                arrayID = tag.split(separator: "_").first.map(String.init)
            }
            if let arrayID {
                let running = try Self.slurm(
                    "squeue",
                    ["--noheader", "--array", "--states=RUNNING", "--jobs=\(arrayID)", "--Format=ArrayTaskID:|"]
                ).stdout.split(whereSeparator: \.isNewline).count
                mostRunning = max(mostRunning, running)
            }
            if jobs.allSatisfy({ ["completed", "failed", "cancelled"].contains($0["status"]) }) { break }
            Thread.sleep(forTimeInterval: 0.3)
        }
        #expect(jobs.allSatisfy { $0["status"] == "completed" }, "\(jobs.map { $0["status"] ?? .null })")
        let slurmIDs = try jobs.compactMap { job in
            try job["run_id"]?.stringValue.flatMap {
                try cluster.get("/api/v1/runs/\($0)")["tags"]?["quill.slurm.job_id"]?.stringValue
            }
        }
        #expect(
            Set(slurmIDs.map { $0.split(separator: "_").first.map(String.init) ?? "" }).count == 1,
            "one array: \(slurmIDs)"
        )
        #expect(Set(slurmIDs).count == 8, "\(slurmIDs)")
        let attempts = jobs.map { $0["attempts"]?.arrayValue?.compactMap { $0["outcome"]?.stringValue } ?? [] }
        #expect(attempts.allSatisfy { $0 == ["completed"] }, "\(jobs.map { $0["attempts"] ?? .null })")
        #expect(mostRunning <= 2, "at most 2 tasks ran at once; saw \(mostRunning)")
        // And from SLURM's own record of each task's start and end (seconds): never more than 2 overlap.
        if let arrayID {
            let rows = try Self.slurm(
                "squeue",
                ["--noheader", "--states=all", "--array", "--jobs=\(arrayID)", "--Format=StartTime:|,EndTime:|"]
            ).stdout.split(whereSeparator: \.isNewline)
            let format = ISO8601DateFormatter()
            format.formatOptions = [.withFullDate, .withTime, .withColonSeparatorInTime, .withDashSeparatorInDate]
            format.timeZone = .current
            let spans = rows.compactMap { row -> (Date, Date)? in
                let fields = row.split(separator: "|").map(String.init)
                guard fields.count >= 2, let start = format.date(from: fields[0]),
                    let end = format.date(from: fields[1])
                else { return nil }
                return (start, end)
            }
            #expect(spans.count == 8, "\(rows)")
            let overlap = spans.map { span in spans.filter { $0.0 <= span.0 && span.0 < $0.1 }.count }.max() ?? 0
            #expect((1...2).contains(overlap), "at most 2 tasks at once by SLURM's times: \(rows)")
        }
        for (index, job) in jobs.enumerated() {
            let lines = try cluster.logLines(job["run_id"]?.stringValue ?? "")
            #expect(lines.contains("task \(index)"), "\(lines)")
        }
    }
}
