import Foundation
import QuillCore
import QuillTesting
import Testing

@Suite("REST API through a real quill serve process")
struct ServerAPITests {
    func createRun(
        _ server: ServerProcess,
        project: String = "Vision",
        name: String? = nil,
        config: JSONValue = [:]
    ) async throws -> String {
        var body: [String: JSONValue] = ["project": .string(project), "config": config]
        if let name { body["name"] = .string(name) }
        let (status, json) = try await server.request("POST", "/api/v1/runs", json: .object(body))
        #expect(status == 201)
        return try #require(json?["id"]?.stringValue)
    }

    @Test("projects: get-or-create by display name, list, get, visibility")
    func projects() async throws {
        let temp = TemporaryDirectory("quill-server")
        let server = try await ServerProcess.start(data: temp.path)
        let (status, first) = try await server.request("POST", "/api/v1/projects", json: ["name": "Image Classifier"])
        #expect(status == 200)
        #expect(first?["slug"] == "image-classifier")
        #expect(first?["visibility"] == "private")
        let (_, again) = try await server.request("POST", "/api/v1/projects", json: ["name": "image classifier"])
        #expect(again?["id"] == first?["id"])
        #expect(try await server.request("GET", "/api/v1/projects").body?["projects"]?.arrayValue?.count == 1)
        #expect(try await server.request("GET", "/api/v1/projects/local/image-classifier").status == 200)
        #expect(try await server.request("GET", "/api/v1/projects/local/nope").status == 404)
        let (patched, changed) = try await server.request(
            "PATCH",
            "/api/v1/projects/local/image-classifier",
            json: ["visibility": "public"]
        )
        #expect(patched == 200)
        #expect(changed?["visibility"] == "public")
        #expect(
            try await server.request(
                "PATCH",
                "/api/v1/projects/local/image-classifier",
                json: ["visibility": "everyone"]
            ).status == 400
        )
    }

    @Test("runs: create with a dashboard URL, get, update, delete; names get suffixes")
    func runs() async throws {
        let temp = TemporaryDirectory("quill-server")
        let server = try await ServerProcess.start(data: temp.path)
        let id = try await createRun(server, name: "baseline", config: ["lr": 0.01])
        let second = try await server.request("POST", "/api/v1/runs", json: ["project": "Vision", "name": "baseline"])
        #expect(second.body?["name"] == "baseline_1")
        #expect(second.body?["url"] == .string("/runs/\(second.body?["id"]?.stringValue ?? "")"))
        let (status, run) = try await server.request("GET", "/api/v1/runs/\(id)")
        #expect(status == 200)
        #expect(run?["config"]?["lr"] == 0.01)
        let (updated, body) = try await server.request(
            "PATCH",
            "/api/v1/runs/\(id)",
            json: ["status": "completed", "description": "first", "summary": ["acc": 0.9]]
        )
        #expect(updated == 200)
        #expect(body?["status"] == "completed")
        #expect(body?["summary"]?["acc"] == 0.9)
        #expect(try await server.request("PATCH", "/api/v1/runs/\(id)", json: ["name": "baseline_1"]).status == 409)
        #expect(try await server.request("DELETE", "/api/v1/runs/\(id)").status == 204)
        #expect(try await server.request("GET", "/api/v1/runs/\(id)").status == 404)
    }

    @Test("the batch endpoint stores metrics, rows, params, tags, links and logs; a repeated sync stores nothing twice")
    func batch() async throws {
        let temp = TemporaryDirectory("quill-server")
        let server = try await ServerProcess.start(data: temp.path)
        let id = try await createRun(server)
        let rows: [JSONValue] = (0..<100).map { index in
            [
                "_idx": .int(index), "_timestamp": "2026-11-24T10:00:00Z", "step": .int(index),
                "loss": .double(1 / Double(index + 1)),
            ]
        }
        let body: JSONValue = [
            "rows": .array(rows), "metrics": [["key": "grad", "value": "NaN"], ["key": "grad", "value": "Infinity"]],
            "params": ["lr": 0.1], "tags": ["team": "vision"],
            "links": [["label": "paper", "url": "https://example.org"]],
            "logs": [["message": "hello", "level": "warning"]],
        ]
        let (status, result) = try await server.request("POST", "/api/v1/runs/\(id)/batch", json: body)
        #expect(status == 200)
        #expect(result?["metrics_written"] == 102)
        let (_, again) = try await server.request("POST", "/api/v1/runs/\(id)/batch", json: ["rows": .array(rows)])
        #expect(again?["metrics_written"] == 0)
        #expect(again?["metrics_ignored"] == 100)
        let (_, run) = try await server.request("GET", "/api/v1/runs/\(id)")
        #expect(run?["params"]?["lr"] == 0.1)
        #expect(run?["tags"]?["team"] == "vision")
        #expect(run?["links"]?.arrayValue?.count == 1)
        #expect(run?["metrics"]?["loss"]?["count"] == 100)
        let (_, grad) = try await server.request("GET", "/api/v1/runs/\(id)/metrics?key=grad")
        let values = grad?["points"]?.arrayValue?.compactMap { $0["value"]?.doubleValue } ?? []
        #expect(values.count == 2)
        #expect(values.first?.isNaN == true)
        #expect(values.last == .infinity)
        #expect(grad?["points"]?.arrayValue?.map { $0["step"] } == [0, 1])
        let (_, logs) = try await server.request("GET", "/api/v1/runs/\(id)/logs")
        #expect(logs?["logs"]?.arrayValue?.first?["level"] == "warning")
        // Single-item endpoints.
        #expect(
            try await server.request("POST", "/api/v1/runs/\(id)/metrics", json: ["key": "loss", "value": 0.001]).status
                == 200
        )
        #expect(
            try await server.request("POST", "/api/v1/runs/\(id)/params", json: ["key": "wd", "value": 0.1]).status
                == 204
        )
        #expect(
            try await server.request("POST", "/api/v1/runs/\(id)/tags", json: ["key": "stage", "value": "2"]).status
                == 204
        )
        #expect(
            try await server.request("POST", "/api/v1/runs/\(id)/links", json: ["label": "pr", "url": "https://x"])
                .status == 204
        )
        #expect(try await server.request("POST", "/api/v1/runs/\(id)/logs", json: ["message": "bye"]).status == 204)
        let (_, after) = try await server.request("GET", "/api/v1/runs/\(id)/metrics?key=loss")
        #expect(after?["points"]?.arrayValue?.last?["step"] == 100)
    }

    @Test("a log is followed from its end: tail gives the last lines, after=next only what came since")
    func followLog() async throws {
        let temp = TemporaryDirectory("quill-server")
        let server = try await ServerProcess.start(data: temp.path)
        let id = try await createRun(server)
        let first: JSONValue = ["logs": .array((1...25).map { ["message": .string("line \($0)")] })]
        #expect(try await server.request("POST", "/api/v1/runs/\(id)/batch", json: first).status == 200)
        let (_, tail) = try await server.request("GET", "/api/v1/runs/\(id)/logs?tail=5")
        #expect(tail?["logs"]?.arrayValue?.map { $0["message"] } == (21...25).map { .string("line \($0)") })
        #expect(tail?["next"] == 25 && tail?["total"] == 25)
        let (_, nothing) = try await server.request("GET", "/api/v1/runs/\(id)/logs?after=25")
        #expect(nothing?["logs"] == [] && nothing?["next"] == 25)
        #expect(try await server.request("POST", "/api/v1/runs/\(id)/logs", json: ["message": "line 26"]).status == 204)
        let (_, since) = try await server.request("GET", "/api/v1/runs/\(id)/logs?after=25")
        #expect(since?["logs"]?.arrayValue?.map { $0["message"] } == ["line 26"])
        #expect(since?["next"] == 26 && since?["total"] == 26)
        let (_, page) = try await server.request("GET", "/api/v1/runs/\(id)/logs?after=10&limit=3")
        #expect(page?["logs"]?.arrayValue?.map { $0["message"] } == ["line 11", "line 12", "line 13"])
        #expect(page?["next"] == 13)
        let (_, all) = try await server.request("GET", "/api/v1/runs/\(id)/logs?tail=100")
        #expect(all?["logs"]?.arrayValue?.count == 26, "a tail longer than the log is the whole log")
        for bad in ["after=-1", "tail=-1", "after=x", "tail=100001", "after=9223372036854775807"] {
            #expect(try await server.request("GET", "/api/v1/runs/\(id)/logs?\(bad)").status == 400, "\(bad)")
        }
    }

    @Test("several histories in one answer: each as the single-key route writes it, in the order asked")
    func histories() async throws {
        let temp = TemporaryDirectory("quill-server")
        let server = try await ServerProcess.start(data: temp.path)
        let id = try await createRun(server)
        let metrics: [JSONValue] = (0..<300).flatMap { step -> [JSONValue] in
            [
                ["key": "loss", "value": .double(1 / Double(step + 1)), "step": .int(step)],
                ["key": "acc", "value": .double(Double(step) / 300), "step": .int(step)],
            ]
        }
        #expect(
            try await server.request("POST", "/api/v1/runs/\(id)/batch", json: ["metrics": .array(metrics)]).status
                == 200
        )
        let (status, both) = try await server.request(
            "GET",
            "/api/v1/runs/\(id)/histories?key=acc&key=loss&key=missing&max_points=50&from=10"
        )
        #expect(status == 200)
        let histories = both?["histories"]?.arrayValue ?? []
        #expect(histories.map { $0["key"] } == ["acc", "loss", "missing"])
        for key in ["acc", "loss"] {
            let (_, single) = try await server.request(
                "GET",
                "/api/v1/runs/\(id)/metrics?key=\(key)&max_points=50&from=10"
            )
            #expect(histories.first { $0["key"]?.stringValue == key } == single, "\(key) as the single-key route")
        }
        #expect(histories[0]["total_points"] == 290)
        #expect(histories[2]["points"] == [] && histories[2]["total_points"] == 0)
        let (_, empty) = try await server.request("GET", "/api/v1/runs/\(id)/histories?key=acc&from=20&to=10")
        #expect(empty?["histories"]?.arrayValue?.first?["points"] == [], "an empty step range selects nothing")
        #expect(try await server.request("GET", "/api/v1/runs/\(id)/histories").status == 400)
        let many = (0...50).map { "key=k\($0)" }.joined(separator: "&")
        let (tooMany, refused) = try await server.request("GET", "/api/v1/runs/\(id)/histories?\(many)")
        #expect(tooMany == 400)
        #expect(refused?["error"]?["message"]?.stringValue?.contains("1 to 50") == true)
    }

    @Test("metric history by step range and downsampled to a bound that keeps the spike")
    func history() async throws {
        let temp = TemporaryDirectory("quill-server")
        let server = try await ServerProcess.start(data: temp.path)
        let id = try await createRun(server)
        let metrics: [JSONValue] = (0..<5000).map { step in
            [
                "key": "loss", "value": .double(step == 3333 ? 100 : sin(Double(step))), "step": .int(step),
                "idx": .int(step),
            ]
        }
        #expect(
            try await server.request("POST", "/api/v1/runs/\(id)/batch", json: ["metrics": .array(metrics)]).status
                == 200
        )
        let (_, range) = try await server.request("GET", "/api/v1/runs/\(id)/metrics?key=loss&from=10&to=19")
        #expect(range?["points"]?.arrayValue?.map { $0["step"] } == (10...19).map { .int($0) })
        let (_, small) = try await server.request("GET", "/api/v1/runs/\(id)/metrics?key=loss&max_points=100")
        let points = small?["points"]?.arrayValue ?? []
        #expect(points.count <= 100)
        #expect(small?["downsampled"] == true)
        #expect(small?["total_points"] == 5000)
        #expect(points.contains { $0["value"]?.doubleValue == 100 })
        // Few enough buckets for the store's block summaries (20 blocks of 256 points for 9 buckets).
        let (_, blocks) = try await server.request("GET", "/api/v1/runs/\(id)/metrics?key=loss&max_points=20")
        let blockPoints = blocks?["points"]?.arrayValue ?? []
        #expect(blockPoints.count <= 20)
        #expect(blocks?["downsampled"] == true)
        #expect(blocks?["total_points"] == 5000)
        #expect(blockPoints.contains { $0["value"]?.doubleValue == 100 })
        let (_, ranged) = try await server.request(
            "GET",
            "/api/v1/runs/\(id)/metrics?key=loss&from=0&to=999&max_points=20"
        )
        #expect(ranged?["total_points"] == 1000)
        #expect(try await server.request("GET", "/api/v1/runs/\(id)/metrics?key=loss&max_points=2").status == 400)
    }

    @Test("a metrics-only batch (decoded straight from bytes) stores what the general parser stores")
    func batchFastPathMatchesGeneralPath() async throws {
        let temp = TemporaryDirectory("quill-server")
        let server = try await ServerProcess.start(data: temp.path)
        let metrics: [JSONValue] = [
            ["key": "loss", "value": 0.25, "step": 1, "idx": 0, "timestamp": "2026-11-24T16:20:01.123456Z"],
            ["key": "loss", "value": "NaN", "step": 2, "idx": 1],
            ["key": "loss", "value": "-Infinity", "step": .null, "idx": 2],
            ["key": "loss", "value": -3, "idx": 7],
            ["key": "acc", "value": 1.5e-300, "step": 9_000_000_000],
            ["key": "acc", "value": 1e19],
            ["key": "loss", "value": 0.125, "idx": 0],
        ]
        // An empty `params` member sends the second body down the general path.
        let bodies: [JSONValue] = [["metrics": .array(metrics)], ["metrics": .array(metrics), "params": [:]]]
        var histories: [[JSONValue]] = []
        for body in bodies {
            let id = try await createRun(server)
            let (status, result) = try await server.request("POST", "/api/v1/runs/\(id)/batch", json: body)
            #expect(status == 200)
            #expect(result?["metrics_written"] == 6)
            #expect(result?["metrics_ignored"] == 1)
            var history: [JSONValue] = []
            for key in ["loss", "acc"] {
                let (_, points) = try await server.request("GET", "/api/v1/runs/\(id)/metrics?key=\(key)")
                for point in points?["points"]?.arrayValue ?? [] {
                    // Times the body did not give differ between requests; the one it gave must come back.
                    if key == "loss", point["idx"] == 0 {
                        #expect(point["timestamp"] == "2026-11-24T16:20:01.123456Z")
                    }
                    history.append(
                        [
                            "key": .string(key), "idx": point["idx"] ?? .null, "step": point["step"] ?? .null,
                            "value": point["value"] ?? .null,
                        ]
                    )
                }
            }
            histories.append(history)
        }
        #expect(histories[0].count == 6)
        #expect(histories[0] == histories[1])
    }

    @Test("search with the query language, sorting and cursor pages; a bad query points at the column")
    func search() async throws {
        let temp = TemporaryDirectory("quill-server")
        let server = try await ServerProcess.start(data: temp.path)
        for (index, lr) in [0.1, 0.01, 0.001].enumerated() {
            let id = try await createRun(server, name: "r\(index)", config: ["lr": .double(lr)])
            _ = try await server.request(
                "POST",
                "/api/v1/runs/\(id)/metrics",
                json: ["key": "loss", "value": .double(Double(index))]
            )
        }
        let query = "params.lr%20in%20(0.01,%200.001)%20and%20metrics.loss.min%20%3C%202"
        let (status, found) = try await server.request("GET", "/api/v1/runs?project=Vision&q=\(query)")
        #expect(status == 200)
        #expect(found?["runs"]?.arrayValue?.map { $0["name"] } == ["r1"])
        let (_, page) = try await server.request("GET", "/api/v1/runs?sort=metrics.loss.min%20desc&limit=2")
        #expect(page?["runs"]?.arrayValue?.map { $0["name"] } == ["r2", "r1"])
        let cursor = try #require(page?["next_cursor"]?.stringValue)
        let (_, rest) = try await server.request(
            "GET",
            "/api/v1/runs?sort=metrics.loss.min%20desc&limit=2&cursor=\(cursor)"
        )
        #expect(rest?["runs"]?.arrayValue?.map { $0["name"] } == ["r0"])
        let (bad, error) = try await server.request("GET", "/api/v1/runs?q=params.lr%20%3C")
        #expect(bad == 400)
        #expect(error?["error"]?["message"]?.stringValue?.contains("column 12") == true)
    }

    @Test("status, healthz and Prometheus metrics")
    func status() async throws {
        let temp = TemporaryDirectory("quill-server")
        let server = try await ServerProcess.start(data: temp.path)
        _ = try await createRun(server)
        let health = try await server.request("GET", "/healthz")
        #expect(health.status == 200)
        #expect(health.body?["status"] == "ok")
        #expect(health.body?["database"] == "ok")
        let (_, status) = try await server.request("GET", "/api/v1/status")
        #expect(status?["counts"]?["runs"] == 1)
        #expect(status?["version"]?.stringValue?.isEmpty == false)
        let metrics = try await server.text("/metrics")
        #expect(metrics.contains("quill_http_requests_total{method=\"POST\",status=\"201\"} 1"))
        #expect(metrics.contains("quill_uptime_seconds"))
        #expect(metrics.contains("quill_http_requests_in_flight 1"), "the scrape itself is the one request in flight")
    }
}

@Suite("REST API: bad input and failures")
struct ServerBadInputTests {
    @Test("malformed JSON, wrong types, unknown fields, unknown runs and oversized bodies get clear errors")
    func badInput() async throws {
        let temp = TemporaryDirectory("quill-server")
        let server = try await ServerProcess.start(data: temp.path, extraArguments: ["--max-body-mib", "1"])
        let (_, created) = try await server.request("POST", "/api/v1/runs", json: ["project": "p"])
        let id = try #require(created?["id"]?.stringValue)
        let cases: [(JSONValue?, [UInt8]?, Int, String)] = [
            (nil, Array("{not json".utf8), 400, "malformed"),
            (["metrics": "loss"], nil, 400, "invalid_argument"),
            (["metrics": [["key": "loss", "value": "fast"]]], nil, 400, "invalid_argument"),
            (["metrics": [["key": "loss"]]], nil, 400, "invalid_argument"),
            (["metrics": [["key": "loss", "value": 1, "colour": "red"]]], nil, 400, "invalid_argument"),
            (["surprise": 1], nil, 400, "invalid_argument"),
            (nil, Array(repeating: UInt8(ascii: " "), count: 2 << 20), 413, "payload_too_large"),
        ]
        for (json, raw, expected, code) in cases {
            let (status, body) = try await server.request("POST", "/api/v1/runs/\(id)/batch", json: json, raw: raw)
            #expect(status == expected, "\(String(describing: json))")
            #expect(body?["error"]?["code"] == .string(code), "\(String(describing: body))")
            #expect(body?["error"]?["message"]?.stringValue?.isEmpty == false)
        }
        let (missing, body) = try await server.request(
            "POST",
            "/api/v1/runs/zzzz9999/batch",
            json: ["params": ["a": 1]]
        )
        #expect(missing == 404)
        #expect(body?["error"]?["code"] == "not_found")
        #expect(try await server.request("GET", "/api/v1/runs/..%2F..%2Fetc").status == 404)
        // Odd names are stored as data, never as paths.
        let odd = try await server.request(
            "POST",
            "/api/v1/runs",
            json: ["project": "p", "name": "../../etc/passwd\u{202E}☃"]
        )
        #expect(odd.status == 201)
        #expect(odd.body?["name"] == "../../etc/passwd\u{202E}☃")
        let nul = try await server.request("POST", "/api/v1/runs", json: ["project": "p", "name": "a\u{0}b"])
        #expect(nul.status == 400)
        #expect(nul.body?["error"]?["message"]?.stringValue?.contains("NUL") == true)
        let nulKey = try await server.request(
            "POST",
            "/api/v1/runs/\(id)/batch",
            json: ["rows": [["_idx": 0, "lo\u{0}ss": 1]]]
        )
        #expect(nulKey.status == 400)
        let entries = try FileManager.default.contentsOfDirectory(atPath: temp.path).sorted()
        #expect(entries.allSatisfy { $0.hasPrefix("quill.db") || $0 == "server.json" })
    }

    @Test("100 concurrent writers to one run lose nothing")
    func concurrentWriters() async throws {
        let temp = TemporaryDirectory("quill-server")
        let server = try await ServerProcess.start(data: temp.path)
        let (_, created) = try await server.request("POST", "/api/v1/runs", json: ["project": "p"])
        let id = try #require(created?["id"]?.stringValue)
        try await withThrowingTaskGroup(of: Int.self) { group in
            for writer in 0..<100 {
                group.addTask {
                    let metrics: [JSONValue] = (0..<20).map {
                        ["key": .string("w\(writer)"), "value": .double(Double($0))]
                    }
                    return try await server.request(
                        "POST",
                        "/api/v1/runs/\(id)/batch",
                        json: ["metrics": .array(metrics)]
                    ).status
                }
            }
            for try await status in group { #expect(status == 200) }
        }
        let (_, status) = try await server.request("GET", "/api/v1/status")
        #expect(status?["counts"]?["metric_points"] == 2000)
    }

    @Test("a server killed with SIGKILL during ingest keeps every batch it acknowledged")
    func killedDuringIngest() async throws {
        let temp = TemporaryDirectory("quill-server")
        let server = try await ServerProcess.start(data: temp.path)
        let (_, created) = try await server.request("POST", "/api/v1/runs", json: ["project": "p"])
        let id = try #require(created?["id"]?.stringValue)
        let acknowledged = Acknowledged()
        // The writer stops when a request fails (the server is gone). It is never cancelled: cancelling a
        // task with a URLSession request in flight can deadlock swift-corelibs-foundation.
        let writer = Task {
            var batch = 0
            while true {
                let metrics: [JSONValue] = (0..<500).map {
                    ["key": "loss", "value": .double(Double($0)), "idx": .int(batch * 500 + $0)]
                }
                guard
                    let (status, _) = try? await server.request(
                        "POST",
                        "/api/v1/runs/\(id)/batch",
                        json: ["metrics": .array(metrics)]
                    ),
                    status == 200
                else { return }
                acknowledged.add(500)
                batch += 1
            }
        }
        // Generous: on a loaded machine ten batches have taken over 30 s.
        let running = await eventually(timeout: .seconds(120)) { acknowledged.value >= 5000 }
        #expect(running)
        server.kill(SIGKILL)
        _ = await writer.result
        let count = acknowledged.value
        let restarted = try await ServerProcess.start(data: temp.path)
        let (_, history) = try await restarted.request("GET", "/api/v1/runs/\(id)/metrics?key=loss")
        let stored = history?["total_points"]?.intValue ?? -1
        #expect(stored >= count, "acknowledged \(count), stored \(stored)")
        #expect(stored <= count + 500)
    }
}

final class Acknowledged: @unchecked Sendable {
    // @unchecked Sendable: `count` is only touched under `lock`.
    private let lock = NSLock()
    private var count = 0

    func add(_ amount: Int) {
        lock.lock()
        count += amount
        lock.unlock()
    }

    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }
}
