import Foundation
import QuillCore
import QuillTesting
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Issue 9 against a real `quill serve`: client numbers, strings and queries that used to stop the server
/// or answer 500, and the rules that replaced them.
@Suite("Ingest and query hardening against a real server")
struct IngestHardeningTests {
    func createRun(
        _ server: ServerProcess,
        key: String? = nil,
        body: JSONValue = ["project": "p"]
    ) async throws
        -> String
    {
        let (status, run) = try await server.request("POST", "/api/v1/runs", json: body, key: key)
        #expect(status == 201)
        return try #require(run?["id"]?.stringValue)
    }

    /// Sends raw bytes and returns the status, the body and the `X-Request-Id` header.
    func send(
        _ server: ServerProcess,
        _ method: String,
        _ path: String,
        _ body: String? = nil
    ) async throws
        -> (status: Int, body: JSONValue?, requestID: String?)
    {
        let url = try #require(URL(string: "http://127.0.0.1:\(server.port)\(path)"))
        var request = URLRequest(url: url)
        request.httpMethod = method
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as? HTTPURLResponse
        return (
            http?.statusCode ?? 0, data.isEmpty ? nil : try? JSONParser.parse(Array(data)),
            http?.value(forHTTPHeaderField: "X-Request-Id")
        )
    }

    /// Percent-encodes everything but ASCII letters and digits.
    static func escaped(_ text: String) -> String {
        let plain = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        return text.addingPercentEncoding(withAllowedCharacters: plain) ?? text
    }

    func expectAlive(_ server: ServerProcess, after what: String) async throws {
        #expect(server.process.isRunning, "the server stopped after \(what)")
        let (status, _) = try await server.request("GET", "/healthz")
        #expect(status == 200, "the server does not answer after \(what)")
    }

    /// Integers as JSON text, each with whether it is a valid index and a valid step.
    static let extremeNumbers: [(text: String, index: Bool, step: Bool)] = [
        ("9223372036854775807", false, false),  // Int.max
        ("-9223372036854775808", false, false),  // Int.min
        ("9223372036854775808", false, false),  // Int.max + 1
        ("-1", false, true),
        ("0", true, true),
        ("9007199254740991", true, true),  // 2^53 - 1
        ("-9007199254740991", false, true),
        ("9007199254740992", false, false),  // 2^53
        ("1e308", false, false),
        ("-1e308", false, false),
        ("1.5", false, false),
        ("3.0", true, true),
        ("\"12\"", false, false),
        ("true", false, false),
        (String(repeating: "9", count: 400), false, false),
        ("-" + String(repeating: "9", count: 400), false, false),
    ]

    @Test("extreme idx and step values answer 400 naming the field on every batch route; the server stays up")
    func extremeIntegersFuzz() async throws {
        let temp = TemporaryDirectory("quill-server")
        let server = try await ServerProcess.start(data: temp.path)
        let run = try await createRun(server)
        for (offset, number) in Self.extremeNumbers.enumerated() {
            // Each case gets a fresh key, then a point without idx and step is sent after it, as the
            // original crash needed (Int.max stored, then `lastIndex + 1`).
            let key = "k\(offset)"
            let bodies: [(path: String, body: String, field: String, valid: Bool)] = [
                ("batch", #"{"metrics":[{"key":"\#(key)i","value":1,"idx":\#(number.text)}]}"#, "idx", number.index),
                ("batch", #"{"metrics":[{"key":"\#(key)s","value":1,"step":\#(number.text)}]}"#, "step", number.step),
                ("batch", #"{"rows":[{"_idx":\#(number.text),"\#(key)r":1}]}"#, "_idx", number.index),
                ("batch", #"{"rows":[{"step":\#(number.text),"\#(key)t":1}]}"#, "step", number.step),
                ("metrics", #"{"key":"\#(key)m","value":1,"idx":\#(number.text)}"#, "idx", number.index),
                ("metrics", #"{"key":"\#(key)n","value":1,"step":\#(number.text)}"#, "step", number.step),
            ]
            for (path, body, field, valid) in bodies {
                let (status, answer, _) = try await send(server, "POST", "/api/v1/runs/\(run)/\(path)", body)
                if valid {
                    #expect(status == 200, "\(body) -> \(status) \(String(describing: answer))")
                } else {
                    #expect(status == 400, "\(body) -> \(status)")
                    let message = answer?["error"]?["message"]?.stringValue ?? ""
                    #expect(message.contains(field), "\(body): \(message)")
                }
                try await expectAlive(server, after: body)
            }
            // The follow-up points without idx or step.
            for suffix in ["i", "s", "r", "t", "m", "n"] {
                let body = #"{"metrics":[{"key":"\#(key)\#(suffix)","value":2}]}"#
                let (status, _, _) = try await send(server, "POST", "/api/v1/runs/\(run)/batch", body)
                #expect(status == 200 || status == 400 || status == 409, "\(body) -> \(status)")
                try await expectAlive(server, after: body)
            }
        }
        // The issue's exact request, and the largest valid index followed by a point without one.
        let original = #"{"metrics":[{"key":"k","value":1,"idx":9223372036854775807},{"key":"k","value":2}]}"#
        #expect(try await send(server, "POST", "/api/v1/runs/\(run)/batch", original).status == 400)
        let largest = #"{"metrics":[{"key":"edge","value":1,"idx":9007199254740991},{"key":"edge","value":2}]}"#
        let (status, answer, _) = try await send(server, "POST", "/api/v1/runs/\(run)/batch", largest)
        #expect(status == 409)  // well formed, but the series has no index left
        #expect(answer?["error"]?["message"]?.stringValue?.contains("idx") == true)
        try await expectAlive(server, after: "the largest index")
    }

    @Test("extreme query parameters of history, logs and search answer 400, never 500")
    func extremeQueryParameters() async throws {
        let temp = TemporaryDirectory("quill-server")
        let server = try await ServerProcess.start(data: temp.path)
        let run = try await createRun(server)
        let batch = #"{"metrics":[{"key":"loss","value":1,"step":0},{"key":"loss","value":2,"step":1}]}"#
        #expect(try await send(server, "POST", "/api/v1/runs/\(run)/batch", batch).status == 200)
        let values = [
            "9223372036854775807", "-9223372036854775808", "9223372036854775808", "-1", "9007199254740992",
            "1e308", "1.5", String(repeating: "9", count: 400), "abc", "",
        ]
        for value in values {
            for query in [
                "key=loss&from=\(value)", "key=loss&to=\(value)", "key=loss&max_points=\(value)",
                "key=loss&from=0&to=\(value)&max_points=\(value)",
            ] {
                let (status, _, _) = try await send(server, "GET", "/api/v1/runs/\(run)/metrics?\(query)")
                #expect(status == 200 || status == 400, "\(query) -> \(status)")
                try await expectAlive(server, after: query)
            }
            let cursor = Self.escaped(
                Data(#"{"v":\#(value.isEmpty ? "0" : value),"s":\#(value.isEmpty ? "0" : value)}"#.utf8)
                    .base64EncodedString()
            )
            for path in [
                "/api/v1/runs/\(run)/logs?limit=\(value)", "/api/v1/runs?limit=\(value)",
                "/api/v1/runs?cursor=\(cursor)", "/api/v1/runs?cursor=\(value)&sort=metrics.loss.min",
            ] {
                let (status, _, _) = try await send(server, "GET", path)
                #expect(status == 200 || status == 400, "\(path) -> \(status)")
            }
        }
        // In range: the whole step range, and the largest max_points.
        let (status, body, _) = try await send(
            server,
            "GET",
            "/api/v1/runs/\(run)/metrics?key=loss&from=-9007199254740991&to=9007199254740991&max_points=1000000"
        )
        #expect(status == 200)
        #expect(body?["total_points"] == 2)
        let tooLarge = try await send(server, "GET", "/api/v1/runs/\(run)/metrics?key=loss&max_points=1000001")
        #expect(tooLarge.status == 400)
        #expect(tooLarge.body?["error"]?["message"]?.stringValue?.contains("max_points") == true)
        #expect(
            try await send(server, "GET", "/api/v1/runs/\(run)/metrics?key=loss&from=9007199254740992").status == 400
        )
    }

    @Test("a NUL byte in any key, value, name or link that reaches the store is refused with 400")
    func nulRefused() async throws {
        let temp = TemporaryDirectory("quill-server")
        let server = try await ServerProcess.start(data: temp.path)
        let run = try await createRun(server)
        let nul = "a\u{0}b"
        let cases: [(String, String, JSONValue)] = [
            ("POST", "/api/v1/runs/\(run)/batch", ["tags": [nul: "v"]]),
            ("POST", "/api/v1/runs/\(run)/batch", ["tags": ["team": .string(nul)]]),
            ("POST", "/api/v1/runs/\(run)/batch", ["params": [nul: 1]]),
            ("POST", "/api/v1/runs/\(run)/batch", ["params": ["lr": .string(nul)]]),
            ("POST", "/api/v1/runs/\(run)/batch", ["params": ["opt": ["name": .string(nul)]]]),
            ("POST", "/api/v1/runs/\(run)/batch", ["links": [["label": .string(nul), "url": "http://x"]]]),
            ("POST", "/api/v1/runs/\(run)/batch", ["metrics": [["key": .string(nul), "value": 1]]]),
            ("POST", "/api/v1/runs/\(run)/batch", ["rows": [[nul: 1]]]),
            ("POST", "/api/v1/runs/\(run)/tags", ["key": .string(nul), "value": "v"]),
            ("POST", "/api/v1/runs/\(run)/tags", ["key": "k", "value": .string(nul)]),
            ("POST", "/api/v1/runs/\(run)/params", ["key": "k", "value": .string(nul)]),
            ("POST", "/api/v1/runs/\(run)/links", ["label": "l", "url": .string(nul)]),
            ("POST", "/api/v1/runs", ["project": "p", "name": .string(nul)]),
            ("POST", "/api/v1/runs", ["project": .string(nul)]),
            ("POST", "/api/v1/runs", ["project": "p", "tags": ["team": .string(nul)]]),
            ("POST", "/api/v1/runs", ["project": "p", "config": ["a": .string(nul)]]),
            ("PATCH", "/api/v1/runs/\(run)", ["name": .string(nul)]),
            ("PATCH", "/api/v1/runs/\(run)", ["summary": ["acc": .string(nul)]]),
        ]
        for (method, path, body) in cases {
            let (status, answer) = try await server.request(method, path, json: body)
            #expect(status == 400, "\(method) \(path) \(body) -> \(status)")
            #expect(answer?["error"]?["message"]?.stringValue?.contains("NUL") == true)
        }
        #expect(try await send(server, "GET", "/api/v1/runs/\(run)/metrics?key=a%00b").status == 400)
        // Nothing was stored under a cut key.
        let (_, details) = try await server.request("GET", "/api/v1/runs/\(run)")
        #expect(details?["tags"]?.objectValue?.isEmpty == true)
        #expect(details?["params"]?.objectValue?.isEmpty == true)
    }

    @Test("NFC and NFD spellings of a key are one key, in batches, rows, tags, params, history and queries")
    func unicodeKeysNormalized() async throws {
        let temp = TemporaryDirectory("quill-server")
        let server = try await ServerProcess.start(data: temp.path)
        let run = try await createRun(server)
        let nfc = "caf\u{E9}"
        let nfd = "cafe\u{301}"
        #expect(Array(nfc.utf8) != Array(nfd.utf8))
        let body: JSONValue = [
            "metrics": [
                ["key": .string(nfc), "value": 1, "idx": 0], ["key": .string(nfd), "value": 2, "idx": 1],
                ["key": .string(nfd), "value": 3],
            ],
            "tags": [nfd: "x"],
            "params": [nfd: 1],
        ]
        let (status, result) = try await server.request("POST", "/api/v1/runs/\(run)/batch", json: body)
        #expect(status == 200)
        #expect(result?["metrics_written"] == 3)
        // Rows go through the general parser.
        let rows: JSONValue = ["rows": [[nfd: 4, "_idx": 3]]]
        #expect(try await server.request("POST", "/api/v1/runs/\(run)/batch", json: rows).body?["metrics_written"] == 1)
        for spelling in [nfc, nfd] {
            let (_, history) = try await server.request(
                "GET",
                "/api/v1/runs/\(run)/metrics?key=\(Self.escaped(spelling))"
            )
            #expect(history?["points"]?.arrayValue?.map { $0["value"]?.doubleValue } == [1, 2, 3, 4])
            let query = Self.escaped("metrics.`\(spelling)`.count = 4")
            let (_, page) = try await server.request("GET", "/api/v1/runs?q=\(query)")
            #expect(page?["runs"]?.arrayValue?.count == 1, "query with \(spelling == nfc ? "NFC" : "NFD")")
        }
        let (_, details) = try await server.request("GET", "/api/v1/runs/\(run)")
        let metricKeys = details?["metrics"]?.objectValue?.keys.map { Array($0.utf8) }
        #expect(metricKeys == [Array(nfc.utf8)])
        #expect(details?["tags"]?.objectValue?.keys.map { Array($0.utf8) } == [Array(nfc.utf8)])
        #expect(details?["params"]?.objectValue?.keys.map { Array($0.utf8) } == [Array(nfc.utf8)])
    }

    @Test("queries nested or long past the caps answer 400 that says so; at the caps they run")
    func queryCaps() async throws {
        let temp = TemporaryDirectory("quill-server")
        let server = try await ServerProcess.start(data: temp.path)
        let run = try await createRun(server, body: ["project": "p", "tags": ["team": "a"]])
        #expect(
            try await server.request(
                "POST",
                "/api/v1/runs/\(run)/batch",
                json: ["metrics": [["key": "loss", "value": 1]]]
            )
            .status == 200
        )
        func search(_ query: String) async throws -> (status: Int, body: JSONValue?) {
            let (status, body, _) = try await send(server, "GET", "/api/v1/runs?q=\(Self.escaped(query))")
            return (status, body)
        }
        // At the caps: 20 levels of `not` (an even number, so the run matches), 20 parentheses, 100 terms.
        let notAtCap = String(repeating: "not ", count: 20) + "metrics.loss.latest = 1"
        #expect(try await search(notAtCap).body?["runs"]?.arrayValue?.count == 1)
        let parensAtCap = String(repeating: "(", count: 20) + "tags.team = a" + String(repeating: ")", count: 20)
        #expect(try await search(parensAtCap).body?["runs"]?.arrayValue?.count == 1)
        let mixedAtCap =
            String(repeating: "not (", count: 10) + "params.x = 1 or metrics.loss.min < 5"
            + String(repeating: ")", count: 10)
        #expect(try await search(mixedAtCap).status == 200)
        let orAtCap = (0..<100).map { "metrics.loss.max = \($0)" }.joined(separator: " or ")
        #expect(try await search(orAtCap).body?["runs"]?.arrayValue?.count == 1)
        let andAtCap = (0..<100).map { _ in "tags.team = a" }.joined(separator: " and ")
        #expect(try await search(andAtCap).body?["runs"]?.arrayValue?.count == 1)
        let listAtCap = "metrics.loss.max in (" + (0..<250).map(String.init).joined(separator: ", ") + ")"
        let list = try await search(listAtCap)
        #expect(
            list.body?["runs"]?.arrayValue?.count == 1,
            "\(list.status) \(String(describing: list.body).prefix(300))"
        )
        // Every cap reached in one query.
        let allAtCaps =
            String(repeating: "not (", count: 10)
            + (0..<98).map { "metrics.loss.min = \($0)" }.joined(separator: " or ")
            + " or tags.team in (" + (0..<125).map { "t\($0)" }.joined(separator: ", ") + ")"
            + " or metrics.loss.max in (" + (0..<125).map(String.init).joined(separator: ", ") + ")"
            + String(repeating: ")", count: 10)
        #expect(try await search(allAtCaps).status == 200)
        // Past the caps, and the issue's own queries.
        let refused = [
            String(repeating: "not ", count: 21) + "metrics.loss.latest = 1",
            String(repeating: "not ", count: 41) + "metrics.loss.latest = 1",
            String(repeating: "(", count: 21) + "tags.team = a" + String(repeating: ")", count: 21),
            String(repeating: "(", count: 300) + "tags.team = a" + String(repeating: ")", count: 300),
            (0..<988).map { "metrics.loss.max = \($0)" }.joined(separator: " or "),
            (0..<1000).map { _ in "tags.team = a" }.joined(separator: " and "),
            "metrics.loss.max in (" + (0..<251).map(String.init).joined(separator: ", ") + ")",
        ]
        for query in refused {
            let (status, body) = try await search(query)
            #expect(status == 400, "\(query.prefix(60))… -> \(status)")
            let message = body?["error"]?["message"]?.stringValue ?? ""
            #expect(message.contains("more than"), "\(message.prefix(200))")
        }
        try await expectAlive(server, after: "long queries")
    }

    @Test("every response carries X-Request-Id; a 5xx is logged with it")
    func requestIDAndServerErrorLog() async throws {
        let temp = TemporaryDirectory("quill-server")
        let log = temp.file("server.log")
        let server = try await ServerProcess.start(data: temp.path, stderrPath: log)
        let run = try await createRun(server)
        let ok = try await send(server, "GET", "/healthz")
        #expect(ok.requestID?.isEmpty == false)
        let notFound = try await send(server, "GET", "/api/v1/runs/nope")
        #expect(notFound.status == 404)
        #expect(notFound.requestID?.isEmpty == false)
        #expect(notFound.requestID != ok.requestID)
        // Break the database under the running server: the next batch fails inside the store (a 500).
        let python = """
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            db.execute("DROP TABLE metric_blocks")
            db.commit()
            """
        let dropped = try await BuiltProducts.run("/usr/bin/env", ["python3", "-c", python, temp.file("quill.db")])
        #expect(dropped.status == 0, "\(dropped.stderr)")
        let failed = try await send(
            server,
            "POST",
            "/api/v1/runs/\(run)/batch",
            #"{"metrics":[{"key":"k","value":1}]}"#
        )
        #expect(failed.status == 500)
        let id = try #require(failed.requestID)
        #expect(failed.body?["error"]?["message"]?.stringValue?.contains("internal error") == true)
        #expect(failed.body?["error"]?["message"]?.stringValue?.contains(id) == true)
        let text = try await pollFile(log, timeout: 10) { $0.contains(id) }
        let line = text.split(separator: "\n").first { $0.contains(id) }.map(String.init) ?? ""
        #expect(line.contains("500"), "\(line)")
        #expect(line.contains("/api/v1/runs/\(run)/batch"), "\(line)")
    }

    func pollFile(_ path: String, timeout: TimeInterval, until done: (String) -> Bool) async throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var text = ""
        while Date() < deadline {
            text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            if done(text) { return text }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("the log never matched; it holds: \(text.suffix(2000))")
        return text
    }

    @Test("a taken run id answers the same 409 whether or not the caller may read the run")
    func runIDExistenceOracle() async throws {
        let temp = TemporaryDirectory("quill-server")
        let server = try await ServerProcess.start(data: temp.path)
        let alice = try await server.createUser("alice")
        let bob = try await server.createUser("bob")
        let secret = try await createRun(server, key: alice, body: ["project": "private", "id": "alicerun"])
        #expect(secret == "alicerun")
        // Bob cannot see it...
        #expect(try await server.request("GET", "/api/v1/runs/alicerun", key: bob).status == 404)
        // ...and creating it answers exactly what Alice gets for her own taken id.
        let asBob = try await server.request(
            "POST",
            "/api/v1/runs",
            json: ["project": "p", "id": "alicerun"],
            key: bob
        )
        let asAlice = try await server.request(
            "POST",
            "/api/v1/runs",
            json: ["project": "p", "id": "alicerun"],
            key: alice
        )
        #expect(asBob.status == 409)
        #expect(asBob.status == asAlice.status)
        #expect(asBob.body == asAlice.body)
        #expect(asBob.body?["error"]?["message"]?.stringValue?.contains("private") == false)
        // A free id still works.
        let fresh = try await createRun(server, key: bob, body: ["project": "p", "id": "bobsrun1"])
        #expect(fresh == "bobsrun1")
    }

    @Test("a final status alone sets ended_at; '+' in a query string is a space")
    func patchEndsRunAndPlusIsSpace() async throws {
        let temp = TemporaryDirectory("quill-server")
        let server = try await ServerProcess.start(data: temp.path)
        let run = try await createRun(server)
        let (status, patched) = try await server.request("PATCH", "/api/v1/runs/\(run)", json: ["status": "failed"])
        #expect(status == 200)
        #expect(patched?["ended_at"]?.stringValue != nil)
        #expect(patched?["duration_seconds"]?.doubleValue.map { $0 >= 0 } == true)
        // A later PATCH keeps the recorded end.
        let (_, again) = try await server.request("PATCH", "/api/v1/runs/\(run)", json: ["status": "failed"])
        #expect(again?["ended_at"] == patched?["ended_at"])
        // Created already finished.
        let (_, done) = try await server.request("POST", "/api/v1/runs", json: ["project": "p", "status": "completed"])
        #expect(done?["ended_at"]?.stringValue != nil)
        // What Python's requests sends for params={"q": "status = failed"}.
        let (searched, page, _) = try await send(server, "GET", "/api/v1/runs?q=status+%3D+failed")
        #expect(searched == 200)
        #expect(page?["runs"]?.arrayValue?.map { $0["id"] } == [.string(run)])
        let (plain, plainPage, _) = try await send(server, "GET", "/api/v1/runs?q=status+=+failed&limit=5")
        #expect(plain == 200)
        #expect(plainPage?["runs"]?.arrayValue?.count == 1)
    }

    @Test("rows without _idx sync once: via 127.0.0.1, then localhost, then without sync.json, 100 points")
    func syncRowsWithoutIndexIdempotent() async throws {
        let data = TemporaryDirectory("quill-server")
        let home = TemporaryDirectory("quill-home")
        let server = try await ServerProcess.start(data: data.path)
        let environment = [
            "QUILL_HOME": home.path, "QUILL_CAPTURE_GIT": "0", "QUILL_CAPTURE_DEPS": "0",
            "QUILL_SYSTEM_METRICS_INTERVAL": "0", "QUILL_RUN_DIR": "", "QUILL_TRACKING_URI": "",
        ]
        // The README's Python example, as written there.
        let script = """
            import json, os

            path = os.path.join(os.environ["QUILL_RUN_DIR"], "metrics.jsonl")
            with open(path, "a") as f:
                for step in range(100):
                    loss = 1.0 / (step + 1)
                    f.write(json.dumps({"step": step, "loss": loss}) + "\\n")
            """
        let logged = try await BuiltProducts.run(
            BuiltProducts.path("quill"),
            ["run", "--name", "pyrows", "--", "python3", "-c", script],
            environment: environment
        )
        #expect(logged.status == 0, "\(logged.stderr)")
        let runFolder = try #require(try FileManager.default.contentsOfDirectory(atPath: home.path + "/runs").first)
        let urls = [
            "http://127.0.0.1:\(server.port)", "http://localhost:\(server.port)", "http://127.0.0.1:\(server.port)/",
        ]
        var written: [Int] = []
        for (attempt, url) in (urls + [urls[0]]).enumerated() {
            if attempt == 3 { try FileManager.default.removeItem(atPath: home.path + "/runs/\(runFolder)/sync.json") }
            let sync = try await BuiltProducts.run(
                BuiltProducts.path("quill"),
                ["sync", "pyrows", "--server", url, "--json"],
                environment: environment
            )
            #expect(sync.status == 0, "\(url): \(sync.stderr)")
            written.append(
                try JSONParser.parse(sync.stdout)["runs"]?.arrayValue?.first?["points_written"]?.intValue ?? -1
            )
            let (_, page) = try await server.request("GET", "/api/v1/runs?q=name%20%3D%20pyrows")
            let loss = page?["runs"]?.arrayValue?.first?["metrics"]?["loss"]
            #expect(loss?["count"] == 100, "after syncing via \(url)")
            #expect(loss?["latest_step"] == 99)
        }
        #expect(written == [100, 0, 0, 0])
        // sync.json as an earlier version wrote it: keyed by the URL, without the next row index. It is
        // picked up (nothing is re-sent) and kept under the server's id from then on.
        let syncPath = home.path + "/runs/\(runFolder)/sync.json"
        let current = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: syncPath))))
        let (serverKey, entry) = try #require(current["servers"]?.objectValue?.first)
        #expect(serverKey.hasPrefix("id:"))
        var old = try #require(entry.objectValue)
        old["metrics_next_idx"] = nil
        let oldURL = "http://127.0.0.1:\(server.port)"
        try Data(JSONWriter.bytes(["servers": [oldURL: .object(old)]])).write(to: URL(fileURLWithPath: syncPath))
        let again = try await BuiltProducts.run(
            BuiltProducts.path("quill"),
            ["sync", "pyrows", "--server", oldURL, "--json"],
            environment: environment
        )
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try JSONParser.parse(again.stdout)["runs"]?.arrayValue?.first?["rows_sent"] == 0)
        let migrated = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: syncPath))))
        #expect(migrated["servers"]?[serverKey]?["metrics_next_idx"] == 100)
        // The points keep the rows' numbers, as local readers give them.
        let id = try #require(
            try await server.request("GET", "/api/v1/runs?q=name%20%3D%20pyrows").body?["runs"]?.arrayValue?.first?[
                "id"
            ]?.stringValue
        )
        let (_, history) = try await server.request("GET", "/api/v1/runs/\(id)/metrics?key=loss")
        #expect(history?["points"]?.arrayValue?.map { $0["idx"]?.intValue ?? -1 } == Array(0..<100))
        let (_, status) = try await server.request("GET", "/api/v1/status")
        #expect(status?["server_id"]?.stringValue?.count == 32)
    }
}
