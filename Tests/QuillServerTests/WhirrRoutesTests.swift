import Foundation
import QuillCore
import QuillTesting
import Testing

/// `quill serve` answers whirr 0.5.3's API under `/whirr`: real HTTP against a real server, and whirr's own
/// client and worker (Python, from the test virtualenv) against it.
@Suite("whirr's API under /whirr")
struct WhirrRoutesTests {
    static let python = ProcessInfo.processInfo.environment["QUILL_TEST_PYTHON"]
    static let interop = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Interop")

    func server(_ temp: TemporaryDirectory) async throws -> ServerProcess {
        try await ServerProcess.start(data: temp.file("data"), extraArguments: ["--local-workers", "0"])
    }

    func submit(_ server: ServerProcess, _ argv: [String] = ["true"]) async throws -> Int {
        let (status, body) = try await server.request(
            "POST",
            "/whirr/api/v1/jobs",
            json: ["command_argv": .array(argv.map(JSONValue.string)), "workdir": "/tmp"]
        )
        #expect(status == 200)
        return try #require(body?["job_id"]?.intValue)
    }

    @Test("concurrent claims from many workers answer 200, never hand one job to two workers, and strand none")
    func concurrentClaimsAreAtomic() async throws {
        let temp = TemporaryDirectory("quill-whirr-claims")
        let server = try await server(temp)
        var submitted: Set<Int> = []
        for _ in 0..<24 { submitted.insert(try await submit(server)) }
        let claims = try await withThrowingTaskGroup(of: [(Int, Int?)].self) { group in
            for worker in 0..<8 {
                group.addTask {
                    var seen: [(Int, Int?)] = []
                    while true {
                        let (status, body) = try await server.request(
                            "POST",
                            "/whirr/api/v1/jobs/claim",
                            json: ["worker_id": .string("w\(worker)"), "lease_seconds": 600]
                        )
                        let id = body?["job"]?["id"]?.intValue
                        seen.append((status, id))
                        if status != 200 || id == nil { return seen }
                    }
                }
            }
            var all: [(Int, Int?)] = []
            for try await part in group { all += part }
            return all
        }
        #expect(claims.allSatisfy { $0.0 == 200 }, "\(claims.filter { $0.0 != 200 })")
        let claimed = claims.compactMap(\.1)
        #expect(claimed.count == submitted.count)
        #expect(Set(claimed) == submitted)
        // The leases are whirr's longest (600 s): on a loaded machine the claims above can take minutes, and a
        // shorter lease would expire and requeue a job before this count.
        let (_, status) = try await server.request("GET", "/whirr/api/v1/status")
        #expect(status?["running"] == 24)
        #expect(status?["queued"] == 0)
    }

    @Test("errors come in whirr's shapes: 404 and 403 details, 405, 422 lists, an unknown route")
    func errorsHaveWhirrsShapes() async throws {
        let temp = TemporaryDirectory("quill-whirr-errors")
        let server = try await server(temp)
        let id = try await submit(server)
        let missing = try await server.request("GET", "/whirr/api/v1/jobs/987654321")
        #expect(missing.status == 404)
        #expect(missing.body == ["detail": "Job 987654321 not found"])
        let lease = try await server.request(
            "POST",
            "/whirr/api/v1/jobs/claim",
            json: ["worker_id": "w", "lease_seconds": 5]
        )
        #expect(lease.status == 422)
        #expect(lease.body?["detail"]?.arrayValue?.first?["type"] == "greater_than_equal")
        #expect(lease.body?["detail"]?.arrayValue?.first?["loc"] == ["body", "lease_seconds"])
        let field = try await server.request("POST", "/whirr/api/v1/jobs/claim", json: [:])
        #expect(field.status == 422)
        #expect(field.body?["detail"]?.arrayValue?.first?["type"] == "missing")
        #expect(field.body?["detail"]?.arrayValue?.first?["loc"] == ["body", "worker_id"])
        let notJSON = try await server.request("POST", "/whirr/api/v1/jobs/claim", raw: Array("{".utf8))
        #expect(notJSON.status == 422)
        #expect(notJSON.body?["detail"]?.arrayValue?.first?["type"] == "json_invalid")
        let limit = try await server.request("GET", "/whirr/api/v1/jobs?limit=0")
        #expect(limit.status == 422)
        #expect(limit.body?["detail"]?.arrayValue?.first?["loc"] == ["query", "limit"])
        let method = try await server.request("DELETE", "/whirr/api/v1/jobs/\(id)")
        #expect(method.status == 405)
        #expect(method.body == ["detail": "Method Not Allowed"])
        let route = try await server.request("GET", "/whirr/api/v1/nothing")
        #expect(route.status == 404)
        #expect(route.body == ["detail": "Not Found"])

        let claimed = try await server.request("POST", "/whirr/api/v1/jobs/claim", json: ["worker_id": "w1"])
        #expect(claimed.body?["job"]?["id"]?.intValue == id)
        let beat = try await server.request("POST", "/whirr/api/v1/jobs/\(id)/heartbeat", json: ["worker_id": "w2"])
        #expect(beat.status == 404)
        #expect(beat.body == ["detail": .string("Job \(id) not found or not owned by worker w2")])
        let stolen = try await server.request(
            "POST",
            "/whirr/api/v1/jobs/\(id)/complete",
            json: ["worker_id": "w2", "exit_code": 0]
        )
        #expect(stolen.status == 403)
        #expect(stolen.body == ["detail": .string("Job \(id) is not owned by worker w2")])
        let done = try await server.request(
            "POST",
            "/whirr/api/v1/jobs/\(id)/complete",
            json: ["worker_id": "w1", "exit_code": 0, "run_id": .string("job-\(id)")]
        )
        #expect(done.status == 200)
        #expect(done.body == ["message": .string("Job \(id) marked as completed"), "success": true])
        // A second report for the ended attempt changes nothing.
        let again = try await server.request(
            "POST",
            "/whirr/api/v1/jobs/\(id)/fail",
            json: ["worker_id": "w1", "error_message": "late"]
        )
        #expect(again.status == 403)
        let job = try await server.request("GET", "/whirr/api/v1/jobs/\(id)")
        #expect(job.body?["status"] == "completed")
        #expect(job.body?["exit_code"] == 0)
        #expect(job.body?["run_id"] == .string("job-\(id)"))
    }

    @Test("a running job cancelled through whirr's API is reported at the next heartbeat and ends cancelled")
    func cancelReachesTheHeartbeat() async throws {
        let temp = TemporaryDirectory("quill-whirr-cancel")
        let server = try await server(temp)
        let id = try await submit(server, ["sleep", "100"])
        _ = try await server.request("POST", "/whirr/api/v1/jobs/claim", json: ["worker_id": "w"])
        let cancel = try await server.request("POST", "/whirr/api/v1/jobs/\(id)/cancel")
        #expect(cancel.body == ["message": .string("Job \(id) cancelled"), "previous_status": "running"])
        let beat = try await server.request("POST", "/whirr/api/v1/jobs/\(id)/heartbeat", json: ["worker_id": "w"])
        #expect(beat.body?["cancel_requested"] == true)
        #expect(beat.body?["success"] == true)
        _ = try await server.request(
            "POST",
            "/whirr/api/v1/jobs/\(id)/complete",
            json: ["worker_id": "w", "exit_code": -15, "error_message": "Job cancelled"]
        )
        let job = try await server.request("GET", "/whirr/api/v1/jobs/\(id)")
        #expect(job.body?["status"] == "cancelled")
        #expect(job.body?["exit_code"] == -15)
        let queued = try await submit(server)
        let early = try await server.request("POST", "/whirr/api/v1/jobs/\(queued)/cancel")
        #expect(early.body?["previous_status"] == "queued")
        #expect(try await server.request("GET", "/whirr/api/v1/jobs/\(queued)").body?["status"] == "cancelled")
    }

    @Test("each heartbeat imports only what the whirr run folder gained: metrics and output, none twice")
    func heartbeatsImportIncrementally() async throws {
        let temp = TemporaryDirectory("quill-whirr-import")
        let server = try await server(temp)
        let id = try await submit(server, ["sleep", "100"])
        _ = try await server.request("POST", "/whirr/api/v1/jobs/claim", json: ["worker_id": "w"])
        let runID = try #require(try await server.request("GET", "/api/v1/jobs/\(id)").body?["run_id"]?.stringValue)
        // What whirr's worker and the job write into the shared folder, in pieces: a row and a line still
        // being written (no newline yet) wait for the next heartbeat.
        let folder = temp.file("data") + "/whirr/runs/job-\(id)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        func append(_ file: String, _ text: String) throws {
            let path = folder + "/" + file
            if !FileManager.default.fileExists(atPath: path) {
                _ = FileManager.default.createFile(atPath: path, contents: nil)
            }
            let handle = try #require(FileHandle(forWritingAtPath: path))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(text.utf8))
            try handle.close()
        }
        func beat() async throws {
            let answer = try await server.request(
                "POST",
                "/whirr/api/v1/jobs/\(id)/heartbeat",
                json: ["worker_id": "w"]
            )
            #expect(answer.status == 200)
        }
        func logs() async throws -> [String] {
            let body = try await server.request("GET", "/api/v1/runs/\(runID)/logs").body
            return body?["logs"]?.arrayValue?.compactMap { $0["message"]?.stringValue } ?? []
        }
        func points() async throws -> [Int] {
            let body = try await server.request("GET", "/api/v1/runs/\(runID)/metrics?key=loss").body
            return body?["points"]?.arrayValue?.compactMap { $0["idx"]?.intValue } ?? []
        }
        try append("metrics.jsonl", "{\"step\": 0, \"loss\": 1.0}\n{\"step\": 1, \"lo")
        try append("output.log", "epoch 0\nepo")
        try await beat()
        #expect(try await logs() == ["epoch 0"])
        #expect(try await points() == [0])
        try append("metrics.jsonl", "ss\": 0.5}\n{\"step\": 2, \"loss\": 0.25}\n")
        try append("output.log", "ch 1\n")
        try await beat()
        try await beat()
        #expect(try await logs() == ["epoch 0", "epoch 1"])
        #expect(try await points() == [0, 1, 2])
        try append("output.log", "done\n")
        let complete = try await server.request(
            "POST",
            "/whirr/api/v1/jobs/\(id)/complete",
            json: ["worker_id": "w", "exit_code": 0]
        )
        #expect(complete.status == 200)
        #expect(try await logs() == ["epoch 0", "epoch 1", "done"])
        #expect(try await points() == [0, 1, 2])
    }

    @Test(
        "whirr's own client and worker run Quill jobs: metrics, output and files of the run folder, four workers",
        .enabled(if: python != nil, "set by scripts/test.sh"),
        .timeLimit(.minutes(5))
    )
    func whirrWorkerRunsQuillJobs() async throws {
        let temp = TemporaryDirectory("quill-whirr-worker")
        let server = try await server(temp)
        let python = try #require(Self.python)
        let result = try await BuiltProducts.run(
            python,
            [
                Self.interop.appendingPathComponent("whirr_worker_against_quill.py").path,
                "--url", "http://127.0.0.1:\(server.port)/whirr",
                "--data-dir", temp.file("data") + "/whirr",
                "--workers", "4", "--jobs", "40",
            ]
        )
        #expect(result.status == 0, "\(result.stderr)")
        let seen = try JSONParser.parse(Array(result.stdout.utf8))
        #expect(seen["queue"]?["jobs"] == 40)
        // The job's run is a Quill run: its metrics came from the whirr run folder.
        let trained = try #require(seen["single"]?["trained"]?.intValue)
        let job = try await server.request("GET", "/whirr/api/v1/runs/job-\(trained)")
        #expect(job.body?["status"] == "completed")
        #expect(job.body?["summary"] == ["loss": 0.33])
    }

    @Test(
        "whirr's own client lists, gets and reads the metrics and artifacts of runs of jobs a Quill worker ran",
        .enabled(if: python != nil, "set by scripts/test.sh"),
        .timeLimit(.minutes(3))
    )
    func whirrClientReadsQuillWorkerRuns() async throws {
        let temp = TemporaryDirectory("quill-whirr-quill-worker")
        // The embedded worker runs the job: nothing is written to whirr's run folder.
        let server = try await ServerProcess.start(data: temp.file("data"), extraArguments: ["--local-workers", "1"])
        let result = try await BuiltProducts.run(
            try #require(Self.python),
            [
                Self.interop.appendingPathComponent("whirr_client_reads_quill_worker_runs.py").path,
                "--url", "http://127.0.0.1:\(server.port)/whirr",
            ]
        )
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let seen = try JSONParser.parse(Array(result.stdout.utf8))
        #expect(seen["run"]?["status"] == "completed")
        #expect(seen["run"]?["name"] == "quill-worker-job")
        #expect(seen["run"]?["tags"] == ["exp"])
        #expect(seen["metrics"]?.arrayValue?.count == 6)
        #expect(seen["completed_filter"]?.arrayValue?.count == 1)
        #expect(seen["artifacts"] == [["path": "models/weights.txt", "size": 13]])
        #expect(seen["content"] == "weights 0.25\n")
    }

    @Test(
        "a Swift SDK program run by whirr's own worker logs into whirr's run folder, and its metrics, summary and messages reach the job's Quill run",
        .enabled(
            if: python != nil && FileManager.default.isExecutableFile(atPath: BuiltProducts.path("quill-sdk-example")),
            "needs whirr and quill-sdk-example (QUILL_EXTRAS=1)"
        ),
        .timeLimit(.minutes(3))
    )
    func whirrWorkerRunsSwiftSDKJob() async throws {
        let temp = TemporaryDirectory("quill-whirr-sdk")
        let server = try await server(temp)
        let id = try await submit(server, [BuiltProducts.path("quill-sdk-example"), "--steps", "20"])
        let worker = Process()
        worker.executableURL = URL(fileURLWithPath: try #require(Self.python)).deletingLastPathComponent()
            .appendingPathComponent("whirr")
        worker.arguments = [
            "worker", "--server", "http://127.0.0.1:\(server.port)/whirr", "--data-dir", temp.file("data") + "/whirr",
        ]
        worker.currentDirectoryURL = URL(fileURLWithPath: temp.path)
        worker.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("WHIRR_") }.merging([
            "QUILL_HOME": temp.file("home"), "QUILL_RUN_DIR": "", "QUILL_TRACKING_URI": "", "QUILL_CAPTURE_GIT": "0",
            "QUILL_CAPTURE_DEPS": "0",
        ]) { _, new in new }
        worker.standardOutput = FileHandle.nullDevice
        worker.standardError = FileHandle.nullDevice
        worker.standardInput = FileHandle.nullDevice
        try worker.run()
        defer {
            Platform.kill(worker.processIdentifier, SIGKILL)
            worker.waitForEnd(timeout: 30)
        }
        let deadline = Date().addingTimeInterval(120)
        var status: String?
        while Date() < deadline {
            status = try await server.request("GET", "/whirr/api/v1/jobs/\(id)").body?["status"]?.stringValue
            if status == "completed" || status == "failed" { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(status == "completed")
        let runID = try #require(try await server.request("GET", "/api/v1/jobs/\(id)").body?["run_id"]?.stringValue)
        let points = try await server.request("GET", "/api/v1/runs/\(runID)/metrics?key=loss").body
        #expect(points?["points"]?.arrayValue?.compactMap { $0["idx"]?.intValue } == Array(0..<20))
        let run = try await server.request("GET", "/api/v1/runs/\(runID)").body
        #expect(run?["summary"]?["final_loss"] == 0.05)
        let logs = try await server.request("GET", "/api/v1/runs/\(runID)/logs").body?["logs"]?.arrayValue ?? []
        let messages = logs.compactMap { $0["message"]?.stringValue }
        #expect(messages.filter { $0.hasSuffix("trained 20 steps") }.count == 1, "\(messages)")
        let whirrMetrics = try await server.request("GET", "/whirr/api/v1/runs/job-\(id)/metrics").body
        #expect(whirrMetrics?["count"] == 20)
        #expect(!FileManager.default.fileExists(atPath: temp.file("home") + "/runs"), "no run of its own")
    }

    @Test(
        "the shared whirr smoke test passes against quill serve",
        .enabled(if: python != nil && FileManager.default.fileExists(atPath: smoke), "needs ../shared/whirr_smoke.py"),
        .timeLimit(.minutes(3))
    )
    func sharedSmokeTest() async throws {
        let temp = TemporaryDirectory("quill-whirr-smoke")
        let server = try await server(temp)
        let result = try await BuiltProducts.run(
            try #require(Self.python),
            [Self.smoke, "--url", "http://127.0.0.1:\(server.port)/whirr"]
        )
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("whirr-smoke: 11/11 checks pass"))
    }

    static let smoke =
        ProcessInfo.processInfo.environment["QUILL_WHIRR_SMOKE"]
        ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/whirr_smoke.py").path
}
