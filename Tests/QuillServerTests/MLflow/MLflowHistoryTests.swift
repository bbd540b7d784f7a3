import Foundation
import QuillCore
import QuillTesting
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A point as a test logs it through Quill's API and expects it back from MLflow's: milliseconds, step, value.
struct HistoryPoint: Equatable, CustomStringConvertible {
    var milliseconds: Int64
    var step: Int64
    var value: Double

    static func == (a: HistoryPoint, b: HistoryPoint) -> Bool {
        a.milliseconds == b.milliseconds && a.step == b.step
            && (a.value.isNaN ? b.value.isNaN : a.value.bitPattern == b.value.bitPattern)
    }

    var description: String { "(\(milliseconds), \(step), \(value))" }

    /// MLflow's `get-history` order: time, step, value (NaN as 0).
    static func mlflowOrder(_ a: HistoryPoint, _ b: HistoryPoint) -> Bool {
        func stored(_ value: Double) -> Double { value.isNaN ? 0 : value }
        if a.milliseconds != b.milliseconds { return a.milliseconds < b.milliseconds }
        if a.step != b.step { return a.step < b.step }
        return stored(a.value) < stored(b.value)
    }

    /// The point of an MLflow metric object.
    init?(_ json: JSONValue) {
        guard let milliseconds = json["timestamp"]?.intValue, let step = json["step"]?.intValue,
            let value = json["value"]?.doubleValue
        else { return nil }
        self.init(milliseconds: Int64(milliseconds), step: Int64(step), value: value)
    }

    init(milliseconds: Int64, step: Int64, value: Double) {
        self.milliseconds = milliseconds
        self.step = step
        self.value = value
    }

    /// The point as Quill's batch endpoint takes it.
    var batchJSON: JSONValue {
        let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
        let shown: JSONValue =
            value.isNaN ? "NaN" : value.isInfinite ? .string(value > 0 ? "Infinity" : "-Infinity") : .double(value)
        return ["key": "loss", "value": shown, "step": .int(Int(step)), "timestamp": .string(Timestamp.string(date))]
    }
}

extension ServerProcess {
    /// Logs points of `loss` to a run through Quill's batch endpoint, in the order given, 5,000 per request.
    func logLoss(_ run: String, _ points: [HistoryPoint], key: String? = nil) async throws {
        var start = 0
        while start < points.count {
            let chunk = points[start..<min(start + 5000, points.count)]
            let (status, body) = try await request(
                "POST",
                "/api/v1/runs/\(run)/batch",
                json: ["metrics": .array(chunk.map(\.batchJSON))],
                key: key
            )
            #expect(status == 200, "\(String(describing: body))")
            start += chunk.count
        }
    }

    /// `GET` (or another method) of an MLflow path with its query written as given, answered as status and JSON.
    func mlflow(_ pathAndQuery: String, key: String? = nil) async throws -> (status: Int, body: JSONValue) {
        try await mlflow("GET", pathAndQuery, json: nil, key: key)
    }

    /// A request with another method (and a JSON body) to an MLflow path.
    func mlflow(
        _ method: String,
        _ pathAndQuery: String,
        json: JSONValue? = nil,
        key: String? = nil
    ) async throws -> (status: Int, body: JSONValue) {
        var headers: [String: String] = [:]
        if let key { headers["Authorization"] = "Bearer \(key)" }
        let answer = try await raw(
            method,
            pathAndQuery,
            body: json.map { Data(JSONWriter.bytes($0)) },
            headers: headers
        )
        return (answer.status, answer.json ?? .null)
    }

    /// The experiment id MLflow shows for a Quill run (from its artifact root).
    func experimentID(of run: String, key: String? = nil) async throws -> String {
        let (status, body) = try await mlflow("/api/2.0/mlflow/artifacts/list?run_id=\(run)", key: key)
        #expect(status == 200, "\(body)")
        let root = try #require(body["root_uri"]?.stringValue)
        let parts = root.dropFirst("mlflow-artifacts:/".count).split(separator: "/")
        return String(try #require(parts.first))
    }
}

/// Checks an MLflow error answer: its status and `error_code`, and a message.
func expectHistoryError(
    _ answer: (status: Int, body: JSONValue),
    _ status: Int,
    _ code: String,
    _ comment: String = "",
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(answer.status == status, "\(comment) \(answer.body)", sourceLocation: sourceLocation)
    #expect(answer.body["error_code"]?.stringValue == code, "\(comment) \(answer.body)", sourceLocation: sourceLocation)
    #expect(answer.body["message"]?.stringValue?.isEmpty == false, sourceLocation: sourceLocation)
}

/// `GET /api/2.0/mlflow/metrics/get-history` and `get-history-bulk-interval` of a real `quill serve`, over HTTP.
@Suite("MLflow's metric history endpoints")
struct MLflowHistoryTests {
    static let base = Int64(1_790_000_000_000)

    func history(_ server: ServerProcess, _ query: String) async throws -> (status: Int, body: JSONValue) {
        try await server.mlflow("/api/2.0/mlflow/metrics/get-history?\(query)")
    }

    /// Every page of a run's `loss`, following the tokens, and the number of requests.
    func pages(_ server: ServerProcess, _ run: String, size: Int) async throws -> ([HistoryPoint], Int) {
        var points: [HistoryPoint] = []
        var token: String?
        var requests = 0
        repeat {
            var query = "run_id=\(run)&metric_key=loss&max_results=\(size)"
            if let token { query += "&page_token=\(ServerProcess.encode(token))" }
            let (status, body) = try await history(server, query)
            #expect(status == 200, "\(body)")
            let metrics = body["metrics"]?.arrayValue ?? []
            #expect(metrics.count <= size)
            points += metrics.compactMap(HistoryPoint.init)
            token = body["next_page_token"]?.stringValue
            requests += 1
        } while token != nil && requests < 1000
        return (points, requests)
    }

    @Test("every point comes back in MLflow's order (time, step, value), NaN and infinities as strings")
    func wholeHistoryInMLflowOrder() async throws {
        let temp = TemporaryDirectory("quill-mlflow-history")
        let server = try await ServerProcess.start(data: temp.file("data"))
        let run = try await server.newRun(project: "history")
        // Logged out of time order, with ties on time broken by step, then by value.
        let logged = [
            HistoryPoint(milliseconds: Self.base + 30, step: 3, value: 0.25),
            HistoryPoint(milliseconds: Self.base + 10, step: 1, value: .nan),
            HistoryPoint(milliseconds: Self.base + 10, step: 0, value: .infinity),
            HistoryPoint(milliseconds: Self.base + 20, step: 2, value: 5),
            HistoryPoint(milliseconds: Self.base + 20, step: 2, value: -.infinity),
            HistoryPoint(milliseconds: Self.base + 20, step: 2, value: 1.5),
        ]
        try await server.logLoss(run, logged)
        let (status, body) = try await history(server, "run_id=\(run)&metric_key=loss")
        #expect(status == 200)
        let metrics = try #require(body["metrics"]?.arrayValue)
        #expect(metrics.compactMap(HistoryPoint.init) == logged.sorted(by: HistoryPoint.mlflowOrder))
        #expect(metrics.allSatisfy { $0["key"] == "loss" })
        #expect(body["next_page_token"] == nil)
        // NaN and the infinities travel as MLflow's strings.
        let raw = try await server.raw("GET", "/api/2.0/mlflow/metrics/get-history?run_uuid=\(run)&metric_key=loss")
        let text = String(decoding: raw.data, as: UTF8.self)
        #expect(text.contains("\"NaN\"") && text.contains("\"Infinity\"") && text.contains("\"-Infinity\""))
        // The alias prefix answers the same.
        let alias = try await server.mlflow("/ajax-api/2.0/mlflow/metrics/get-history?run_id=\(run)&metric_key=loss")
        #expect(alias.body == body)
        // A key with no points is an empty answer; so is a key with a space, sent as `+` by MLflow's client.
        let none = try await history(server, "run_id=\(run)&metric_key=never+logged")
        #expect(none.status == 200 && none.body == [:])
    }

    @Test("pages: in-order histories page by index, out-of-order ones by offset; both give every point once")
    func pagesFollowTokens() async throws {
        let temp = TemporaryDirectory("quill-mlflow-history-pages")
        let server = try await ServerProcess.start(data: temp.file("data"))
        let ordered = try await server.newRun(project: "history")
        let inOrder = (0..<2_500).map {
            HistoryPoint(milliseconds: Self.base + Int64($0), step: Int64($0), value: Double($0) / 7)
        }
        try await server.logLoss(ordered, inOrder)
        let (points, requests) = try await pages(server, ordered, size: 1000)
        #expect(requests == 3)
        #expect(points == inOrder)
        // An exact multiple of the page size ends with a full page and no token.
        let (exact, exactRequests) = try await pages(server, ordered, size: 500)
        #expect(exactRequests == 5)
        #expect(exact == inOrder)

        let shuffled = try await server.newRun(project: "history")
        var outOfOrder = inOrder
        outOfOrder.swapAt(3, 2_000)
        outOfOrder.swapAt(1_200, 17)
        try await server.logLoss(shuffled, outOfOrder)
        let (sorted, sortedRequests) = try await pages(server, shuffled, size: 1000)
        #expect(sortedRequests == 3)
        #expect(sorted == inOrder)

        // MLflow's own tokens (an offset only) are read too: {"offset": 2498}.
        let token = Data("{\"offset\": 2498}".utf8).base64EncodedString()
        let tail = try await history(
            server,
            "run_id=\(ordered)&metric_key=loss&max_results=10&page_token=\(ServerProcess.encode(token))"
        )
        #expect(tail.body["metrics"]?.arrayValue?.compactMap(HistoryPoint.init) == Array(inOrder.suffix(2)))
        #expect(tail.body["next_page_token"] == nil)
    }

    @Test("every integer and token of get-history at its extremes answers MLflow's code, never a 5xx")
    func historyExtremes() async throws {
        let temp = TemporaryDirectory("quill-mlflow-history-extremes")
        let server = try await ServerProcess.start(data: temp.file("data"))
        let run = try await server.newRun(project: "history")
        let logged = (0..<5).map { HistoryPoint(milliseconds: Self.base + Int64($0), step: Int64($0), value: 1) }
        try await server.logLoss(run, logged)
        let prefix = "run_id=\(run)&metric_key=loss"
        for bad in ["0", "-1", "-9223372036854775808"] {
            expectHistoryError(
                try await history(server, prefix + "&max_results=\(bad)"),
                400,
                "INVALID_PARAMETER_VALUE",
                bad
            )
        }
        // Larger than MLflow's int32 field, or no number at all: ignored, as MLflow's server ignores it.
        for ignored in ["2147483648", "9223372036854775807", "9223372036854775808", "99999999999999999999", "abc", ""] {
            let answer = try await history(server, prefix + "&max_results=\(ignored)")
            #expect(answer.status == 200, "\(ignored): \(answer.body)")
            #expect(answer.body["metrics"]?.arrayValue?.count == 5, "\(ignored)")
        }
        let all = try await history(server, prefix + "&max_results=2147483647")
        #expect(all.body["metrics"]?.arrayValue?.count == 5)
        let one = try await history(server, prefix + "&max_results=1")
        #expect(one.body["metrics"]?.arrayValue?.count == 1)
        #expect(one.body["next_page_token"]?.stringValue != nil)

        func token(_ json: String) -> String { ServerProcess.encode(Data(json.utf8).base64EncodedString()) }
        let badTokens = [
            "zzz", "!!!", token("not json"), token("[1]"), token("{}"), token("{\"offset\": 0}"),
            token("{\"offset\": \"a\"}"), token("{\"offset\": 1.5}"), token("{\"offset\": 1e300}"),
            token("{\"offset\": null}"),
        ]
        for bad in badTokens {
            expectHistoryError(
                try await history(server, prefix + "&page_token=\(bad)"),
                400,
                "INVALID_PARAMETER_VALUE",
                bad
            )
        }
        // Offsets and indexes at the extremes of 64 bits: a page of what is there, maybe empty.
        let extremes = [
            "{\"offset\": 9223372036854775807}", "{\"offset\": -9223372036854775808}", "{\"offset\": \"3\"}",
            "{\"offset\": 1, \"quill_index\": 9223372036854775807}",
            "{\"offset\": 1, \"quill_index\": -9223372036854775808}",
            "{\"offset\": 9223372036854775807, \"quill_index\": 2}",
        ]
        for json in extremes {
            for size in ["", "&max_results=2", "&max_results=2147483647"] {
                let answer = try await history(server, prefix + "&page_token=\(token(json))" + size)
                #expect(answer.status == 200, "\(json)\(size): \(answer.body)")
                #expect((answer.body["metrics"]?.arrayValue?.count ?? 0) <= 5, "\(json)\(size)")
            }
        }
        // Following a token to the end from the largest offset never overflows into a loop.
        let last = try await history(
            server,
            prefix
                + "&max_results=2147483647&page_token=\(token("{\"offset\": 9223372036854775807, \"quill_index\": 0}"))"
        )
        #expect(last.status == 200)
        #expect(last.body["next_page_token"] == nil)

        expectHistoryError(try await history(server, "metric_key=loss"), 400, "INVALID_PARAMETER_VALUE")
        expectHistoryError(try await history(server, "run_id=\(run)"), 400, "INVALID_PARAMETER_VALUE")
        expectHistoryError(try await history(server, "run_id=&metric_key=loss"), 400, "INVALID_PARAMETER_VALUE")
        // As MLflow's server: the run is not checked, an unknown one has an empty history.
        for unknown in ["run_id=zzzz9999&metric_key=loss", "run_id=..%2F..&metric_key=loss"] {
            let answer = try await history(server, unknown)
            #expect(answer.status == 200 && answer.body == [:], "\(unknown) \(answer.body)")
        }
        // Another method is 405, as MLflow's server answers (the body in MLflow's error shape).
        expectHistoryError(
            try await server.mlflow("POST", "/api/2.0/mlflow/metrics/get-history", json: [:]),
            405,
            "BAD_REQUEST"
        )
    }

    @Test("bulk-interval samples as MLflow's SQL store: NTILE buckets' first points and the last point, per run")
    func bulkIntervalSamples() async throws {
        let temp = TemporaryDirectory("quill-mlflow-bulk")
        let server = try await ServerProcess.start(data: temp.file("data"))
        let first = try await server.newRun(project: "history")
        let second = try await server.newRun(project: "history")
        let points = (0..<10).map {
            HistoryPoint(milliseconds: Self.base + Int64($0), step: Int64($0), value: Double($0))
        }
        try await server.logLoss(first, points)
        try await server.logLoss(second, Array(points.prefix(3)))
        func bulk(_ query: String) async throws -> (status: Int, body: JSONValue) {
            try await server.mlflow("/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval?\(query)")
        }
        func steps(_ body: JSONValue, run: String) -> [Int] {
            (body["metrics"]?.arrayValue ?? []).filter { $0["run_id"]?.stringValue == run }.compactMap {
                $0["step"]?.intValue
            }
        }
        // 10 points in 4 buckets of 3, 3, 2, 2: first points 0, 3, 6, 8, the last (9) replacing 8.
        let four = try await bulk("run_ids=\(first)&run_ids=\(second)&metric_key=loss&max_results=4")
        #expect(four.status == 200, "\(four.body)")
        #expect(steps(four.body, run: first) == [0, 3, 6, 9])
        #expect(steps(four.body, run: second) == [0, 1, 2])
        #expect(four.body["metrics"]?.arrayValue?.first?["run_id"]?.stringValue == first)
        #expect(steps(try await bulk("run_ids=\(first)&metric_key=loss&max_results=1").body, run: first) == [9])
        #expect(steps(try await bulk("run_ids=\(first)&metric_key=loss").body, run: first) == Array(0..<10))
        #expect(
            steps(
                try await bulk("run_ids=\(first)&metric_key=loss&max_results=3&start_step=2&end_step=7").body,
                run: first
            ) == [2, 4, 7]
        )
        // The same path under the API prefix.
        let api = try await server.mlflow(
            "/api/2.0/mlflow/metrics/get-history-bulk-interval?run_ids=\(first)&metric_key=loss&max_results=2"
        )
        #expect(steps(api.body, run: first) == [0, 9])
        // Steps at the extremes of 64 bits.
        let wide = try await bulk(
            "run_ids=\(first)&metric_key=loss&start_step=-9223372036854775808&end_step=9223372036854775807"
        )
        #expect(steps(wide.body, run: first) == Array(0..<10))
        let far = try await bulk(
            "run_ids=\(first)&metric_key=loss&start_step=9223372036854775807&end_step=9223372036854775807"
        )
        #expect(far.status == 200 && far.body == [:])

        let bad = [
            "metric_key=loss", "run_ids=\(first)", "run_ids=\(first)&metric_key=loss&max_results=0",
            "run_ids=\(first)&metric_key=loss&max_results=2501",
            "run_ids=\(first)&metric_key=loss&max_results=-9223372036854775808",
            "run_ids=\(first)&metric_key=loss&max_results=9223372036854775808",
            "run_ids=\(first)&metric_key=loss&max_results=abc",
            "run_ids=\(first)&metric_key=loss&start_step=1", "run_ids=\(first)&metric_key=loss&end_step=1",
            "run_ids=\(first)&metric_key=loss&start_step=3&end_step=1",
            "run_ids=\(first)&metric_key=loss&start_step=9223372036854775808&end_step=9223372036854775809",
            "run_ids=\(first)&metric_key=loss&start_step=x&end_step=1",
            (0...100).map { _ in "run_ids=\(first)" }.joined(separator: "&") + "&metric_key=loss",
        ]
        for query in bad { expectHistoryError(try await bulk(query), 400, "INVALID_PARAMETER_VALUE", query) }
        expectHistoryError(try await bulk("run_ids=zzzz9999&metric_key=loss"), 404, "RESOURCE_DOES_NOT_EXIST")
    }

    @Test("logged-models/search finds nothing and runs/outputs is accepted, in MLflow's shapes and errors")
    func loggedModels() async throws {
        let temp = TemporaryDirectory("quill-mlflow-models")
        let server = try await ServerProcess.start(data: temp.file("data"))
        let run = try await server.newRun(project: "history")
        let search = try await server.mlflow(
            "POST",
            "/api/2.0/mlflow/logged-models/search",
            json: [
                "experiment_ids": ["0"], "filter": .string("source_run_id='\(run)'"),
                "max_results": 9_223_372_036_854_775_807,
            ]
        )
        #expect(search.status == 200 && search.body == [:])
        expectHistoryError(
            try await server.mlflow("POST", "/api/2.0/mlflow/logged-models/search", json: [:]),
            400,
            "INVALID_PARAMETER_VALUE"
        )
        expectHistoryError(
            try await server.mlflow("POST", "/api/2.0/mlflow/logged-models/search", json: ["experiment_ids": "0"]),
            400,
            "INVALID_PARAMETER_VALUE"
        )
        expectHistoryError(
            try await server.mlflow("POST", "/api/2.0/mlflow/logged-models/search", json: [1, 2]),
            400,
            "INVALID_PARAMETER_VALUE"
        )
        let outputs = try await server.mlflow(
            "POST",
            "/api/2.0/mlflow/runs/outputs",
            json: ["run_id": .string(run), "models": [["model_id": "m-1", "step": "-9223372036854775808"]]]
        )
        #expect(outputs.status == 200 && outputs.body == [:])
        expectHistoryError(
            try await server.mlflow("POST", "/api/2.0/mlflow/runs/outputs", json: ["run_id": .string(run)]),
            400,
            "INVALID_PARAMETER_VALUE"
        )
        expectHistoryError(
            try await server.mlflow(
                "POST",
                "/api/2.0/mlflow/runs/outputs",
                json: ["run_id": "zzzz9999", "models": []]
            ),
            404,
            "RESOURCE_DOES_NOT_EXIST"
        )
        expectHistoryError(
            try await server.mlflow(
                "POST",
                "/api/2.0/mlflow/runs/outputs",
                json: ["run_id": .string(run), "models": [["step": "9223372036854775808"]]]
            ),
            400,
            "INVALID_PARAMETER_VALUE"
        )
    }
}
