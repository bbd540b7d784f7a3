import Foundation
import Quill
import QuillClient
import QuillCore
import QuillTesting
import Testing

/// Remote artifacts with real processes on 127.0.0.1: a `quill serve`, `quill worker`s that share different
/// folders, real files and symlinks.
@Suite("Remote artifacts through quill serve and quill worker", .serialized)
struct RemoteArtifactTests {
    /// Starts a worker that shares `shares`.
    /// Starts a worker that shares `shares`; a short lease only where a test waits for the device to go offline.
    static func startWorker(_ cluster: JobCluster, _ name: String, share shares: [String], lease: Int = 10) throws {
        cluster.workers[name] = try BuiltProducts.start(
            BuiltProducts.path("quill"),
            ["worker", "--server", cluster.url, "--name", name, "--lease", String(lease)]
                + shares.flatMap { ["--share", $0] },
            environment: cluster.quill.environment.merging(["QUILL_HOME": cluster.quill.home.file("worker-\(name)")]) {
                _,
                new in new
            }
        )
    }

    /// Polls until `condition` holds for the answer of `GET path`; fails after `timeout` seconds.
    @discardableResult
    static func waitFor(
        _ cluster: JobCluster,
        _ path: String,
        timeout: Double = 60,
        sourceLocation: SourceLocation = #_sourceLocation,
        _ condition: (JSONValue) -> Bool
    ) throws -> JSONValue {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let answer = try? cluster.get(path), condition(answer) { return answer }
            Thread.sleep(forTimeInterval: 0.1)
        }
        let last = try? cluster.get(path)
        Issue.record(
            "\(path) did not reach the expected state in \(timeout) s: \(String(describing: last))",
            sourceLocation: sourceLocation
        )
        throw QuillError(.unavailable, "timed out")
    }

    static func waitOnline(_ cluster: JobCluster, _ names: [String]) throws {
        try waitFor(cluster, "/api/v1/devices") { answer in
            let online = (answer["devices"]?.arrayValue ?? []).filter { $0["status"] != "offline" }
            return Set(names).isSubset(of: Set(online.compactMap { $0["name"]?.stringValue }))
        }
    }

    static func makeRun(_ cluster: JobCluster) throws -> String {
        let created = try cluster.request("POST", "/api/v1/runs", json: ["project": "remote"])
        return try #require(created["id"]?.stringValue)
    }

    /// Asks for a remote artifact and returns the status and body of the answer.
    static func ask(
        _ cluster: JobCluster,
        _ run: String,
        device: String,
        path: String,
        name: String? = nil,
        transfer: Bool? = nil
    ) throws -> (status: Int, body: JSONValue) {
        var body: [String: JSONValue] = ["device": .string(device), "path": .string(path)]
        if let name { body["name"] = .string(name) }
        if let transfer { body["transfer"] = .bool(transfer) }
        let response = try BlockingHTTPClient(baseURL: cluster.url, apiKey: nil)
            .send("POST", "/api/v1/runs/\(run)/artifacts/remote", json: .object(body))
        return (response.status, response.body ?? .null)
    }

    /// Waits until request `id` of `run` is done or failed and returns it.
    static func finished(_ cluster: JobCluster, _ run: String, _ id: Int, timeout: Double = 60) throws -> JSONValue {
        let list = try waitFor(cluster, "/api/v1/runs/\(run)/artifacts/remote", timeout: timeout) { answer in
            let request = answer["requests"]?.arrayValue?.first { $0["id"]?.intValue == id }
            return request?["status"] == "done" || request?["status"] == "failed"
        }
        return try #require(list["requests"]?.arrayValue?.first { $0["id"]?.intValue == id })
    }

    static func sha256(_ bytes: [UInt8]) -> String {
        SHA256.hex(of: bytes)
    }

    @Test(
        "two workers share different folders: a run gets a file of device B as remote_B__name with its bytes; refusals fail with the reason"
    )
    func transfersAndRefusals() throws {
        let cluster = try JobCluster()
        defer { cluster.stop() }
        let files = TemporaryDirectory("quill-remote-files")
        // Paths as the worker reports them (TMPDIR may end with a slash).
        let root = files.path.replacingOccurrences(of: "//", with: "/")
        let shareA = root + "/a"
        let shareB = root + "/b"
        try FileManager.default.createDirectory(atPath: shareA + "/secret", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: shareB + "/sub", withIntermediateDirectories: true)
        let model = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try Data(model).write(to: URL(fileURLWithPath: shareB + "/model.bin"))
        try Data("only A's\n".utf8).write(to: URL(fileURLWithPath: shareA + "/secret/key.txt"))
        try FileManager.default.createSymbolicLink(
            atPath: shareB + "/escape",
            withDestinationPath: shareA + "/secret/key.txt"
        )
        try FileManager.default.createSymbolicLink(
            atPath: shareB + "/inside",
            withDestinationPath: shareB + "/model.bin"
        )
        try Self.startWorker(cluster, "box-a", share: [shareA])
        try Self.startWorker(cluster, "box-b", share: [shareB])
        try Self.waitOnline(cluster, ["box-a", "box-b"])
        let run = try Self.makeRun(cluster)

        // A file device B shares arrives as remote_box-b__model.bin, with its bytes and SHA-256.
        let asked = try Self.ask(cluster, run, device: "box-b", path: shareB + "/model.bin")
        #expect(asked.status == 201, "\(asked.body)")
        #expect(asked.body["artifact_path"] == "remote_box-b__model.bin")
        let id = try #require(asked.body["id"]?.intValue)
        let done = try Self.finished(cluster, run, id)
        #expect(done["status"] == "done", "\(done)")
        #expect(done["size"]?.intValue == model.count)
        #expect(done["sha256"]?.stringValue == Self.sha256(model))
        if let asked = done["created_at"]?.stringValue.flatMap(Timestamp.parse),
            let stored = done["updated_at"]?.stringValue.flatMap(Timestamp.parse)
        {
            // The figure the report quotes: the idle worker long-polls, so it starts at once.
            let milliseconds = Int((stored.timeIntervalSince(asked) * 1000).rounded())
            print("remote artifact of \(model.count) bytes stored \(milliseconds) ms after the request (server times)")
        }
        let downloaded = root + "/downloaded.bin"
        let response = try BlockingHTTPClient(baseURL: cluster.url, apiKey: nil)
            .download("/api/v1/runs/\(run)/artifacts/content?path=remote_box-b__model.bin", to: downloaded)
        #expect(response.status == 200)
        #expect(try Array(Data(contentsOf: URL(fileURLWithPath: downloaded))) == model)
        // A symlink that stays inside the shared folder is followed; the name can be chosen.
        let named = try Self.ask(cluster, run, device: "box-b", path: shareB + "/inside", name: "best.ckpt")
        #expect(try Self.finished(cluster, run, try #require(named.body["id"]?.intValue))["status"] == "done")

        // Refusals: outside the share (also through `..` and a symlink), a missing file, a directory.
        let refusals: [(path: String, reason: String)] = [
            (
                shareA + "/secret/key.txt",
                "device box-b does not share \(shareA)/secret; start its worker with --share \(shareA)/secret"
            ),
            (shareB + "/../a/secret/key.txt", "device box-b does not share \(shareA)/secret"),
            (
                shareB + "/escape",
                "device box-b does not share \(shareA)/secret (\(shareB)/escape leads to \(shareA)/secret/key.txt)"
            ),
            (shareB + "/missing.bin", "there is no file \(shareB)/missing.bin on device box-b"),
            (shareB + "/sub", "\(shareB)/sub on device box-b is a directory, not a regular file"),
            ("/etc/passwd", "device box-b does not share /etc; start its worker with --share /etc"),
        ]
        var ids: [Int] = []
        for (index, refusal) in refusals.enumerated() {
            let answer = try Self.ask(cluster, run, device: "box-b", path: refusal.path, name: "refused-\(index)")
            #expect(answer.status == 201, "\(answer.body)")
            ids.append(try #require(answer.body["id"]?.intValue))
        }
        for (id, refusal) in zip(ids, refusals) {
            let request = try Self.finished(cluster, run, id)
            #expect(request["status"] == "failed", "\(refusal.path): \(request)")
            let reason = request["reason"]?.stringValue ?? ""
            #expect(reason.hasPrefix(refusal.reason), "\(refusal.path): \(reason)")
            #expect(!reason.contains("\n"))
        }
        // Device A shares its folder, so the same file comes from A.
        let fromA = try Self.ask(cluster, run, device: "box-a", path: shareA + "/secret/key.txt")
        let sent = try Self.finished(cluster, run, try #require(fromA.body["id"]?.intValue))
        #expect(sent["status"] == "done")
        #expect(sent["artifact_path"] == "remote_box-a__key.txt")

        // Without a transfer: recorded at once, listed as remote with no size, and no bytes.
        let recorded = try Self.ask(
            cluster,
            run,
            device: "box-b",
            path: shareB + "/model.bin",
            name: "big.h5",
            transfer: false
        )
        #expect(recorded.status == 201)
        #expect(recorded.body["status"] == "recorded")
        let listed = try cluster.get("/api/v1/runs/\(run)/artifacts")["artifacts"]?.arrayValue ?? []
        let entry = try #require(listed.first { $0["path"] == "remote_box-b__big.h5" })
        #expect(entry["status"] == "remote")
        #expect(entry["size"] == .null)
        #expect(entry["remote"]?["device"] == "box-b")
        #expect(entry["remote"]?["source_path"]?.stringValue == shareB + "/model.bin")
        let stored = try #require(listed.first { $0["path"] == "remote_box-b__model.bin" })
        #expect(stored["status"] == "uploaded")
        #expect(stored["remote"]?["status"] == "done")
        let refused = try #require(listed.first { $0["path"] == "remote_box-b__refused-0" })
        #expect(refused["status"] == "failed")
        Thread.sleep(forTimeInterval: 0.5)
        let content = try BlockingHTTPClient(baseURL: cluster.url, apiKey: nil)
            .send("GET", "/api/v1/runs/\(run)/artifacts/content?path=remote_box-b__big.h5")
        #expect(content.status == 404)

        // An unknown device: 404 naming the known ones.
        let unknown = try Self.ask(cluster, run, device: "box-z", path: "/x")
        #expect(unknown.status == 404)
        let message = unknown.body["error"]?["message"]?.stringValue ?? ""
        #expect(message.contains("device 'box-z' not found; known devices: box-a, box-b"), "\(message)")

        // `quill artifacts remote` asks from the command line, and lists the run's requests with their reasons.
        let cliAsk = try cluster.quill(
            "artifacts",
            "remote",
            run,
            shareB + "/model.bin",
            "--device",
            "box-b",
            "--name",
            "cli.bin",
            "--server",
            cluster.url
        )
        #expect(cliAsk.status == 0, "\(cliAsk.stderr)")
        #expect(cliAsk.stdout.contains("asked box-b for \(shareB)/model.bin as remote_box-b__cli.bin"))
        let cliList = try cluster.quill("artifacts", "remote", run, "--server", cluster.url, "--json")
        let listedRequests = try JSONParser.parse(cliList.stdout)["requests"]?.arrayValue ?? []
        #expect(listedRequests.contains { $0["artifact_path"] == "remote_box-b__cli.bin" })
        #expect(listedRequests.contains { $0["reason"]?.stringValue?.hasPrefix("there is no file") == true })
        let noDevice = try cluster.quill("artifacts", "remote", run, "/x", "--server", cluster.url)
        #expect(noDevice.status != 0)
        #expect(noDevice.stderr.contains("--device"))

        // `quill artifacts` lists the remote entries with their device and path, and a refusal's reason.
        let table = try cluster.quill("artifacts", run, "--server", cluster.url)
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.contains("ON DEVICE"))
        #expect(table.stdout.contains("box-b:/"))
        #expect(table.stdout.contains("remote_box-b__big.h5"))
        // Reasons are printed whole after the table (the table shortens long cells).
        #expect(
            table.stdout.contains("remote_box-b__refused-3: there is no file \(shareB)/missing.bin on device box-b\n")
        )
    }

    @Test("an offline device's requests wait, pending, and are sent when its worker comes back")
    func offlineDevice() throws {
        let cluster = try JobCluster()
        defer { cluster.stop() }
        let files = TemporaryDirectory("quill-remote-files")
        try Data("early\n".utf8).write(to: URL(fileURLWithPath: files.file("early.txt")))
        try Data("late\n".utf8).write(to: URL(fileURLWithPath: files.file("late.txt")))
        try Self.startWorker(cluster, "sleepy", share: [files.path], lease: 4)
        try Self.waitOnline(cluster, ["sleepy"])
        cluster.killWorker("sleepy")
        let run = try Self.makeRun(cluster)
        // Asked right after the SIGKILL: the dead worker's long-poll may still be answered with it.
        let early = try Self.ask(cluster, run, device: "sleepy", path: files.file("early.txt"))
        #expect(early.status == 201)
        // Once the device is offline (lease 4 s) and no long-poll of the dead worker is left (5 s at most), a
        // request waits.
        try Self.waitFor(cluster, "/api/v1/devices/sleepy") { $0["status"] == "offline" }
        Thread.sleep(forTimeInterval: 5.5)
        let late = try Self.ask(cluster, run, device: "sleepy", path: files.file("late.txt"))
        #expect(late.status == 201)
        let lateID = try #require(late.body["id"]?.intValue)
        Thread.sleep(forTimeInterval: 1)
        let requests = try cluster.get("/api/v1/runs/\(run)/artifacts/remote")["requests"]?.arrayValue ?? []
        #expect(requests.first { $0["id"]?.intValue == lateID }?["status"] == "pending", "\(requests)")
        // The worker comes back under the same name: both are sent, the one a dead long-poll took included.
        try Self.startWorker(cluster, "sleepy", share: [files.path], lease: 4)
        let sentLate = try Self.finished(cluster, run, lateID, timeout: 30)
        #expect(sentLate["status"] == "done")
        #expect(sentLate["sha256"]?.stringValue == Self.sha256(Array("late\n".utf8)))
        let sentEarly = try Self.finished(cluster, run, try #require(early.body["id"]?.intValue), timeout: 30)
        #expect(sentEarly["status"] == "done")
    }

    @Test("the SDK asks through the run's server; without a server it says what to set")
    func sdk() throws {
        let cluster = try JobCluster()
        defer { cluster.stop() }
        let files = TemporaryDirectory("quill-remote-files")
        try Data("from the sdk\n".utf8).write(to: URL(fileURLWithPath: files.file("notes.txt")))
        try Self.startWorker(cluster, "sdk-box", share: [files.path])
        try Self.waitOnline(cluster, ["sdk-box"])
        let home = TemporaryDirectory("quill-remote-sdk")
        var options = RunOptions(home: QuillHome(path: home.path))
        options.attachToEnvironmentRun = false
        options.handleSignals = false
        options.captureGit = false
        options.captureDependencies = false
        options.systemMetricsInterval = nil

        let local = try Quill.startRun(project: "remote", options: options)
        do {
            try local.logArtifact(remote: files.file("notes.txt"), device: "sdk-box")
            Issue.record("a run without a server asked for a remote artifact")
        } catch let error as QuillError {
            #expect(error.message.contains("needs a Quill server: set QUILL_TRACKING_URI"), "\(error)")
        }
        try local.finish()

        options.trackingURI = cluster.url
        let run = try Quill.startRun(project: "remote", options: options)
        let started = Date()
        let id = try run.logArtifact(remote: files.file("notes.txt"), device: "sdk-box")
        #expect(Date().timeIntervalSince(started) < 5)
        do {
            try run.logArtifact(remote: files.file("notes.txt"), device: "nobody")
            Issue.record("an unknown device was accepted")
        } catch let error as QuillError {
            #expect(error.code == .notFound)
            #expect(error.message.contains("known devices: sdk-box"), "\(error)")
        }
        let done = try Self.finished(cluster, run.id.rawValue, Int(id))
        #expect(done["status"] == "done")
        #expect(done["artifact_path"] == "remote_sdk-box__notes.txt")
        try run.finish()
    }

    @Test(
        "the embedded worker of quill serve sends files of the folders quill serve --share names; a file over the server's limit fails with its reason"
    )
    func embeddedWorker() throws {
        let quill = QuillBinary()
        let files = TemporaryDirectory("quill-remote-files")
        try Data("embedded\n".utf8).write(to: URL(fileURLWithPath: files.file("e.txt")))
        try Data(count: (1 << 20) + 1).write(to: URL(fileURLWithPath: files.file("big.bin")))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BuiltProducts.path("quill"))
        process.arguments = [
            "serve", "--port", "0", "--data", quill.home.file("server"), "--share", files.path, "--max-artifact-mib",
            "1",
        ]
        process.environment = ProcessInfo.processInfo.environment.merging(["QUILL_HOME": quill.home.path]) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer {
            process.terminate()
            process.waitUntilExit()
        }
        let port = try ServeOutput.listeningPort(from: pipe.fileHandleForReading)
        let client = BlockingHTTPClient(baseURL: "http://127.0.0.1:\(port)", apiKey: nil)
        var devices: [JSONValue] = []
        let registered = Date().addingTimeInterval(60)
        while devices.isEmpty, Date() < registered {
            devices = (try? client.call("GET", "/api/v1/devices"))?["devices"]?.arrayValue ?? []
            if devices.isEmpty { Thread.sleep(forTimeInterval: 0.1) }
        }
        let device = try #require(devices.first?["name"]?.stringValue)
        let run = try #require(try client.call("POST", "/api/v1/runs", json: ["project": "remote"])["id"]?.stringValue)
        let asked = try client.call(
            "POST",
            "/api/v1/runs/\(run)/artifacts/remote",
            json: ["device": .string(device), "path": .string(files.file("e.txt"))]
        )
        let id = try #require(asked["id"]?.intValue)
        let refused = try client.call(
            "POST",
            "/api/v1/runs/\(run)/artifacts/remote",
            json: ["device": .string(device), "path": "/etc/hostname"]
        )
        // Too large for the server, through the embedded worker and through a `quill worker` over HTTP.
        let big = try client.call(
            "POST",
            "/api/v1/runs/\(run)/artifacts/remote",
            json: ["device": .string(device), "path": .string(files.file("big.bin"))]
        )
        let worker = try BuiltProducts.start(
            BuiltProducts.path("quill"),
            ["worker", "--server", "http://127.0.0.1:\(port)", "--name", "http-box", "--share", files.path],
            environment: quill.environment.merging(["QUILL_HOME": quill.home.file("worker")]) { $1 }
        )
        defer {
            worker.terminate()
            worker.waitUntilExit()
        }
        var httpBig: JSONValue?
        let online = Date().addingTimeInterval(60)
        while httpBig == nil, Date() < online {
            httpBig = try? client.call(
                "POST",
                "/api/v1/runs/\(run)/artifacts/remote",
                json: ["device": "http-box", "path": .string(files.file("big.bin"))]
            )
            if httpBig == nil { Thread.sleep(forTimeInterval: 0.2) }
        }
        let httpBigID = try #require(httpBig?["id"])
        let deadline = Date().addingTimeInterval(60)
        var requests: [JSONValue] = []
        while Date() < deadline {
            requests = try client.call("GET", "/api/v1/runs/\(run)/artifacts/remote")["requests"]?.arrayValue ?? []
            if requests.allSatisfy({ $0["status"] == "done" || $0["status"] == "failed" }) { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(requests.first { $0["id"]?.intValue == id }?["status"] == "done", "\(requests)")
        #expect(requests.first { $0["id"] == refused["id"] }?["status"] == "failed", "\(requests)")
        for id in [big["id"], httpBigID] {
            let request = requests.first { $0["id"] == id }
            #expect(request?["status"] == "failed", "\(requests)")
            #expect(
                request?["reason"]?.stringValue?.hasPrefix(
                    "the file has 1048577 bytes; this server takes at most 1048576 bytes per artifact"
                ) == true,
                "\(String(describing: request))"
            )
        }
        let artifact = try client.call("GET", "/api/v1/runs/\(run)/artifacts")["artifacts"]?.arrayValue?.first {
            $0["path"]?.stringValue == "remote_\(device)__e.txt"
        }
        #expect(artifact?["sha256"]?.stringValue == Self.sha256(Array("embedded\n".utf8)))
    }
}
