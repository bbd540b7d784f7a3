import Foundation
import Quill
import QuillAPI
import QuillClient
import QuillCore
import QuillTesting
import Testing

/// A real `quill serve` on 127.0.0.1 with an ephemeral port, its own data folder and `workers` embedded
/// workers, for the SDK's client.
final class ClientTestServer: @unchecked Sendable {
    // @unchecked Sendable: every stored property is set in init and only read afterwards (`workers` is only
    // touched by the test's own task).
    let home = TemporaryDirectory("quill-client")
    let process: Process
    let port: Int
    var workers: [Process] = []

    var url: String { "http://127.0.0.1:\(port)" }

    var environment: [String: String] {
        [
            "QUILL_HOME": home.path, "QUILL_TRACKING_URI": "", "QUILL_API_KEY": "", "QUILL_RUN_DIR": "",
            "QUILL_CAPTURE_GIT": "0", "QUILL_CAPTURE_DEPS": "0", "QUILL_SYSTEM_METRICS_INTERVAL": "0",
        ]
    }

    init(localWorkers: Int) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: BuiltProducts.path("quill"))
        process.arguments = [
            "serve", "--port", "0", "--data", home.file("server"), "--local-workers", String(localWorkers),
        ]
        process.environment = ProcessInfo.processInfo.environment.merging([
            "QUILL_HOME": home.path, "QUILL_API_KEY": "", "QUILL_TRACKING_URI": "",
        ]) { _, new in new }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        port = try ServeOutput.listeningPort(from: pipe.fileHandleForReading)
    }

    /// A client with no API key (the server is in single-user mode).
    func client() throws -> Quill.Client {
        try Quill.Client(server: url, environment: [:])
    }

    /// Starts a `quill worker` process with one slot.
    func startWorker(_ name: String) throws {
        workers.append(
            try BuiltProducts.start(
                BuiltProducts.path("quill"),
                ["worker", "--server", url, "--name", name, "--slots", "1"],
                environment: environment.merging(["QUILL_HOME": home.file("worker-\(name)")]) { _, new in new }
            )
        )
    }

    func stop() {
        for worker in workers { worker.stop() }
        process.stop()
    }

    deinit { stop() }
}

@Suite("Quill.Client against a real quill serve", .serialized)
struct ClientTests {
    @Test("submit, wait and submitAndWait run real jobs on a worker; the run, its metrics and artifacts read back")
    func jobsRunsMetricsArtifacts() async throws {
        let server = try ClientTestServer(localWorkers: 1)
        defer { server.stop() }
        let client = try server.client()
        let queued = try await client.submit(
            ["/bin/sh", "-c", "echo hello"],
            name: "hello",
            config: ["lr": 0.1, "layers": 3],
            tags: ["team=ml", "baseline"]
        )
        #expect(queued.name == "hello")
        #expect(queued.argv == ["/bin/sh", "-c", "echo hello"])
        #expect(queued.config == ["lr": 0.1, "layers": 3])
        #expect(queued.tags == ["team": "ml", "baseline": ""])
        let final = try await client.wait(for: queued.id, pollInterval: .milliseconds(50), timeout: .seconds(120))
        #expect(final.id == queued.id)
        #expect(final.status == "completed")
        #expect(final.exitCode == 0)
        #expect(try await client.job(queued.id) == final)

        // Poll interval 0: asks again at once, and still returns the final state.
        let failed = try await client.submitAndWait(
            ["/bin/sh", "-c", "exit 3"],
            pollInterval: .zero,
            timeout: .seconds(120)
        )
        #expect(failed.status == "failed")
        #expect(failed.exitCode == 3)

        let run = try await client.run(final.runID)
        #expect(run.run.id == final.runID)
        #expect(run.run.name == "hello")

        // Metrics logged to the job's run come back as statistics and as a history.
        try await client.http.request(
            "POST",
            APIPath.runBatch(final.runID),
            json: [
                "metrics": [
                    ["key": "loss", "value": 0.5, "step": 1], ["key": "loss", "value": 0.25, "step": 2],
                    ["key": "acc", "value": 0.75, "step": 2],
                ]
            ]
        )
        let metrics = try await client.metrics(of: final.runID)
        #expect(Set(metrics.keys) == ["loss", "acc"])
        #expect(metrics["loss"]?.count == 2)
        #expect(metrics["loss"]?.latest == 0.25)
        #expect(metrics["loss"]?.max == 0.5)
        let history = try await client.metricHistory(of: final.runID, key: "loss")
        #expect(history.points.map(\.value) == [0.5, 0.25])
        await #expect(throws: QuillError.self) {
            try await client.metricHistory(of: final.runID, key: "loss", maxPoints: 3)
        }

        // An artifact uploaded to the run is listed with its size and downloads byte for byte.
        var generator = SeededGenerator(seed: 7)
        let bytes = (0..<200_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let upload = server.home.file("weights.bin")
        try Data(bytes).write(to: URL(fileURLWithPath: upload))
        let uploaded = try client.http.upload(
            "PUT",
            APIPath.runArtifactContent(final.runID, path: "model/weights.bin"),
            fromFile: upload
        )
        #expect((200..<300).contains(uploaded.status), "\(String(describing: uploaded.body))")
        let artifacts = try await client.artifacts(of: final.runID)
        let artifact = try #require(artifacts.first { $0.path == "model/weights.bin" })
        #expect(artifact.size == Int64(bytes.count))
        #expect(abs(artifact.modifiedAt.timeIntervalSinceNow) < 600)
        #expect(Array(try await client.artifact(of: final.runID, path: "model/weights.bin")) == bytes)
        let destination = server.home.file("downloaded.bin")
        try await client.downloadArtifact(of: final.runID, path: "model/weights.bin", to: destination)
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: destination))) == bytes)
        await #expect {
            try await client.artifact(of: final.runID, path: "missing.bin")
        } throws: { error in
            (error as? QuillError)?.code == .notFound
        }
    }

    @Test("a wait that times out throws JobWaitTimeout with the job's last state; cancel ends a queued job")
    func waitTimeoutAndCancel() async throws {
        let server = try ClientTestServer(localWorkers: 0)
        defer { server.stop() }
        let client = try server.client()
        let job = try await client.submit(["sleep", "1"])
        let other = try await client.submit(["sleep", "2"])
        let clock = ContinuousClock()
        let started = clock.now
        do {
            _ = try await client.wait(for: job.id, pollInterval: .milliseconds(20), timeout: .milliseconds(300))
            Issue.record("a queued job with no worker ended")
        } catch let timeout as JobWaitTimeout {
            #expect(timeout.job.id == job.id)
            #expect(timeout.job.status == "queued")
            #expect(timeout.jobs.map(\.id) == [job.id])
            #expect(timeout.timeout == .milliseconds(300))
            #expect(timeout.description.contains("job \(job.id)"))
        }
        let elapsed = started.duration(to: clock.now)
        #expect(elapsed >= .milliseconds(300))
        #expect(elapsed < .seconds(30))

        // Timeout zero: one look, then the error; several jobs: every last state.
        await #expect(throws: JobWaitTimeout.self) { try await client.wait(for: job.id, timeout: .zero) }
        do {
            _ = try await client.wait(for: [job.id, other.id], pollInterval: .zero, timeout: .milliseconds(50))
            Issue.record("queued jobs ended")
        } catch let timeout as JobWaitTimeout {
            #expect(timeout.jobs.map(\.id) == [job.id, other.id])
            #expect(timeout.description.contains("1 other job"))
        }
        #expect(try await client.wait(for: []).isEmpty)

        // Negative durations are refused before any request.
        for attempt in [
            { try await client.wait(for: job.id, pollInterval: .milliseconds(-1)) },
            { try await client.wait(for: job.id, timeout: .seconds(-1)) },
            { try await client.submitAndWait(["true"], pollInterval: .seconds(-5)) },
        ] as [@Sendable () async throws -> APIJob] {
            await #expect {
                _ = try await attempt()
            } throws: { error in
                (error as? QuillError)?.code == .invalidArgument
            }
        }
        #expect(try await client.job(job.id).status == "queued")  // the refused submitAndWait queued nothing new
        #expect(try await client.status().queued == 2)

        let cancelled = try await client.cancel(job.id)
        #expect(cancelled.status == "cancelled")
        // An ended job returns at once, even with a zero timeout.
        #expect(try await client.wait(for: job.id, pollInterval: .zero, timeout: .zero).status == "cancelled")
        try await client.cancel(other.id)
        let ended = try await client.wait(for: [other.id, job.id, other.id], timeout: .zero)
        #expect(ended.map(\.id) == [other.id, job.id, other.id])
        #expect(ended.allSatisfy { $0.status == "cancelled" })

        for id in [Int64(999_999), Int64.max, 0, -1] {
            await #expect {
                _ = try await client.job(id)
            } throws: { error in
                (error as? QuillError)?.code == .notFound
            }
        }
        await #expect {
            _ = try await client.cancel(999_999)
        } throws: { error in
            (error as? QuillError)?.code == .notFound
        }
    }

    @Test("status counts queued, running and finished jobs by status, and the workers with their slots")
    func queueStatus() async throws {
        let server = try ClientTestServer(localWorkers: 0)
        defer { server.stop() }
        let client = try server.client()
        let empty = try await client.status()
        #expect(empty.queued == 0)
        #expect(empty.running == 0)
        #expect(empty.counts == ["queued": 0, "running": 0, "completed": 0, "failed": 0, "cancelled": 0, "lost": 0])
        #expect(empty.workers == APIQueueWorkers(online: 0, busy: 0, offline: 0, total: 0, slots: 0))

        let long = try await client.submit(["sleep", "60"])
        _ = try await client.submit(["sleep", "60"])
        let third = try await client.submit(["true"])
        try await client.cancel(third.id)
        let queued = try await client.status()
        #expect(queued.queued == 2)
        #expect(queued.counts["cancelled"] == 1)

        try server.startWorker("w1")
        var seen: APIQueueStatus?
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(60)
        while clock.now < deadline {
            let status = try await client.status()
            seen = status
            if status.running == 1, status.workers.busy == 1 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(seen?.running == 1)
        #expect(seen?.queued == 1)
        #expect(seen?.workers == APIQueueWorkers(online: 0, busy: 1, offline: 0, total: 1, slots: 1))
        #expect(seen?.counts.values.reduce(0, +) == 3)

        // The worker stops the cancelled job; after SIGTERM it unregisters and counts as offline.
        _ = try await client.cancel(long.id)
        let stopped = try await client.wait(for: long.id, pollInterval: .milliseconds(100), timeout: .seconds(60))
        #expect(stopped.status == "cancelled")
        for worker in server.workers { worker.stop() }
        let after = try await client.status()
        #expect(after.workers.total == 1)
        #expect(after.workers.offline == 1)
        #expect(after.workers.slots == 0)
        #expect(after.counts["cancelled"] == 2)
    }

    @Test("runs filters by status, tag and project; limit 0, 1 and Int.max work, a negative one is refused")
    func runFilters() async throws {
        let server = try ClientTestServer(localWorkers: 0)
        defer { server.stop() }
        let client = try server.client()
        for (index, status) in ["completed", "completed", "completed", "failed", "failed"].enumerated() {
            let tags: [String: String] = index < 3 ? ["team": "ml"] : ["baseline": ""]
            let body: JSONValue = [
                "project": index == 0 ? "other" : "vision", "name": .string("r\(index)"), "status": .string(status),
                "tags": .object(tags.mapValues(JSONValue.string)),
            ]
            try await client.http.request("POST", APIPath.runs, json: body)
        }
        #expect(try await client.runs().count == 5)
        #expect(try await client.runs(status: .completed).count == 3)
        #expect(try await client.runs(status: .failed).map(\.run.status) == ["failed", "failed"])
        #expect(try await client.runs(status: .running).isEmpty)
        #expect(try await client.runs(tag: "team=ml").count == 3)
        #expect(try await client.runs(tag: "team:ml").count == 3)
        #expect(try await client.runs(tag: "team").count == 3)
        #expect(try await client.runs(tag: "baseline").count == 2)
        #expect(try await client.runs(tag: "team=nlp").isEmpty)
        #expect(try await client.runs(status: .failed, tag: "team=ml").isEmpty)
        #expect(try await client.runs(tag: "team=ml", project: "vision").map(\.run.name).sorted() == ["r1", "r2"])
        #expect(try await client.runs(limit: 0).isEmpty)
        #expect(try await client.runs(limit: 1).count == 1)
        #expect(try await client.runs(limit: Int.max).count == 5)
        // Pages of two: the cursor carries the listing on, with no run twice or left out.
        let paged = try await client.runs(status: nil, tag: nil, project: nil, limit: Int.max, pageSize: 2)
        #expect(paged.map(\.run.id) == (try await client.runs()).map(\.run.id))
        #expect(Set(paged.map(\.run.id)).count == 5)
        let three = try await client.runs(status: .completed, tag: nil, project: nil, limit: 3, pageSize: 2)
        #expect(three.count == 3)
        #expect(three.allSatisfy { $0.run.status == "completed" })
        for attempt in [
            { try await client.runs(limit: -1) },
            { try await client.runs(limit: Int.min) },
            { try await client.runs(tag: "=x") },
        ] as [@Sendable () async throws -> [APIRunDetails]] {
            await #expect {
                _ = try await attempt()
            } throws: { error in
                (error as? QuillError)?.code == .invalidArgument
            }
        }
        await #expect {
            _ = try await client.run("nope")
        } throws: { error in
            (error as? QuillError)?.code == .notFound
        }
    }

    @Test("the client finds the server and key as the CLI does, and refuses a URL without a scheme")
    func configuration() throws {
        let folder = TemporaryDirectory("quill-client-config")
        let credentialsPath = folder.file("credentials.json")
        var credentials = Credentials()
        credentials.servers["http://127.0.0.1:9"] = .init(apiKey: "qk_saved", user: "ada")
        try credentials.save(path: credentialsPath)
        let saved = try Quill.Client(environment: [
            "QUILL_TRACKING_URI": "http://127.0.0.1:9/", "QUILL_CREDENTIALS": credentialsPath,
        ])
        #expect(saved.serverURL == "http://127.0.0.1:9")
        #expect(saved.http.apiKey == "qk_saved")
        let fromEnvironment = try Quill.Client(
            server: "http://127.0.0.1:9",
            environment: ["QUILL_API_KEY": "qk_env", "QUILL_CREDENTIALS": credentialsPath]
        )
        #expect(fromEnvironment.http.apiKey == "qk_env")
        #expect(
            try Quill.Client(server: "http://127.0.0.1:9", apiKey: "qk_given", environment: [:]).http.apiKey
                == "qk_given"
        )
        for make in [
            { try Quill.Client(environment: [:]) },
            { try Quill.Client(server: "127.0.0.1:8080", environment: [:]) },
            { try Quill.Client(server: "http://127.0.0.1:9", requestTimeout: .zero, environment: [:]) },
        ] as [() throws -> Quill.Client] {
            #expect {
                _ = try make()
            } throws: { error in
                (error as? QuillError)?.code == .invalidArgument
            }
        }
    }

    @Test("cancelling the waiting task ends the wait at once; the job stays queued")
    func cancelledWait() async throws {
        let server = try ClientTestServer(localWorkers: 0)
        defer { server.stop() }
        let client = try server.client()
        let job = try await client.submit(["sleep", "1"])
        let waiting = Task { try await client.wait(for: job.id, pollInterval: .seconds(30)) }
        try await Task.sleep(for: .milliseconds(200))
        let clock = ContinuousClock()
        let cancelled = clock.now
        waiting.cancel()
        await #expect(throws: CancellationError.self) { _ = try await waiting.value }
        #expect(cancelled.duration(to: clock.now) < .seconds(10))
        #expect(try await client.job(job.id).status == "queued")
    }

    @Test("on a server with users the client sends its key; without one it is refused with unauthorized")
    func keys() async throws {
        let server = try ClientTestServer(localWorkers: 0)
        defer { server.stop() }
        let created = try await BuiltProducts.run(
            BuiltProducts.path("quill"),
            ["users", "create", "ada", "--admin", "--data", server.home.file("server"), "--json"],
            environment: server.environment
        )
        #expect(created.status == 0, "\(created.stderr)")
        let key = try #require(try JSONParser.parse(created.stdout)["api_key"]?.stringValue)
        let client = try Quill.Client(server: server.url, apiKey: key, environment: [:])
        let job = try await client.submit(["true"], project: "vision")
        #expect(job.submittedBy == "ada")
        #expect(try await client.status().queued == 1)
        let anonymous = try server.client()
        await #expect {
            _ = try await anonymous.status()
        } throws: { error in
            (error as? QuillError)?.code == .unauthorized
        }
        await #expect {
            _ = try await anonymous.submit(["true"])
        } throws: { error in
            [.unauthorized, .forbidden].contains((error as? QuillError)?.code)
        }
    }

    @Test("a server that is not there is one io error that names it")
    func unreachable() async throws {
        let client = try Quill.Client(server: "http://127.0.0.1:9", environment: [:])
        await #expect {
            _ = try await client.status()
        } throws: { error in
            guard let error = error as? QuillError else { return false }
            return error.code == .io && error.message.contains("http://127.0.0.1:9")
        }
    }
}
