import Foundation
import QuillCore
import Testing

@Suite("The run query language")
struct RunQueryTests {
    func run(
        name: String = "baseline",
        status: RunStatus = .completed,
        config: JSONValue = ["lr": 0.01, "optimizer": ["name": "adam", "beta": 0.9], "layers": 4],
        metrics: [String: [Double]] = ["loss": [0.9, 0.4, 0.6], "val/loss": [0.7]],
        tags: [String] = ["team:vision", "baseline"],
        summary: [String: JSONValue] = ["acc": 0.93],
        started: String = "2026-11-20T10:00:00Z"
    ) throws -> QueryableRun {
        var meta = RunMeta(
            id: try #require(RunID("abcd1234")),
            name: name,
            project: Project(displayName: "Vision"),
            kind: .training,
            parent: nil,
            startedAt: try #require(Timestamp.parse(started))
        )
        meta.status = status
        meta.addTags(tags)
        meta.summary = summary
        meta.host = HostInfo(
            hostname: "gpu-01",
            user: "ada",
            pid: 1,
            processStartTicks: nil,
            os: "",
            swiftVersion: "",
            executable: "",
            commandLine: []
        )
        var rows: [MetricRow] = []
        for (key, values) in metrics {
            for (step, value) in values.enumerated() {
                rows.append(MetricRow(index: rows.count, timestamp: Date(), step: step, values: [key: value]))
            }
        }
        return QueryableRun(meta: meta, config: config, metrics: MetricStatistics.compute(rows))
    }

    func matches(_ query: String, _ target: QueryableRun) throws -> Bool {
        try RunQuery(parsing: query).matches(target)
    }

    @Test("the issue's example parses with and binding tighter than or")
    func precedence() throws {
        let query = try RunQuery(
            parsing: #"params.lr in (0.01, 0.001) and metrics.loss.min < 0.5 or tags.team = "vision""#
        )
        #expect(
            query.expression
                == .or([
                    .and([
                        .comparison(.param("lr"), .in, [.number(0.01), .number(0.001)]),
                        .comparison(.metric("loss", .min), .less, [.number(0.5)]),
                    ]),
                    .comparison(.tag("team"), .equal, [.text("vision")]),
                ])
        )
        #expect(query.referencesMetrics)
    }

    @Test(
        "queries print as text that parses back to the same query",
        arguments: [
            #"params.lr in (0.01, 0.001) and metrics.loss.min < 0.5 or tags.team = "vision""#,
            "not (status = failed or status = crashed) and name ~ \"res*\"",
            "metrics.`val loss`.max >= 1e-3 and summary.acc != 0.5 and kind not in (evaluation, compile)",
            "params.optimizer.name = adam and created > \"2026-11-01\" and duration <= 60",
            "metrics.train.loss.latest > -1 and tags.owner !~ \"bot-*\"",
        ]
    )
    func roundTrip(text: String) throws {
        let query = try RunQuery(parsing: text)
        #expect(try RunQuery(parsing: query.description) == query, "\(query)")
    }

    @Test("fields: nested config paths, metric aggregates, tags, summary, attributes")
    func evaluation() throws {
        let target = try run()
        #expect(try matches("params.lr = 0.01", target))
        #expect(try matches("params.optimizer.name = adam", target))
        #expect(try matches("config.optimizer.beta > 0.5", target))
        #expect(try matches("metrics.loss < 0.7", target))  // latest is 0.6
        #expect(try matches("metrics.loss.latest = 0.6", target))
        #expect(try matches("metrics.loss.min = 0.4 and metrics.loss.max = 0.9 and metrics.loss.count = 3", target))
        #expect(try matches("metrics.val/loss.min = 0.7", target))
        #expect(try matches("tags.team = vision and tags.baseline = \"\"", target))
        #expect(try matches("summary.acc >= 0.93", target))
        #expect(try matches("status = completed and kind = training and user = ada and host ~ \"gpu-*\"", target))
        #expect(try matches("name ~ \"base*\" and name !~ \"*_1\"", target))
        #expect(try matches("project = Vision and id = abcd1234", target))
        #expect(try matches("created > \"2026-11-19\" and created < \"2026-11-21T00:00:00+00:00\"", target))
        #expect(try !matches("created >= \"2026-11-21\"", target))
        #expect(try matches("params.layers in (2, 4, 8) and params.layers not in (1, 3)", target))
        #expect(try matches("not status = failed", target))
        #expect(try matches("(status = failed or status = completed) and not (params.lr > 0.1)", target))
    }

    @Test("a missing field makes any comparison false, != included; not inverts")
    func missingFields() throws {
        let target = try run()
        #expect(try !matches("params.momentum = 0.9", target))
        #expect(try !matches("params.momentum != 0.9", target))
        #expect(try matches("not params.momentum = 0.9", target))
        #expect(try !matches("metrics.acc.max > 0", target))
        #expect(try !matches("duration > 0", target))  // still running: no duration
    }

    @Test("numbers compare as numbers, numeric text too; other text compares as text")
    func comparisons() throws {
        let target = try run(config: ["lr": "0.01", "arch": "resnet50", "warmup": 100])
        #expect(try matches("params.lr = 0.01", target))
        #expect(try matches("params.lr < 0.1", target))
        #expect(try matches("params.warmup > 99.5", target))
        #expect(try matches("params.warmup = \"100\"", target))
        #expect(try matches("params.arch > resnet18", target))
        #expect(try !matches("params.arch < 5", target))
    }

    @Test("NaN metrics never compare; infinities do")
    func nonFinite() throws {
        let target = try run(metrics: ["loss": [.nan], "grad": [.infinity]])
        #expect(try !matches("metrics.loss < 1", target))
        #expect(try !matches("metrics.loss >= 1", target))
        #expect(try matches("metrics.grad > 1e308", target))
        #expect(try matches("metrics.grad = inf", target))
    }

    @Test(
        "malformed queries point at the offending column",
        arguments: [
            ("params.lr <", 11, "expected a value"),
            ("params.lr < 0.1 and", 19, "expected a field"),
            ("(status = failed", 16, "expected ')'"),
            ("status == failed", 8, "expected a value"),
            ("bogus = 1", 0, "unknown field 'bogus'"),
            ("params = 1", 0, "needs a key"),
            ("name ~ 5", 7, "text pattern"),
            ("status = 'unterminated", 9, "unterminated string"),
            ("params.lr in 0.1", 13, "expected '('"),
            ("status = failed status = completed", 16, "expected 'and', 'or'"),
            ("", 0, "empty"),
            ("params.lr # 1", 10, "unexpected character"),
        ]
    )
    func errors(text: String, column: Int, message: String) {
        do {
            _ = try RunQuery(parsing: text)
            Issue.record("expected '\(text)' to be refused")
        } catch let error as QuillError {
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains("at column \(column + 1):"), "\(error.message)")
            #expect(error.message.contains(message), "\(error.message)")
            let caretLine = error.message.split(separator: "\n").last.map(String.init) ?? ""
            #expect(caretLine == "  " + String(repeating: " ", count: column) + "^", "\(error.message)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test("sorting: by any field, descending with desc or a leading minus, runs without the field last")
    func sorting() throws {
        let runs = try [
            run(name: "a", metrics: ["loss": [0.5]]), run(name: "b", metrics: ["loss": [0.2]]),
            run(name: "c", metrics: [:]), run(name: "d", metrics: ["loss": [0.9]]),
        ]
        func order(_ spec: String) throws -> [String] {
            let sort = try RunSort(parsing: spec)
            return runs.sorted(by: sort.precedes).compactMap { $0.attributes["name"]?.stringValue }
        }
        #expect(try order("metrics.loss.min") == ["b", "a", "d", "c"])
        #expect(try order("metrics.loss.min desc") == ["d", "a", "b", "c"])
        #expect(try order("-metrics.loss") == ["d", "a", "b", "c"])
        #expect(try order("name DESC") == ["d", "c", "b", "a"])
        #expect(throws: QuillError.self) { try RunSort(parsing: "bogus") }
    }

    @Test("deeply nested parentheses are refused, not a stack overflow")
    func nesting() {
        let text = String(repeating: "(", count: 10_000) + "status = failed" + String(repeating: ")", count: 10_000)
        #expect(throws: QuillError.self) { try RunQuery(parsing: text) }
    }
}
