import Foundation
import QuillClient
import QuillCore
import QuillTesting
import Testing

/// A `quill serve` without embedded workers and `quill worker` processes, all real, on 127.0.0.1.
final class JobCluster: @unchecked Sendable {
    // @unchecked Sendable: `server` and `workers` change only on the test's own thread (the tests are sync).
    let quill = QuillBinary()
    let data: String
    var server: Process
    var port: Int
    var workers: [String: Process] = [:]

    var url: String { "http://127.0.0.1:\(port)" }

    init() throws {
        data = quill.home.file("server")
        (server, port) = try Self.serve(data: data, port: 0, home: quill.home.path)
    }

    static func serve(data: String, port: Int, home: String) throws -> (Process, Int) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BuiltProducts.path("quill"))
        process.arguments = ["serve", "--port", String(port), "--data", data, "--local-workers", "0"]
        process.environment = ProcessInfo.processInfo.environment.merging(["QUILL_HOME": home]) { _, new in new }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return (process, try ServeOutput.listeningPort(from: pipe.fileHandleForReading))
    }

    /// Kills the server with SIGKILL and starts it again on the same port and data.
    func restartServerHard() throws {
        kill(server.processIdentifier, SIGKILL)
        server.waitUntilExit()
        (server, port) = try Self.serve(data: data, port: port, home: quill.home.path)
    }

    func startWorker(_ name: String, slots: Int = 1, lease: Int = 10) throws {
        workers[name] = try BuiltProducts.start(
            BuiltProducts.path("quill"),
            ["worker", "--server", url, "--name", name, "--slots", String(slots), "--lease", String(lease)],
            environment: quill.environment.merging(["QUILL_HOME": quill.home.file("worker-\(name)")]) { _, new in new }
        )
    }

    func killWorker(_ name: String) {
        guard let worker = workers.removeValue(forKey: name) else { return }
        kill(worker.processIdentifier, SIGKILL)
        worker.waitUntilExit()
    }

    func stop() {
        for (_, worker) in workers where worker.isRunning {
            worker.terminate()
            worker.waitUntilExit()
        }
        if server.isRunning {
            server.terminate()
            server.waitUntilExit()
        }
    }

    deinit { stop() }

    @discardableResult
    func quill(_ arguments: String...) throws -> BuiltProducts.Result {
        try BuiltProducts.run(BuiltProducts.path("quill"), arguments, environment: quill.environment)
    }

    func submit(_ arguments: [String]) throws -> (id: Int, run: String) {
        let result = try BuiltProducts.run(
            BuiltProducts.path("quill"),
            ["submit", "--server", url, "--json"] + arguments,
            environment: quill.environment
        )
        let json = try JSONParser.parse(result.stdout)
        return (try #require(json["id"]?.intValue, "\(result.stderr)"), try #require(json["run_id"]?.stringValue))
    }

    func job(_ id: Int) throws -> JSONValue {
        try get("/api/v1/jobs/\(id)")
    }

    /// A GET on the server, as JSON.
    func get(_ path: String) throws -> JSONValue {
        try request("GET", path)
    }

    func request(_ method: String, _ path: String, json: JSONValue? = nil) throws -> JSONValue {
        try BlockingHTTPClient(baseURL: url, apiKey: nil).call(method, path, json: json)
    }

    /// Polls until `condition` holds for job `id`; fails after `timeout` seconds.
    @discardableResult
    func waitFor(_ id: Int, timeout: Double = 60, _ condition: (JSONValue) -> Bool) throws -> JSONValue {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let job = try? self.job(id), condition(job) { return job }
            Thread.sleep(forTimeInterval: 0.1)
        }
        let last = try? self.job(id)
        Issue.record("job \(id) did not reach the expected state within \(timeout) s: \(String(describing: last))")
        throw QuillError(.unavailable, "timed out")
    }

    func logLines(_ run: String) throws -> [String] {
        try get("/api/v1/runs/\(run)/logs?limit=10000")["logs"]?.arrayValue?.compactMap { $0["message"]?.stringValue }
            ?? []
    }
}

@Suite("Jobs through quill serve and quill worker", .serialized)
struct JobCommandsTests {
    @Test(
        "a submitted job runs on a real `quill worker`; its output and status arrive; wait, jobs, devices, cancel, retry"
    )
    func submitAndWait() throws {
        let cluster = try JobCluster()
        defer { cluster.stop() }
        try cluster.startWorker("w1")
        let job = try cluster.submit([
            "--name", "hello", "--tag", "team=ml", "--", "/bin/sh", "-c", "echo hello-from-job; echo run=$QUILL_RUN_ID",
        ])
        let wait = try cluster.quill("wait", String(job.id), "--server", cluster.url, "--timeout", "60s")
        #expect(wait.status == 0, "\(wait.stderr)")
        let final = try cluster.job(job.id)
        #expect(final["status"] == "completed")
        #expect(final["attempts"]?.arrayValue?.first?["worker"] == "w1")
        let lines = try cluster.logLines(job.run)
        #expect(lines.contains("hello-from-job"))
        #expect(lines.contains("run=\(job.run)"))
        let logs = try cluster.quill("logs", String(job.id), "--server", cluster.url)
        #expect(logs.stdout == "hello-from-job\nrun=\(job.run)\n", "\(logs.stderr)")
        let run = try cluster.get("/api/v1/runs/\(job.run)")
        #expect(run["status"] == "completed")
        #expect(run["name"] == "hello")

        // A failing command: `quill wait` exits with its status.
        let failing = try cluster.submit(["--", "/bin/sh", "-c", "exit 7"])
        let failed = try cluster.quill("wait", String(failing.id), "--server", cluster.url, "--timeout", "60s")
        #expect(failed.status == 7)

        // A running job cancelled ends cancelled; retry queues it again.
        let long = try cluster.submit(["--", "/bin/sh", "-c", "echo started; sleep 30"])
        try cluster.waitFor(long.id) { $0["status"] == "running" }
        // `quill logs -f` follows the output until the job ends (the cancel below ends it).
        let follower = try BuiltProducts.start(
            BuiltProducts.path("quill"),
            ["logs", String(long.id), "-f", "--server", cluster.url],
            environment: cluster.quill.environment
        )
        #expect(try cluster.quill("cancel", String(long.id), "--server", cluster.url).status == 0)
        let cancelled = try cluster.quill("wait", String(long.id), "--server", cluster.url, "--timeout", "60s")
        #expect(cancelled.status == 130)
        follower.waitUntilExit()
        #expect(follower.terminationStatus == 0, "quill logs -f ends with the job")
        #expect(try cluster.job(long.id)["attempts"]?.arrayValue?.first?["outcome"] == "cancelled")
        #expect(try cluster.quill("retry", String(failing.id), "--server", cluster.url).status == 0)
        try cluster.waitFor(failing.id) { $0["status"] == "failed" && $0["attempts"]?.arrayValue?.count == 2 }

        let list = try JSONParser.parse(try cluster.quill("jobs", "--server", cluster.url, "--json").stdout)
        #expect(list["jobs"]?.arrayValue?.count == 3)
        let devices = try JSONParser.parse(try cluster.quill("devices", "--server", cluster.url, "--json").stdout)
        #expect(devices["devices"]?.arrayValue?.first?["name"] == "w1")
        let unknown = try cluster.quill("devices", "nope", "--server", cluster.url)
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("w1"), "the error lists the known devices: \(unknown.stderr)")
    }

    @Test("a worker killed with SIGKILL mid-job: the job is re-queued and finished by another worker")
    func workerKilled() throws {
        let cluster = try JobCluster()
        defer { cluster.stop() }
        // Default settings: a 10 s lease, swept every second.
        try cluster.startWorker("doomed")
        let script = "echo attempt-$QUILL_JOB_ID; sleep 2; echo finished"
        let job = try cluster.submit(["--max-attempts", "3", "--", "/bin/sh", "-c", script])
        try cluster.waitFor(job.id) { $0["status"] == "running" }
        let killedAt = Date()
        cluster.killWorker("doomed")
        try cluster.startWorker("rescuer")
        let final = try cluster.waitFor(job.id, timeout: 90) { $0["status"] == "completed" }
        let attempts = final["attempts"]?.arrayValue ?? []
        #expect(attempts.map { $0["worker"] } == ["doomed", "rescuer"])
        #expect(attempts.first?["outcome"] == "lost")
        let restarted = attempts.last?["started_at"]?.stringValue.flatMap(Timestamp.parse)
        let seconds = restarted.map { $0.timeIntervalSince(killedAt) } ?? 99
        print("a SIGKILLed worker's job ran again on another worker after \(seconds) s (lease 10 s)")
        #expect(seconds < 15, "running again within the lease and a sweep, took \(seconds) s")
    }

    @Test("a server killed with SIGKILL and restarted loses no queued or running job")
    func serverKilled() throws {
        let cluster = try JobCluster()
        defer { cluster.stop() }
        try cluster.startWorker("w1", lease: 20)
        let long = try cluster.submit(["--", "/bin/sh", "-c", "echo first; sleep 3; echo last"])
        let queued = try (0..<3).map { index in try cluster.submit(["--", "/bin/sh", "-c", "echo queued-\(index)"]) }
        try cluster.waitFor(long.id) { $0["status"] == "running" }
        try cluster.restartServerHard()
        for job in [long] + queued {
            let final = try cluster.waitFor(job.id, timeout: 90) { $0["status"] == "completed" }
            #expect(final["attempts"]?.arrayValue?.count == 1, "\(final)")
        }
        #expect(try cluster.logLines(long.run).contains("last"))
    }

    @Test("1,000 trivial jobs through two workers each run exactly once")
    func manyJobs() throws {
        let total = 1000
        let cluster = try JobCluster()
        defer { cluster.stop() }
        let ledger = cluster.quill.home.file("ledger")
        _ = FileManager.default.createFile(atPath: ledger, contents: nil)
        var ids: [Int] = []
        for _ in 0..<total {
            let job = try cluster.request(
                "POST",
                "/api/v1/jobs",
                json: ["argv": ["/bin/sh", "-c", .string("echo $QUILL_JOB_ID >> \(ledger)")]]
            )
            ids.append(try #require(job["id"]?.intValue))
        }
        let start = Date()
        try cluster.startWorker("a", slots: 2)
        try cluster.startWorker("b", slots: 2)
        let deadline = Date().addingTimeInterval(600)
        var counts: JSONValue = .null
        while Date() < deadline {
            counts = try cluster.get("/api/v1/jobs?limit=1")["counts"] ?? .null
            if counts["completed"]?.intValue == total { break }
            Thread.sleep(forTimeInterval: 0.2)
        }
        let elapsed = Date().timeIntervalSince(start)
        #expect(counts["completed"]?.intValue == total, "\(counts)")
        let ran = try String(contentsOfFile: ledger, encoding: .utf8).split(separator: "\n").compactMap { Int($0) }
        #expect(ran.count == total, "each job ran once: \(ran.count) runs")
        #expect(Set(ran) == Set(ids))
        // Every job has exactly one attempt, and the two workers shared the work.
        var jobs: [JSONValue] = []
        var before: Int?
        repeat {
            let page = try cluster.get("/api/v1/jobs?limit=1000" + (before.map { "&before=\($0)" } ?? ""))
            jobs += page["jobs"]?.arrayValue ?? []
            before = page["next_before"]?.intValue
        } while before != nil
        #expect(jobs.count == total)
        let retried = jobs.filter { $0["attempts"]?.arrayValue?.count != 1 }
        #expect(retried.isEmpty, "jobs without exactly one attempt: \(retried.count)")
        let workers = Set(jobs.compactMap { $0["attempts"]?.arrayValue?.first?["worker"]?.stringValue })
        #expect(workers == ["a", "b"], "\(workers)")
        print("\(total) trivial jobs through two workers (2 slots each): \(elapsed) s")
    }

    @Test("quill serve runs a worker of its own by default; an idle worker starts a new job at once")
    func embeddedWorker() throws {
        let quill = QuillBinary()
        let server = try CLIServer(data: quill.home.file("server"), home: quill.home.path)
        defer { server.stop() }
        var latencies: [Double] = []
        for index in 0..<5 {
            let submitted = try BuiltProducts.run(
                BuiltProducts.path("quill"),
                ["submit", "--server", server.url, "--json", "--", "/bin/sh", "-c", "echo uri=$QUILL_TRACKING_URI"],
                environment: quill.environment
            )
            let job = try JSONParser.parse(submitted.stdout)
            let id = try #require(job["id"]?.intValue, "\(submitted.stderr)")
            let wait = try quill.run("wait", String(id), "--server", server.url, "--timeout", "60s")
            #expect(wait.status == 0, "\(wait.stderr)")
            let final = try BlockingHTTPClient(baseURL: server.url, apiKey: nil).call("GET", "/api/v1/jobs/\(id)")
            let run = try #require(final["run_id"]?.stringValue)
            if index == 0 {
                let logs = try BlockingHTTPClient(baseURL: server.url, apiKey: nil).call(
                    "GET",
                    "/api/v1/runs/\(run)/logs"
                )
                let lines = logs["logs"]?.arrayValue?.compactMap { $0["message"]?.stringValue } ?? []
                #expect(lines == ["uri=\(server.url)"])
            }
            // Server times of submission and start: the worker long-polls, so it is told of the job at once.
            if let created = final["created_at"]?.stringValue.flatMap(Timestamp.parse),
                let started = final["started_at"]?.stringValue.flatMap(Timestamp.parse)
            {
                latencies.append(started.timeIntervalSince(created))
            }
        }
        let devices = try BlockingHTTPClient(baseURL: server.url, apiKey: nil).call("GET", "/api/v1/devices")
        #expect(devices["devices"]?.arrayValue?.first?["name"]?.stringValue?.hasSuffix("-local") == true)
        latencies.sort()
        #expect(latencies.count == 5)
        // Generous on a loaded machine; the median is the figure (BENCHMARKS.md).
        #expect((latencies.first ?? 99) < 1.0, "submit-to-start latencies: \(latencies)")
        print("submit-to-start latency with an idle embedded worker, 5 jobs (s): \(latencies)")
    }

    @Test("a worker stopped with SIGTERM hands its running job back and unregisters; another worker finishes it")
    func workerTerminated() throws {
        let cluster = try JobCluster()
        defer { cluster.stop() }
        try cluster.startWorker("leaving")
        let marker = cluster.quill.home.file("tried")
        let script = "if [ -e \(marker) ]; then echo second; else touch \(marker); echo first; sleep 60; fi"
        let job = try cluster.submit(["--max-attempts", "1", "--", "/bin/sh", "-c", script])
        try cluster.waitFor(job.id) { $0["status"] == "running" }
        let removed = cluster.workers.removeValue(forKey: "leaving")
        let worker = try #require(removed)
        worker.terminate()
        worker.waitUntilExit()
        let back = try cluster.job(job.id)
        #expect(back["status"] == "queued", "\(back)")
        #expect(back["attempts"]?.arrayValue?.first?["outcome"] == "handed_back")
        let devices = try cluster.get("/api/v1/devices")["devices"]?.arrayValue ?? []
        #expect(
            devices.map { $0["name"] } == ["leaving"] && devices.allSatisfy { $0["status"] == "offline" },
            "the worker unregistered and is listed offline: \(devices)"
        )
        try cluster.startWorker("staying")
        // One attempt allowed, and the handed-back one did not count.
        let final = try cluster.waitFor(job.id) { $0["status"] == "completed" }
        #expect(final["attempts"]?.arrayValue?.map { $0["worker"] } == ["leaving", "staying"])
        #expect(try cluster.logLines(job.run).contains("second"))
    }
}
