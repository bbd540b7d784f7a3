import Foundation
import QuillCore
import QuillTesting
import Testing

@Suite("The SDK and quill sync against a real server")
struct SyncTests {
    func environment(home: String, server: String?) -> [String: String] {
        var environment = [
            "QUILL_HOME": home, "QUILL_CAPTURE_GIT": "0", "QUILL_CAPTURE_DEPS": "0",
            "QUILL_SYSTEM_METRICS_INTERVAL": "0",
            "QUILL_RUN_DIR": "", "QUILL_TRACKING_URI": "",
        ]
        if let server { environment["QUILL_TRACKING_URI"] = server }
        return environment
    }

    func quill(_ arguments: [String], _ environment: [String: String]) throws -> BuiltProducts.Result {
        try BuiltProducts.run(BuiltProducts.path("quill"), arguments, environment: environment)
    }

    func pointCounts(_ server: ServerProcess, run name: String) async throws -> (counts: [String: Int], run: JSONValue?)
    {
        let (_, page) = try await server.request("GET", "/api/v1/runs?q=name%20%3D%20\(name)")
        let run = page?["runs"]?.arrayValue?.first
        let counts = (run?["metrics"]?.objectValue ?? [:]).compactMapValues { $0["count"]?.intValue }
        return (counts, run)
    }

    @Test("with QUILL_TRACKING_URI the SDK streams a run to the server while it logs")
    func streaming() async throws {
        let data = TemporaryDirectory("quill-server")
        let home = TemporaryDirectory("quill-home")
        let server = try await ServerProcess.start(data: data.path)
        let result = try quill(
            ["demo", "--steps", "40", "--delay-ms", "1", "--name", "streamed"],
            environment(home: home.path, server: "http://127.0.0.1:\(server.port)")
        )
        #expect(result.status == 0, "\(result.stderr)")
        let (counts, run) = try await pointCounts(server, run: "streamed")
        #expect(counts["train/loss"] == 40)
        #expect(counts["val/loss"] == 10)
        #expect(run?["status"] == "completed")
        #expect(run?["summary"]?["steps"] == 40)
        #expect(run?["tags"]?["team"] == "quill")
        #expect(run?["config"]?["batch_size"] == 64)
    }

    @Test("runs logged while the server is down are uploaded by quill sync; syncing again adds nothing")
    func offlineThenSync() async throws {
        let data = TemporaryDirectory("quill-server")
        let home = TemporaryDirectory("quill-home")
        // Nothing listens on this port: the run logs locally and finishes without waiting long.
        let started = Date()
        let offline = try quill(
            ["demo", "--steps", "30", "--delay-ms", "0", "--name", "offline"],
            environment(home: home.path, server: "http://127.0.0.1:9")
        )
        #expect(offline.status == 0, "\(offline.stderr)")
        #expect(offline.stderr.contains("quill sync offline"))
        #expect(Date().timeIntervalSince(started) < 20)

        // System samples, as the SDK's sampler writes them (one line is damaged and is skipped).
        let runFolder = try #require(try FileManager.default.contentsOfDirectory(atPath: home.path + "/runs").first)
        try Data(
            """
            {"_timestamp": "2026-11-25T10:00:00.000000Z", "cpu_percent": 12.5, "memory_percent": 40}
            {"_timestamp": "2026-11-25T10:00:10.000000Z", "cpu_percent": 50, "memory_percent": 41}
            {"_timestamp": "2026-11-25T10:00:20.0
            {"_timestamp": "2026-11-25T10:00:30.000000Z", "cpu_percent": 75, "memory_percent": 42}

            """.utf8
        ).write(to: URL(fileURLWithPath: home.path + "/runs/\(runFolder)/system.jsonl"))

        let server = try await ServerProcess.start(data: data.path)
        let url = "http://127.0.0.1:\(server.port)"
        let first = try quill(["sync", "--all", "--server", url, "--json"], environment(home: home.path, server: nil))
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try JSONParser.parse(first.stdout)["runs"]?.arrayValue?.first?["points_written"] == 110)
        // Forget the upload offsets: the server still stores no point twice.
        let runs = try FileManager.default.contentsOfDirectory(atPath: home.path + "/runs")
        for run in runs { try? FileManager.default.removeItem(atPath: home.path + "/runs/\(run)/sync.json") }
        let second = try quill(
            ["sync", "offline", "--server", url, "--json"],
            environment(home: home.path, server: nil)
        )
        #expect(second.status == 0, "\(second.stderr)")
        let report = try JSONParser.parse(second.stdout)["runs"]?.arrayValue?.first
        #expect(report?["rows_sent"] == 40)
        #expect(report?["points_written"] == 0)
        let (counts, run) = try await pointCounts(server, run: "offline")
        #expect(counts["train/loss"] == 30)
        #expect(counts["system/cpu_percent"] == 3)
        #expect(run?["metrics"]?["system/memory_percent"]?["max"]?.doubleValue == 42)
        #expect(run?["status"] == "completed")
    }

    @Test("quill runs, show, compare and metrics read from a server with --server")
    func readersAgainstServer() async throws {
        let data = TemporaryDirectory("quill-server")
        let home = TemporaryDirectory("quill-home")
        let server = try await ServerProcess.start(data: data.path)
        let url = "http://127.0.0.1:\(server.port)"
        for (name, lr) in [("a", "0.01"), ("b", "0.05")] {
            let result = try quill(
                ["demo", "--steps", "20", "--delay-ms", "0", "--name", name, "--lr", lr],
                environment(home: home.path, server: url)
            )
            #expect(result.status == 0, "\(result.stderr)")
        }
        // A fresh home: everything below is read from the server.
        let elsewhere = TemporaryDirectory("quill-home")
        let env = environment(home: elsewhere.path, server: nil)
        let runs = try JSONParser.parse(
            try quill(["runs", "--server", url, "--where", "params.lr > 0.02", "--json"], env).stdout
        )
        #expect(runs["runs"]?.arrayValue?.map { $0["name"] } == ["b"])
        // The SDK streams a run's final status as it finishes; on a loaded machine the last upload may land
        // a moment after `quill demo` exits.
        var table = try quill(["runs", "--server", url, "--status", "completed", "--tag", "team=quill"], env)
        for _ in 0..<60 where table.stdout.split(separator: "\n").count < 3 {
            try await Task.sleep(for: .milliseconds(500))
            table = try quill(["runs", "--server", url, "--status", "completed", "--tag", "team=quill"], env)
        }
        #expect(table.stdout.split(separator: "\n").count == 3, "\(table.stdout)\(table.stderr)")
        let shown = try JSONParser.parse(try quill(["show", "a", "--server", url, "--json"], env).stdout)
        #expect(shown["config"]?["lr"] == 0.01)
        #expect(shown["project"] == "demo")
        let compared = try JSONParser.parse(try quill(["compare", "a", "b", "--server", url, "--json"], env).stdout)
        #expect(compared["rows"]?.arrayValue?.first { $0["key"] == "config.lr" }?["different"] == true)
        let csv = try quill(["metrics", "a", "--server", url, "--key", "train/loss"], env).stdout.split(separator: "\n")
        #expect(csv.first == "_idx,step,_timestamp,train/loss")
        #expect(csv.count == 21)
        let missing = try quill(["show", "nope", "--server", url], env)
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("not found on \(url)"))
    }

    @Test("sync without a server says what to set")
    func noServer() throws {
        let home = TemporaryDirectory("quill-home")
        let result = try quill(["sync", "--all"], environment(home: home.path, server: nil))
        #expect(result.status != 0)
        #expect(result.stderr.contains("QUILL_TRACKING_URI"))
    }
}
