import Foundation
import QuillClient
import QuillCore
import QuillTesting
import Testing

/// A job's run directory (`QUILL_RUN_DIR`) is a Quill run directory of the job's run, streamed to the server
/// while the job runs: real `quill serve`, `quill worker`, Python and SDK processes on 127.0.0.1.
@Suite("A job's run directory streams to the server", .serialized)
struct JobStreamingTests {
    static let python = ProcessInfo.processInfo.environment["QUILL_TEST_PYTHON"] ?? "/usr/bin/python3"
    static let sdkExample = BuiltProducts.path("quill-sdk-example")
    static var hasSDKExample: Bool { FileManager.default.isExecutableFile(atPath: sdkExample) }

    /// A job in Python that logs by appending to `$QUILL_RUN_DIR/metrics.jsonl`: five rows, then (once `go`
    /// exists) five more and a file under `artifacts/`.
    static let trainScript = """
        import json, os, sys, time
        run_dir = os.environ["QUILL_RUN_DIR"]
        go = sys.argv[1]
        print("started key=" + os.environ.get("QUILL_API_KEY", "none"), flush=True)
        def row(i):
            with open(os.path.join(run_dir, "metrics.jsonl"), "a") as f:
                f.write(json.dumps({"step": i, "loss": 1.0 / (i + 1)}) + "\\n")
        for i in range(5):
            row(i)
        deadline = time.time() + 60
        while not os.path.exists(go) and time.time() < deadline:
            time.sleep(0.05)
        for i in range(5, 10):
            row(i)
        with open(os.path.join(run_dir, "artifacts", "model.txt"), "w") as f:
            f.write("weights\\n")
        print("finished", flush=True)
        """

    /// The `_idx` of a run's `loss` points on the server.
    static func lossIndices(_ client: BlockingHTTPClient, _ run: String) -> [Int] {
        let history = try? client.call("GET", "/api/v1/runs/\(run)/metrics?key=loss")
        return history?["points"]?.arrayValue?.compactMap { $0["idx"]?.intValue } ?? []
    }

    /// Polls until `condition` holds (at most `timeout` seconds); the last value either way. Sleeps without
    /// holding a thread of the cooperative pool (other suites run meanwhile).
    static func poll<T>(
        timeout: Double = 60,
        _ value: () throws -> T,
        until condition: (T) -> Bool
    ) async throws -> T {
        let deadline = Date().addingTimeInterval(timeout)
        var last = try value()
        while !condition(last), Date() < deadline {
            try await Task.sleep(for: .milliseconds(100))
            last = try value()
        }
        return last
    }

    /// The job's final state, polled as ``poll(timeout:_:until:)`` does.
    static func finalState(_ client: BlockingHTTPClient, _ id: Int) async throws -> JSONValue {
        try await poll(
            { try client.call("GET", "/api/v1/jobs/\(id)") },
            until: { ["completed", "failed", "cancelled"].contains($0["status"]?.stringValue) }
        )
    }

    /// `quill submit --json ARGS` against `url`, off the cooperative pool: the job's id and run id.
    static func submit(
        _ url: String,
        _ arguments: [String],
        environment: [String: String]
    ) async throws -> (id: Int, run: String) {
        let result = try await BuiltProducts.run(
            BuiltProducts.path("quill"),
            ["submit", "--server", url, "--json"] + arguments,
            environment: environment
        )
        let json = try JSONParser.parse(result.stdout)
        return (try #require(json["id"]?.intValue, "\(result.stderr)"), try #require(json["run_id"]?.stringValue))
    }

    static func logLines(_ client: BlockingHTTPClient, _ run: String) throws -> [String] {
        try client.call("GET", "/api/v1/runs/\(run)/logs?limit=10000")["logs"]?.arrayValue?.compactMap {
            $0["message"]?.stringValue
        } ?? []
    }

    /// Runs the Python job on `submit`'s server and checks what arrives while it runs and after.
    static func checkPythonJob(
        home: TemporaryDirectory,
        client: BlockingHTTPClient,
        submit: ([String]) async throws -> (id: Int, run: String)
    ) async throws {
        let script = home.file("train.py")
        let go = home.file("go")
        try Data(trainScript.utf8).write(to: URL(fileURLWithPath: script))
        let job = try await submit(["--", python, script, go])
        let early = try await poll({ lossIndices(client, job.run) }, until: { $0.count >= 5 })
        #expect(early == [0, 1, 2, 3, 4], "the first rows arrive while the job runs")
        #expect(try client.call("GET", "/api/v1/jobs/\(job.id)")["status"] == "running")
        _ = FileManager.default.createFile(atPath: go, contents: nil)
        let final = try await Self.finalState(client, job.id)
        #expect(final["status"] == "completed")
        #expect(lossIndices(client, job.run) == Array(0..<10))
        #expect(try logLines(client, job.run) == ["started key=none", "finished"], "each output line once")
        let artifacts = try client.call("GET", "/api/v1/runs/\(job.run)/artifacts")["artifacts"]?.arrayValue ?? []
        let model = artifacts.first { $0["path"] == "model.txt" }
        #expect(model?["size"] == 8)
        #expect(model?["sha256"]?.stringValue == SHA256.hex(of: Array("weights\n".utf8)))
    }

    @Test(
        "a Python job appending to $QUILL_RUN_DIR/metrics.jsonl on `quill worker`: its metrics arrive while it runs, then all of them, its output once and its files",
        .timeLimit(.minutes(3))
    )
    func pythonJobStreamsFromRemoteWorker() async throws {
        let cluster = try JobCluster()
        defer { cluster.stop() }
        try cluster.startWorker("w1")
        let client = BlockingHTTPClient(baseURL: cluster.url, apiKey: nil)
        try await Self.checkPythonJob(home: cluster.quill.home, client: client) {
            try await Self.submit(cluster.url, $0, environment: cluster.quill.environment)
        }
    }

    @Test(
        "the embedded worker of `quill serve` (authentication on) streams a job's run directory the same way, and gives the job no key",
        .timeLimit(.minutes(3))
    )
    func embeddedWorkerStreamsWithAuthentication() async throws {
        let quill = QuillBinary()
        let data = quill.home.file("server")
        let created = try await BuiltProducts.run(
            BuiltProducts.path("quill"),
            ["users", "create", "ada", "--admin", "--data", data, "--json"],
            environment: quill.environment
        )
        let key = try #require(try JSONParser.parse(created.stdout)["api_key"]?.stringValue, "\(created.stderr)")
        let server = try CLIServer(data: data, home: quill.home.path, extraArguments: ["--local-workers", "1"])
        defer { server.stop() }
        let client = BlockingHTTPClient(baseURL: server.url, apiKey: key)
        #expect(throws: (any Error).self, "authentication is on") {
            try BlockingHTTPClient(baseURL: server.url, apiKey: nil).call("POST", "/api/v1/jobs", json: [:])
        }
        try await Self.checkPythonJob(home: quill.home, client: client) { arguments in
            try await Self.submit(
                server.url,
                arguments,
                environment: quill.environment.merging(["QUILL_API_KEY": key]) { _, new in new }
            )
        }
    }

    @Test(
        "a Swift program using the SDK inside a job logs into the job's run: metrics, params, tags, summary, message, artifact; no second run",
        .enabled(if: hasSDKExample, "QUILL_EXTRAS=1 builds quill-sdk-example"),
        .timeLimit(.minutes(3))
    )
    func sdkInsideJobAttaches() async throws {
        let cluster = try JobCluster()
        defer { cluster.stop() }
        try cluster.startWorker("w1")
        let client = BlockingHTTPClient(baseURL: cluster.url, apiKey: nil)
        let go = cluster.quill.home.file("go")
        let job = try await Self.submit(
            cluster.url,
            ["--name", "sdk-job", "--", Self.sdkExample, "--steps", "20", "--wait-for", go],
            environment: cluster.quill.environment
        )
        let early = try await Self.poll({ Self.lossIndices(client, job.run) }, until: { $0.count >= 11 })
        #expect(early == Array(0...10), "the SDK's rows arrive while the job runs")
        _ = FileManager.default.createFile(atPath: go, contents: nil)
        let final = try await Self.finalState(client, job.id)
        #expect(final["status"] == "completed")
        #expect(Self.lossIndices(client, job.run) == Array(0..<20))
        let run = try client.call("GET", "/api/v1/runs/\(job.run)")
        #expect(run["name"] == "sdk-job")
        #expect(run["params"]?["optimizer"] == "sgd")
        #expect(run["tags"]?["phase"] == "train")
        #expect(run["summary"]?["final_loss"] == 0.05)
        let lines = try Self.logLines(client, job.run)
        #expect(lines.filter { $0.hasSuffix("trained 20 steps") }.count == 1, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("run \(job.run) ") }, "the SDK ran in the job's run: \(lines)")
        let artifacts = try client.call("GET", "/api/v1/runs/\(job.run)/artifacts")["artifacts"]?.arrayValue ?? []
        #expect(artifacts.map { $0["path"]?.stringValue } == ["reports/report.txt"])
        let runs = try client.call("GET", "/api/v1/runs?limit=100")["runs"]?.arrayValue ?? []
        #expect(runs.count == 1, "no second run: \(runs.map { $0["id"] ?? .null })")
    }

    @Test(
        "a retried job's new attempt never loses its rows to the earlier attempt's: each attempt has its own _idx range",
        .timeLimit(.minutes(3))
    )
    func retriedAttemptKeepsItsRows() async throws {
        let cluster = try JobCluster()
        defer { cluster.stop() }
        try cluster.startWorker("w1")
        let client = BlockingHTTPClient(baseURL: cluster.url, apiKey: nil)
        let marker = cluster.quill.home.file("first-attempt-done")
        let script = cluster.quill.home.file("flaky.py")
        try Data(
            """
            import json, os, sys
            first = not os.path.exists(sys.argv[1])
            with open(os.path.join(os.environ["QUILL_RUN_DIR"], "metrics.jsonl"), "a") as f:
                for i in range(3):
                    f.write(json.dumps({"step": i, "loss": 10.0 if first else 1.0}) + "\\n")
            if first:
                open(sys.argv[1], "w").close()
                sys.exit(3)
            """.utf8
        ).write(to: URL(fileURLWithPath: script))
        let job = try await Self.submit(
            cluster.url,
            ["--", Self.python, script, marker],
            environment: cluster.quill.environment
        )
        #expect(try await Self.finalState(client, job.id)["status"] == "failed")
        let retry = try await BuiltProducts.run(
            BuiltProducts.path("quill"),
            ["retry", String(job.id), "--server", cluster.url],
            environment: cluster.quill.environment
        )
        #expect(retry.status == 0, "\(retry.stderr)")
        let second = try await Self.poll(
            { try client.call("GET", "/api/v1/jobs/\(job.id)") },
            until: { $0["status"] == "completed" || $0["attempts"]?.arrayValue?.count == 2 && $0["status"] == "failed" }
        )
        #expect(second["status"] == "completed")
        let points = try client.call("GET", "/api/v1/runs/\(job.run)/metrics?key=loss")["points"]?.arrayValue ?? []
        let base = 1 << 32
        #expect(points.compactMap { $0["idx"]?.intValue } == [0, 1, 2, base, base + 1, base + 2])
        #expect(points.suffix(3).allSatisfy { $0["value"] == 1.0 }, "the second attempt's values: \(points)")
    }

    @Test(
        "the SDK under whirr's worker (only WHIRR_RUN_DIR and WHIRR_JOB_ID set) writes rows and meta.json whirr's readers accept, and leaves whirr's output.log alone",
        .enabled(if: hasSDKExample && ProcessInfo.processInfo.environment["QUILL_TEST_PYTHON"] != nil, "needs whirr"),
        .timeLimit(.minutes(2))
    )
    func sdkAttachesToWhirrRunFolder() async throws {
        let quill = QuillBinary()
        let folder = quill.home.file("whirr/runs/job-7")
        try FileManager.default.createDirectory(atPath: folder + "/artifacts", withIntermediateDirectories: true)
        try Data("worker line\n".utf8).write(to: URL(fileURLWithPath: folder + "/output.log"))
        let result = try await BuiltProducts.run(
            Self.sdkExample,
            ["--steps", "20"],
            environment: quill.environment.merging(["WHIRR_RUN_DIR": folder, "WHIRR_JOB_ID": "7"]) { _, new in new }
        )
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("run job-7 \(folder)"), "\(result.stdout)")
        #expect(result.stderr.contains("trained 20 steps"), "log messages go to standard error: \(result.stderr)")
        #expect(try String(contentsOfFile: folder + "/output.log", encoding: .utf8) == "worker line\n")
        #expect(!FileManager.default.fileExists(atPath: quill.home.file("runs")) || quill.store.list().runs.isEmpty)
        let check = try await BuiltProducts.run(
            Self.python,
            [
                "-c",
                """
                import json, sys
                from pathlib import Path
                from whirr.run import read_metrics, read_meta
                rows = read_metrics(Path(sys.argv[1]) / "metrics.jsonl")
                meta = read_meta(Path(sys.argv[1]))
                print(json.dumps({"idx": [r.idx for r in rows], "steps": [r.step for r in rows],
                                  "loss": [r.model_dump()["loss"] for r in rows], "status": meta.status,
                                  "name": meta.name, "summary": meta.summary.values}))
                """,
                folder,
            ]
        )
        #expect(check.status == 0, "\(check.stderr)")
        let seen = try JSONParser.parse(check.stdout)
        #expect(seen["idx"] == .array((0..<20).map { .int($0) }))
        #expect(seen["steps"] == .array((0..<20).map { .int($0) }))
        #expect(seen["loss"]?.arrayValue?.first == 1.0)
        #expect(seen["status"] == "completed")
        #expect(seen["name"] == "sdk-example")
        #expect(seen["summary"]?["final_loss"] == 0.05)
    }
}
