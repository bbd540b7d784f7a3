import Foundation
import QuillCore
import QuillTesting
import Testing

@Suite("quill sync of large and damaged metrics files")
struct SyncSpeedTests {
    let environment: [String: String]
    let home = TemporaryDirectory("quill-home")

    init() {
        environment = [
            "QUILL_HOME": home.path, "QUILL_CAPTURE_GIT": "0", "QUILL_CAPTURE_DEPS": "0",
            "QUILL_SYSTEM_METRICS_INTERVAL": "0", "QUILL_RUN_DIR": "", "QUILL_TRACKING_URI": "",
        ]
    }

    /// Records a run whose `metrics.jsonl` a Python child writes, and returns its folder.
    func record(_ name: String, script: String) throws -> String {
        let logged = try BuiltProducts.run(
            BuiltProducts.path("quill"),
            ["run", "--name", name, "--", "python3", "-c", script],
            environment: environment
        )
        #expect(logged.status == 0, "\(logged.stderr)")
        let folders = try FileManager.default.contentsOfDirectory(atPath: home.path + "/runs")
        let folder = try #require(folders.first { $0.contains(name) } ?? folders.first)
        return home.path + "/runs/" + folder
    }

    /// Runs `quill sync NAME --json`: its status, its JSON report (when it succeeded), and all it printed.
    func sync(_ name: String, _ server: ServerProcess) throws -> (status: Int32, report: JSONValue?, output: String) {
        let result = try BuiltProducts.run(
            BuiltProducts.path("quill"),
            ["sync", name, "--server", "http://127.0.0.1:\(server.port)", "--json"],
            environment: environment
        )
        return (result.status, try? JSONParser.parse(result.stdout), result.stdout + result.stderr)
    }

    /// The server's points of `key`, by index.
    func history(_ server: ServerProcess, run name: String, key: String) async throws -> [Int: Double] {
        let page = try await server.request("GET", "/api/v1/runs?q=name%20%3D%20\(name)").body
        let id = try #require(page?["runs"]?.arrayValue?.first?["id"]?.stringValue)
        let body = try await server.request("GET", "/api/v1/runs/\(id)/metrics?key=\(key)").body
        var points: [Int: Double] = [:]
        for point in body?["points"]?.arrayValue ?? [] {
            let index = try #require(point["idx"]?.intValue)
            points[index] = try #require(point["value"]?.doubleValue)
        }
        return points
    }

    static func same(_ a: Double?, _ b: Double?) -> Bool {
        guard let a, let b else { return a == nil && b == nil }
        return a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN)
    }

    @Test("a 50,000-point run syncs once with every value exact (NaN, ±Infinity, extremes); again sends nothing")
    func largeRunExact() async throws {
        let data = TemporaryDirectory("quill-server")
        let server = try await ServerProcess.start(data: data.path)
        // Plain lines, lines Python writes with bare NaN/Infinity, lines without `_idx`, escaped keys,
        // non-numeric members, and extreme doubles.
        let script = """
            import json, math, os, random
            random.seed(3)
            extremes = [1.7976931348623157e308, 5e-324, -2.2250738585072014e-308, 0.1 + 0.2, 1e-7, 123456789012345678]
            path = os.path.join(os.environ["QUILL_RUN_DIR"], "metrics.jsonl")
            with open(path, "a") as f:
                for i in range(12500):
                    v = [random.random() * 10 ** random.randint(-30, 30), extremes[i % len(extremes)], random.random(), i * 0.5]
                    if i % 97 == 0: v[2] = float("nan")
                    if i % 89 == 0: v[2] = float("inf")
                    if i % 83 == 0: v[2] = float("-inf")
                    row = {"step": i, "loss": v[0], "extreme": v[1], "odd": v[2], "half": v[3]}
                    if i % 5 != 0:
                        row["_idx"] = i
                    if i % 7 == 0:
                        row["note"] = "text"
                    if i % 11 == 0:
                        f.write(json.dumps(row) + "\\n")  # bare NaN/Infinity: the parser's path
                    else:
                        for k in ("loss", "extreme", "odd", "half"):
                            if not math.isfinite(row[k]):
                                row[k] = "NaN" if math.isnan(row[k]) else ("Infinity" if row[k] > 0 else "-Infinity")
                        f.write(json.dumps(row, separators=(",", ":")) + "\\n")
            """
        let folder = try record("big", script: script)
        let first = try sync("big", server)
        #expect(first.status == 0, "\(first.output)")
        let report = first.report?["runs"]?.arrayValue?.first
        #expect(report?["rows_sent"] == 12_500)
        #expect(report?["points_written"] == 50_000)

        let local = try MetricsFile.read(folder + "/metrics.jsonl").rows
        #expect(local.count == 12_500)
        for key in ["loss", "extreme", "odd", "half"] {
            let remote = try await history(server, run: "big", key: key)
            #expect(remote.count == 12_500, "\(key)")
            var mismatches = 0
            for row in local where !Self.same(remote[row.index], row.values[key]) {
                mismatches += 1
                if mismatches <= 3 {
                    Issue.record(
                        "\(key) idx \(row.index): local \(String(describing: row.values[key])), server \(String(describing: remote[row.index]))"
                    )
                }
            }
            #expect(mismatches == 0, "\(key)")
        }
        #expect(try await history(server, run: "big", key: "note").isEmpty)

        let again = try sync("big", server)
        #expect(again.status == 0, "\(again.output)")
        #expect(again.report?["runs"]?.arrayValue?.first?["rows_sent"] == 0)
        #expect(again.report?["runs"]?.arrayValue?.first?["points_written"] == 0)
    }

    @Test("a malformed line stops the upload there, named by its line number; once fixed, the rest follows")
    func malformedLineStops() async throws {
        let data = TemporaryDirectory("quill-server")
        let server = try await ServerProcess.start(data: data.path)
        let script = """
            import os
            path = os.path.join(os.environ["QUILL_RUN_DIR"], "metrics.jsonl")
            with open(path, "a") as f:
                f.write('{"step": 0, "loss": 0.5}\\n{"step": 1, "loss": 0.4}\\n{"step": 2, "loss": \\n{"step": 3, "loss": 0.3}\\n')
            """
        let folder = try record("damaged", script: script)
        let metricsPath = folder + "/metrics.jsonl"
        let failed = try sync("damaged", server)
        #expect(failed.status != 0)
        let message = failed.output
        #expect(message.contains("line 3 of"), "\(message)")
        #expect(message.contains("metrics.jsonl"), "\(message)")
        // The lines before it are on the server; the offset stays at the damaged line's start.
        #expect(try await history(server, run: "damaged", key: "loss") == [0: 0.5, 1: 0.4])
        let state = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: folder + "/sync.json"))))
        let entry = try #require(state["servers"]?.objectValue?.first?.value)
        let prefix = #"{"step": 0, "loss": 0.5}"# + "\n" + #"{"step": 1, "loss": 0.4}"# + "\n"
        #expect(entry["metrics_offset"]?.intValue == prefix.utf8.count)
        // Syncing again stops at the same line: nothing after it is ever skipped.
        let still = try sync("damaged", server)
        #expect(still.status != 0)
        #expect(try await history(server, run: "damaged", key: "loss").count == 2)

        let fixed = prefix + #"{"step": 2, "loss": 0.35}"# + "\n" + #"{"step": 3, "loss": 0.3}"# + "\n"
        try Data(fixed.utf8).write(to: URL(fileURLWithPath: metricsPath))
        let done = try sync("damaged", server)
        #expect(done.status == 0, "\(done.output)")
        #expect(try await history(server, run: "damaged", key: "loss") == [0: 0.5, 1: 0.4, 2: 0.35, 3: 0.3])
    }

    @Test(
        "a batch the server refuses while the next is in flight: the offset stops at its start; once fixed, every point once"
    )
    func refusedBatchWithAnotherInFlight() async throws {
        let data = TemporaryDirectory("quill-server")
        let server = try await ServerProcess.start(data: data.path)
        // 30,000 rows of one metric: three batches of 10,000 points, sent two at a time. Row 15,000 has a
        // step the server refuses (outside MetricBounds), so the middle batch fails while the last may be
        // stored.
        let script = """
            import os
            path = os.path.join(os.environ["QUILL_RUN_DIR"], "metrics.jsonl")
            with open(path, "a") as f:
                for i in range(30000):
                    step = 2 ** 60 if i == 15000 else i
                    f.write('{"_idx":%d,"step":%d,"loss":%d.5}\\n' % (i, step, i))
            """
        let folder = try record("refused", script: script)
        let metricsPath = folder + "/metrics.jsonl"
        let failed = try sync("refused", server)
        #expect(failed.status != 0)
        #expect(failed.output.contains("step"), "\(failed.output)")
        let lines = try String(contentsOfFile: metricsPath, encoding: .utf8).split(separator: "\n")
        let firstBatchBytes = lines.prefix(10000).reduce(0) { $0 + $1.utf8.count + 1 }
        let state = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: folder + "/sync.json"))))
        let entry = try #require(state["servers"]?.objectValue?.first?.value)
        #expect(entry["metrics_offset"]?.intValue == firstBatchBytes)
        #expect(entry["metrics_next_idx"]?.intValue == 10000)
        let partial = try await history(server, run: "refused", key: "loss")
        #expect((0..<10000).allSatisfy { partial[$0] == Double($0) + 0.5 })
        #expect(!partial.keys.contains { (10000..<20000).contains($0) })

        var fixed = lines.map(String.init)
        fixed[15000] = #"{"_idx":15000,"step":15000,"loss":15000.5}"#
        try Data((fixed.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: metricsPath))
        let done = try sync("refused", server)
        #expect(done.status == 0, "\(done.output)")
        let complete = try await history(server, run: "refused", key: "loss")
        #expect(complete.count == 30000)
        #expect((0..<30000).allSatisfy { complete[$0] == Double($0) + 0.5 })
    }
}
