import Foundation
import QuillCore
import QuillTesting
import Testing

/// Python jobs on SLURM (issue 16): the batch script runs the command under `quill run --attach` on the node,
/// which passes SLURM's signals on, samples the node's system metrics and records the exit code; the worker
/// streams the run directory. Part of ``SlurmJobTests`` (the serial phase of scripts/test.sh).
extension SlurmJobTests {
    /// The Python the tests run (`QUILL_TEST_PYTHON`); a test without it fails with a one-line reason.
    static func python() throws -> String {
        let python = ProcessInfo.processInfo.environment["QUILL_TEST_PYTHON"] ?? ""
        try #require(
            FileManager.default.isExecutableFile(atPath: python),
            "QUILL_TEST_PYTHON must name a Python (scripts/test.sh sets it; e.g. /work/main/.build/venv-interop/bin/python)"
        )
        return python
    }

    /// Waits until `condition` holds, at most `timeout` seconds; whether it did.
    @discardableResult
    static func eventually(_ timeout: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.2)
        }
        return try condition()
    }

    /// The values of a run's metric, once the server has `count` of them.
    static func metric(_ cluster: JobCluster, run: String, _ key: String, count: Int) -> [Double] {
        var values: [Double] = []
        eventually(30) {
            let points = (try? cluster.get("/api/v1/runs/\(run)/metrics?key=\(key)")["points"]?.arrayValue) ?? []
            values = points.compactMap { $0["value"]?.doubleValue }
            return values.count >= count
        }
        return values
    }

    @Test(
        "a Python job on SLURM runs under quill on the node: its metrics, output, system metrics and exit code reach the server"
    )
    func pythonJobRunsUnderQuill() throws {
        let python = try Self.python()
        let cluster = try Self.cluster()
        defer { cluster.stop() }
        let script = """
            import json, os, socket, sys, time
            path = os.path.join(os.environ["QUILL_RUN_DIR"], "metrics.jsonl")
            for step in range(3):
                with open(path, "a") as f:
                    f.write(json.dumps({"step": step, "acc": step / 10}) + "\\n")
                print("step", step, "on", os.environ.get("SLURMD_NODENAME", "?"), flush=True)
            print("to stderr", file=sys.stderr, flush=True)
            time.sleep(3)
            sys.exit(3)
            """
        let job = try cluster.submit(
            Self.small + ["--env", "QUILL_SYSTEM_METRICS_INTERVAL=0.5", "--", python, "-c", script]
        )
        let final = try cluster.waitFor(job.id, timeout: 180) {
            ["completed", "failed", "cancelled"].contains($0["status"])
        }
        #expect(final["status"] == "failed", "\(final)")
        #expect(final["exit_code"]?.intValue == 3, "\(final)")
        let attempt = final["attempts"]?.arrayValue?.last
        #expect(attempt?["exit_code"]?.intValue == 3, "\(final)")
        // The SLURM job is recorded on the attempt (and on the run, as a tag).
        let slurmID = try Self.slurmJobID(cluster, run: job.run)
        #expect(attempt?["slurm_job_id"]?.stringValue == slurmID, "\(final)")
        #expect(try Self.slurmState(slurmID) == "FAILED")

        #expect(Self.metric(cluster, run: job.run, "acc", count: 3) == [0, 0.1, 0.2])
        // Sampled on the node by the quill the batch script runs, every half second for 3 s.
        let samples = Self.metric(cluster, run: job.run, "system/memory_percent", count: 2)
        #expect(samples.count >= 2, "system samples from the node: \(samples)")

        let lines = try cluster.logLines(job.run)
        let node = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? ""
        #expect(lines.contains { $0.hasPrefix("quill: run \(job.run) on ") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("step 0 on ") }, "\(lines)")
        #expect(lines.contains("step 2 on vm") || lines.contains("step 2 on \(node)"), "\(lines)")
        #expect(lines.contains("to stderr"), "\(lines)")
        #expect(lines.contains("quill: the command exited with code 3"), "\(lines)")
        #expect(lines.filter { $0 == "to stderr" }.count == 1, "each line once: \(lines)")

        // `quill job` shows the SLURM job.
        let shown = try cluster.quill("job", "--server", cluster.url, String(job.id))
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(
            shown.stdout.split(separator: "\n").contains {
                $0.trimmingCharacters(in: .whitespaces).hasPrefix("slurm job ") && $0.hasSuffix(" \(slurmID)")
            },
            "\(shown.stdout)"
        )
        let listed = try cluster.quill("jobs", "--server", cluster.url, "--json")
        let jobs = try JSONParser.parse(listed.stdout)["jobs"]?.arrayValue ?? []
        let mine = jobs.first { $0["id"]?.intValue == job.id }
        #expect(mine?["attempts"]?.arrayValue?.last?["slurm_job_id"]?.stringValue == slurmID, "\(listed.stdout)")
    }

    @Test("quill cancel of a Python job on SLURM: scancel, SIGTERM reaches the Python child, the job ends cancelled")
    func cancelReachesPython() throws {
        let python = try Self.python()
        let cluster = try Self.cluster()
        defer { cluster.stop() }
        let mark = cluster.quill.home.file("sigterm-seen")
        let script = """
            import signal, sys, time
            def stop(number, frame):
                with open(sys.argv[1], "a") as f:
                    f.write("signal %d\\n" % number)
                sys.exit(143)
            signal.signal(signal.SIGTERM, stop)
            print("ready", flush=True)
            while True:
                time.sleep(0.1)
            """
        let job = try cluster.submit(Self.small + ["--", python, "-c", script, mark])
        let slurmID = try Self.slurmJobID(cluster, run: job.run)
        let ready = Self.eventually(120) { (try? cluster.logLines(job.run).contains("ready")) == true }
        try #require(ready, "the Python job printed nothing within 120 s")
        let cancel = try cluster.quill("cancel", "--server", cluster.url, String(job.id))
        #expect(cancel.status == 0, "\(cancel.stderr)")
        let final = try cluster.waitFor(job.id, timeout: 120) {
            ["completed", "failed", "cancelled"].contains($0["status"])
        }
        #expect(final["status"] == "cancelled", "\(final)")
        #expect(final["attempts"]?.arrayValue?.last?["outcome"] == "cancelled", "\(final)")
        // Only scancel makes a job CANCELLED in SLURM.
        #expect(Self.eventually(60) { (try? Self.slurmState(slurmID)) == "CANCELLED" }, "SLURM state of \(slurmID)")
        let seen = Self.eventually(30) {
            (try? String(contentsOfFile: mark, encoding: .utf8))?.contains("signal \(SIGTERM)") == true
        }
        #expect(seen, "the Python child's SIGTERM handler did not run")
    }

    @Test("quill logs -f follows a running SLURM job's output live and exits when the job ends")
    func logsFollowRunningJob() throws {
        let python = try Self.python()
        let cluster = try Self.cluster()
        defer { cluster.stop() }
        let script = """
            import sys, time
            for i in range(12):
                print("line", i, flush=True)
                time.sleep(0.5)
            """
        let job = try cluster.submit(Self.small + ["--", python, "-c", script])
        let outputPath = cluster.quill.home.file("follow.out")
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        let follower = Process()
        follower.executableURL = URL(fileURLWithPath: BuiltProducts.path("quill"))
        follower.arguments = ["logs", "--server", cluster.url, "-f", String(job.id)]
        follower.environment = ProcessInfo.processInfo.environment.merging(cluster.quill.environment) { _, new in new }
        follower.standardOutput = output
        follower.standardError = output
        follower.standardInput = FileHandle.nullDevice
        try follower.run()
        defer {
            if follower.isRunning { follower.terminate() }
            try? output.close()
        }
        func shown() -> [String] {
            ((try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }
        // A line arrives while the job still runs: followed live, not printed at the end.
        let live = Self.eventually(150) { shown().contains("line 1") }
        try #require(live, "quill logs -f showed no line within 150 s: \(shown())")
        let status = try cluster.job(job.id)["status"]?.stringValue
        #expect(status == "running", "the job was \(status ?? "?") when its second line was shown")
        #expect(!shown().contains("line 11"), "the last line came at once: \(shown())")
        let ended = Self.eventually(90) { !follower.isRunning }
        #expect(ended, "quill logs -f did not exit after the job ended")
        if ended { #expect(follower.terminationStatus == 0) }
        let lines = shown()
        #expect((0..<12).allSatisfy { lines.contains("line \($0)") }, "\(lines)")
        #expect(try cluster.job(job.id)["status"] == "completed")
    }

    @Test("quill submit --executor slurm and quill job in a terminal: clean output, aligned ids, exit 0")
    func submitInTerminal() throws {
        let python = try Self.python()
        let cluster = try Self.cluster()
        defer { cluster.stop() }
        let driver = try cluster.quill.home.write("pty_driver.py", TerminalDriver.script)
        func inTerminal(_ steps: [[String]], _ arguments: [String]) throws -> (exit: Int, output: String) {
            let stepsJSON = JSONWriter.string(.array(steps.map { .array($0.map(JSONValue.string)) }))
            let result = try BuiltProducts.run(
                python,
                [driver, BuiltProducts.path("quill"), stepsJSON] + arguments,
                environment: cluster.quill.environment
            )
            let line = try #require(result.stdout.split(separator: "\n").last, "\(result.stderr)")
            let report = try JSONParser.parse(String(line))
            if let error = report["error"]?.stringValue { Issue.record("\(error); the terminal showed: \(report)") }
            return (report["exit"]?.intValue ?? -1, report["output"]?.stringValue ?? "")
        }
        let submitted = try inTerminal(
            [["expect", "queued"]],
            ["submit", "--server", cluster.url] + Self.small + ["--name", "pty-job", "--", "sh", "-c", "echo hi"]
        )
        #expect(submitted.exit == 0, "\(submitted.output)")
        let lines = submitted.output.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(lines.count == 1, "one line: \(submitted.output)")
        #expect(!submitted.output.contains("\u{1B}"), "no escape sequences: \(submitted.output)")
        let id = try #require(
            lines.first.flatMap { $0.split(separator: " ").dropFirst().first }.flatMap { Int($0) },
            "\(submitted.output)"
        )
        let final = try cluster.waitFor(id, timeout: 180) {
            ["completed", "failed", "cancelled"].contains($0["status"])
        }
        #expect(final["status"] == "completed", "\(final)")
        let slurmID = try #require(final["attempts"]?.arrayValue?.last?["slurm_job_id"]?.stringValue, "\(final)")
        let shown = try inTerminal([["expect", "ATTEMPT"]], ["job", "--server", cluster.url, String(id)])
        #expect(shown.exit == 0, "\(shown.output)")
        let rows = shown.output.split(whereSeparator: \.isNewline).map(String.init)
        let field = rows.first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("slurm job") }
        #expect(field?.hasSuffix(" " + slurmID) == true, "\(shown.output)")
        // The attempts table: the SLURM JOB column starts where its header does on every row.
        let headerIndex = try #require(rows.firstIndex { $0.hasPrefix("ATTEMPT") }, "\(shown.output)")
        let header = rows[headerIndex]
        let column = try #require(header.range(of: "SLURM JOB"), "\(header)").lowerBound
        let offset = header.distance(from: header.startIndex, to: column)
        // The one attempt's row, under the header.
        let row = try #require(rows.dropFirst(headerIndex + 1).first, "\(shown.output)")
        #expect(String(row.dropFirst(offset)).hasPrefix(slurmID + " "), "aligned under SLURM JOB: \(shown.output)")
    }
}
