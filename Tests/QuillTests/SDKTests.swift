import Foundation
import QuillCore
import QuillTesting
import Testing

@testable import Quill

@Suite("SDK: logging round trips")
struct SDKRoundTripTests {
    struct Hyperparameters: Codable {
        var lr: Double
        var layers: [Int]
        var optimizer: Optimizer
        struct Optimizer: Codable {
            var name: String
            var momentum: Double
        }
    }

    @Test("every logged kind is written to the run directory and reads back")
    func everyKind() throws {
        let temp = TemporaryDirectory()
        let run = try Quill.startRun(
            project: "Image Classifier",
            name: "baseline",
            config: ["lr": 0.01, "nested": ["depth": 3]],
            tags: ["baseline", "team:vision"],
            kind: RunKind("Evaluation"),
            description: "first try",
            options: testOptions(temp)
        )
        try run.log(["loss": 0.5, "acc": 0.8], step: 10)
        try run.log("val/loss", 0.42, step: 10)
        try run.log(["no_step": 1])
        try run.logBatch(
            metrics: [MetricEntry(step: 11, values: ["loss": 0.4]), MetricEntry(step: 12, values: ["loss": 0.3])],
            params: ["batch": 32],
            tags: ["stage": "2"],
            links: [RunLink(label: "paper", url: "https://arxiv.org/abs/1")]
        )
        try run.logParam("warmup", 100)
        try run.setTag("owner", "ada")
        try run.addLink("pr", url: "https://example.org/pr/1")
        try run.logSummary(["best_acc": 0.8])
        try run.logSummary(["best_acc": 0.9, "final_loss": 0.3])
        try run.logMessage("hello\nworld", level: .warning)
        try run.finish()

        let directory = run.directory
        let meta = try directory.readMeta()
        #expect(meta.name == "baseline")
        #expect(meta.project == "Image Classifier")
        #expect(meta.projectSlug == "image-classifier")
        #expect(meta.kind == .evaluation)
        #expect(meta.status == .completed)
        #expect(meta.description == "first try")
        #expect(meta.finishedAt != nil)
        #expect((meta.durationSeconds ?? -1) >= 0)
        #expect(meta.tagValues == ["baseline": "", "team": "vision", "stage": "2", "owner": "ada"])
        #expect(meta.params == ["batch": 32, "warmup": 100])
        #expect(meta.summary == ["best_acc": 0.9, "final_loss": 0.3])
        #expect(meta.links.map(\.label) == ["paper", "pr"])
        #expect(try directory.readConfig() == ["lr": 0.01, "nested": ["depth": 3]])

        let rows = try directory.readMetricRows().rows
        #expect(rows.map(\.index) == [0, 1, 2, 3, 4])
        #expect(rows.map(\.step) == [10, 10, nil, 11, 12])
        #expect(rows[0].values == ["loss": 0.5, "acc": 0.8])
        #expect(rows[1].values == ["val/loss": 0.42])

        let events = try directory.readEvents().events
        let kinds = events.map(\.kind)
        #expect(kinds.filter { $0 == .param }.count == 2)
        #expect(kinds.filter { $0 == .tag }.count == 2)
        #expect(kinds.filter { $0 == .link }.count == 2)
        #expect(kinds.filter { $0 == .summary }.count == 2)
        #expect(kinds.last == .status)
        #expect(events.allSatisfy { $0.timestamp.timeIntervalSinceNow < 5 })

        let log = try directory.readLog()
        #expect(log.map(\.message) == ["hello", "world"])
        #expect(log.allSatisfy { $0.level == .warning && $0.timestamp != nil })
    }

    @Test("an Encodable config becomes nested JSON")
    func encodableConfig() throws {
        let temp = TemporaryDirectory()
        let config = Hyperparameters(lr: 3e-4, layers: [64, 64], optimizer: .init(name: "sgd", momentum: 0.9))
        let run = try Quill.startRun(name: "typed", config: config, options: testOptions(temp))
        try run.finish()
        let stored = try run.directory.readConfig()
        #expect(stored.value(atPath: "optimizer.name") == "sgd")
        #expect(stored["layers"] == [64, 64])
        #expect(stored["lr"]?.doubleValue == 3e-4)
    }

    @Test("NaN and infinities are stored and read back faithfully")
    func nonFinite() throws {
        let temp = TemporaryDirectory()
        let run = try Quill.startRun(options: testOptions(temp))
        try run.log(["nan": .nan, "inf": .infinity, "ninf": -.infinity, "tiny": .leastNonzeroMagnitude], step: 1)
        try run.logSummary(["best": .double(.nan)])
        try run.finish()
        let row = try #require(try run.readMetrics().first)
        #expect(row.values["nan"]?.isNaN == true)
        #expect(row.values["inf"] == .infinity)
        #expect(row.values["ninf"] == -.infinity)
        #expect(row.values["tiny"] == .leastNonzeroMagnitude)
        #expect(try run.directory.readMeta().summary["best"]?.doubleValue?.isNaN == true)
    }

    @Test("names: a random readable one when none is given, a numeric suffix when taken")
    func names() throws {
        let temp = TemporaryDirectory()
        let options = testOptions(temp)
        let random = try Quill.startRun(options: options)
        #expect(random.name.wholeMatch(of: /[a-z]+_[a-z]+_[0-9]{1,3}/) != nil)
        let names = try (0..<3).map { _ in try Quill.startRun(project: "p", name: "baseline", options: options) }
        #expect(names.map(\.name) == ["baseline", "baseline_1", "baseline_2"])
        for run in names + [random] { try run.finish() }
    }

    @Test("nested runs record their parent")
    func nested() throws {
        let temp = TemporaryDirectory()
        let parent = try Quill.startRun(name: "sweep", kind: .custom("sweep"), options: testOptions(temp))
        let child = try Quill.startRun(name: "trial", parent: parent.id, options: testOptions(temp))
        try child.finish()
        try parent.finish()
        #expect(try child.directory.readMeta().parent == parent.id)
        #expect(try parent.directory.readMeta().kind == .custom("sweep"))
    }
}

@Suite("SDK: lifecycle")
struct SDKLifecycleTests {
    struct TrainingDiverged: Error {}

    @Test("finish is safe to call twice; logging afterwards throws runFinished")
    func finishTwice() throws {
        let temp = TemporaryDirectory()
        let run = try Quill.startRun(options: testOptions(temp))
        try run.log("loss", 1)
        try run.finish()
        let finishedAt = try run.directory.readMeta().finishedAt
        try run.finish(.failed)
        #expect(try run.directory.readMeta().status == .completed)
        #expect(try run.directory.readMeta().finishedAt == finishedAt)
        #expect(run.isFinished)
        for attempt in [{ try run.log("loss", 2) }, { try run.logParam("a", 1) }, { try run.logSummary(["a": 1]) }] {
            do {
                try attempt()
                Issue.record("logging after finish should throw")
            } catch let error as QuillError {
                #expect(error.code == .runFinished)
            }
        }
        #expect(throws: QuillError.self) { try run.logArtifact("/etc/hostname") }
    }

    @Test("withRun finishes completed when the body returns and failed when it throws, re-throwing")
    func withRun() throws {
        let temp = TemporaryDirectory()
        let value = try Quill.withRun(name: "ok", options: testOptions(temp)) { run in
            try run.log("loss", 1)
            return 42
        }
        #expect(value == 42)
        #expect(throws: TrainingDiverged.self) {
            try Quill.withRun(name: "bad", options: testOptions(temp)) { run in
                try run.log("loss", .nan)
                throw TrainingDiverged()
            }
        }
        let store = LocalRunStore(home: QuillHome(path: temp.path))
        #expect(try store.resolve("ok").meta.status == .completed)
        let failed = try store.resolve("bad").meta
        #expect(failed.status == .failed)
        #expect(failed.error?.contains("TrainingDiverged") == true)
    }

    @Test("the async withRun behaves like the synchronous one")
    func asyncWithRun() async throws {
        let temp = TemporaryDirectory()
        let result = try await Quill.withRun(name: "async", options: testOptions(temp)) { run in
            try await Task.sleep(for: .milliseconds(1))
            try run.log("loss", 1)
            return "done"
        }
        #expect(result == "done")
        await #expect(throws: TrainingDiverged.self) {
            try await Quill.withRun(name: "async-bad", options: testOptions(temp)) { _ in
                try await Task.sleep(for: .milliseconds(1))
                throw TrainingDiverged()
            }
        }
        let store = LocalRunStore(home: QuillHome(path: temp.path))
        #expect(try store.resolve("async").meta.status == .completed)
        #expect(try store.resolve("async-bad").meta.status == .failed)
    }

    @Test("the run history of this process lists running and finished runs as values")
    func processHistory() throws {
        let temp = TemporaryDirectory()
        let finished = try Quill.startRun(name: "history-finished", options: testOptions(temp))
        try finished.log(["loss": 0.25], step: 3)
        try finished.finish()
        let running = try Quill.startRun(name: "history-running", options: testOptions(temp))
        let snapshots = Quill.runsInThisProcess
        let mine = snapshots.filter { $0.directory.hasPrefix(temp.path) }
        #expect(mine.map(\.name) == ["history-finished", "history-running"])
        #expect(mine[0].status == .completed)
        #expect(mine[0].rowsWritten == 1)
        #expect(mine[0].lastValues == ["loss": 0.25])
        #expect(mine[1].status == .running)
        try running.finish()
    }
}
