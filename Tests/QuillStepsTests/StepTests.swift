import Foundation
import Logging
import QuillCore
import QuillSteps
import QuillTesting
import Testing

/// Appends a line to `log` every time `create` runs; writes `value` to `value.txt`.
struct Probe: Step {
    var log: String
    var value = 1
    var failFirst = 0
    var preemptFirst = 0

    func create(_ context: StepContext) async throws {
        let previous = (try? String(contentsOfFile: log, encoding: .utf8))?.split(separator: "\n").count ?? 0
        try (String(repeating: "x\n", count: previous + 1)).write(toFile: log, atomically: true, encoding: .utf8)
        context.logger.info("creating probe \(value)")
        if previous < preemptFirst { throw StepPreempted("test preemption \(previous + 1)") }
        if previous < failFirst { throw QuillError(.io, "boom \(previous + 1)") }
        try String(value).write(toFile: context.file("value.txt"), atomically: true, encoding: .utf8)
    }

    func load(_ context: StepContext) async throws -> Int {
        Int(try String(contentsOfFile: context.file("value.txt"), encoding: .utf8)) ?? -1
    }

    func validate(_ context: StepContext) async throws -> Bool {
        FileManager.default.fileExists(atPath: context.file("value.txt"))
    }
}

/// Depends on a probe through its config and on another through `context.dependency`.
struct Pipeline: Step {
    var first: Probe
    var secondLog: String

    func create(_ context: StepContext) async throws {
        let a = try await context.dependency(first)
        let b = try await context.dependency(Probe(log: secondLog, value: 10))
        try String(a + b).write(toFile: context.file("sum.txt"), atomically: true, encoding: .utf8)
    }

    func load(_ context: StepContext) async throws -> Int {
        Int(try String(contentsOfFile: context.file("sum.txt"), encoding: .utf8)) ?? -1
    }
}

struct Committed: Step {
    static var isVersionControlled: Bool { true }
    var name = "labels"
    func create(_ context: StepContext) async throws {
        try "ok".write(toFile: context.file("labels.txt"), atomically: true, encoding: .utf8)
    }
    func load(_ context: StepContext) async throws -> String {
        try String(contentsOfFile: context.file("labels.txt"), encoding: .utf8)
    }
}

/// Collects log lines in memory.
final class LineCollector: @unchecked Sendable {
    // @unchecked Sendable: `lines` is only touched under `lock`.
    private let lock = NSLock()
    private var stored: [String] = []
    func add(_ line: String) {
        lock.lock()
        stored.append(line)
        lock.unlock()
    }
    var lines: [String] {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
}

struct CollectingHandler: LogHandler {
    let collector: LineCollector
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) { collector.add("\(event.message)") }
}

func options(_ temp: TemporaryDirectory, _ collector: LineCollector = LineCollector()) -> StepOptions {
    var options = StepOptions(
        root: temp.file("steps"),
        logger: Logger(label: "test") { _ in CollectingHandler(collector: collector) }
    )
    options.pollInterval = 0.02
    return options
}

func lineCount(_ path: String) -> Int {
    (try? String(contentsOfFile: path, encoding: .utf8))?.split(separator: "\n").count ?? 0
}

@Suite("Steps in one process")
struct StepTests {
    @Test("computes once, then loads; status lines name each decision")
    func createThenLoad() async throws {
        let temp = TemporaryDirectory("quill-steps")
        let collector = LineCollector()
        let options = options(temp, collector)
        let step = Probe(log: temp.file("creates"), value: 42)
        #expect(try !step.exists(options: options))
        #expect(try await step.loadOrCreate(options: options) == 42)
        #expect(try await step.loadOrCreate(options: options) == 42)
        #expect(lineCount(temp.file("creates")) == 1)
        #expect(try step.exists(options: options))
        let short = String(try step.hash.prefix(7))
        #expect(collector.lines.contains("loadOrCreate Probe \(short) (missing→create)"))
        #expect(collector.lines.contains("loadOrCreate Probe \(short) (success→load)"))

        let info = try #require(try step.metadata(options: options))
        #expect(info.status == .success)
        #expect(info.hash == (try step.hash))
        #expect(info.metadata["swift"]?.stringValue?.hasPrefix("Probe(log: ") == true)
        #expect(info.metadata["config"]?["value"] == 42)
        for field in ["hostname", "user", "pid", "command", "swift_version", "executable", "platform", "created_at"] {
            #expect(info.metadata[field] != nil, "\(field)")
        }
        #expect(info.state.attempts.map(\.status) == [.success])
        #expect(info.state.attempts.first?.backend == "local")
        let directory = try step.directory(options: options)
        #expect(directory.hasPrefix(temp.file("steps/data/QuillStepsTests.Probe/")))
        #expect(FileManager.default.fileExists(atPath: directory + "/.quill/SUCCESS"))
        #expect(
            (try? String(contentsOfFile: directory + "/.quill/log.txt", encoding: .utf8))?.contains("creating probe 42")
                == true
        )
        #expect(!FileManager.default.fileExists(atPath: directory + "/.quill/lock"))
    }

    @Test("a throwing create leaves a failed state and a distinct error; the next call tries again")
    func failureThenRetry() async throws {
        let temp = TemporaryDirectory("quill-steps")
        let options = options(temp)
        let step = Probe(log: temp.file("creates"), failFirst: 1)
        do {
            _ = try await step.loadOrCreate(options: options)
            Issue.record("expected a failure")
        } catch let error as StepCreateError {
            #expect(error.statePath.hasSuffix("/.quill/state.json"))
            #expect("\(error.underlying)".contains("boom 1"))
            #expect(StepState.read(error.statePath).status == .failed)
        }
        #expect(try step.metadata(options: options)?.status == .failed)
        #expect(try await step.loadOrCreate(options: options) == 1)
        let attempts = try #require(try step.metadata(options: options)).state.attempts
        #expect(attempts.map(\.status) == [.failed, .success])
        #expect(attempts.first?.error?.contains("boom 1") == true)
    }

    @Test("validate rejecting a stored result forces a new computation")
    func validation() async throws {
        let temp = TemporaryDirectory("quill-steps")
        let collector = LineCollector()
        let options = options(temp, collector)
        let step = Probe(log: temp.file("creates"), value: 3)
        _ = try await step.loadOrCreate(options: options)
        try FileManager.default.removeItem(atPath: try step.directory(options: options) + "/value.txt")
        #expect(try await step.loadOrCreate(options: options) == 3)
        #expect(lineCount(temp.file("creates")) == 2)
        #expect(collector.lines.contains { $0.hasSuffix("(invalid→create)") })
    }

    @Test("preempted attempts are retried up to the limit and recorded as preempted")
    func preemption() async throws {
        let temp = TemporaryDirectory("quill-steps")
        var options = options(temp)
        options.preemptMax = 3
        let step = Probe(log: temp.file("creates"), preemptFirst: 2)
        #expect(try await step.loadOrCreate(options: options) == 1)
        #expect(
            try step.metadata(options: options)?.state.attempts.map(\.status) == [.preempted, .preempted, .success]
        )

        options.preemptMax = 1
        let stubborn = Probe(log: temp.file("stubborn"), preemptFirst: 5)
        await #expect(throws: StepCreateError.self) { try await stubborn.loadOrCreate(options: options) }
        #expect(try stubborn.metadata(options: options)?.status == .incomplete)
    }

    @Test("nested steps get their own folders, and the edges are recorded")
    func nesting() async throws {
        let temp = TemporaryDirectory("quill-steps")
        let options = options(temp)
        let first = Probe(log: temp.file("first"), value: 1)
        let pipeline = Pipeline(first: first, secondLog: temp.file("second"))
        #expect(try await pipeline.loadOrCreate(options: options) == 11)
        let second = Probe(log: temp.file("second"), value: 10)
        #expect(try first.exists(options: options))
        #expect(try second.exists(options: options))
        #expect(try first.directory(options: options) != (try pipeline.directory(options: options)))
        let info = try #require(try pipeline.metadata(options: options))
        #expect(
            info.dependencies.map(\.hash) == [try first.hash, try second.hash],
            "config edge first, then the one used in create"
        )
        #expect(info.dependencies.allSatisfy { $0.namespace == "QuillStepsTests.Probe" })
    }

    @Test("collections: by name, in order, all at once")
    func collections() async throws {
        let temp = TemporaryDirectory("quill-steps")
        let options = options(temp)
        var sweep = StepCollection<Probe>([
            ("small", Probe(log: temp.file("a"), value: 1)), ("large", Probe(log: temp.file("b"), value: 2)),
        ])
        sweep["huge"] = Probe(log: temp.file("c"), value: 3)
        #expect(sweep.names == ["small", "large", "huge"])
        #expect(sweep["large"]?.value == 2)
        #expect(sweep.all.map(\.value) == [1, 2, 3])
        #expect(Array(sweep).map(\.name) == ["small", "large", "huge"])
        let outputs = try await sweep.loadOrCreateAll(options: options)
        #expect(outputs.map(\.output) == [1, 2, 3])
    }

    @Test("version-controlled steps live under git/")
    func versionControlled() async throws {
        let temp = TemporaryDirectory("quill-steps")
        let options = options(temp)
        #expect(try await Committed().loadOrCreate(options: options) == "ok")
        #expect(try Committed().directory(options: options).hasPrefix(temp.file("steps/git/")))
    }

    @Test("record writes the metadata a child process needs, without computing")
    func record() throws {
        let temp = TemporaryDirectory("quill-steps")
        let options = options(temp)
        let step = Probe(log: temp.file("creates"), value: 5)
        let reference = try step.record(options: options)
        #expect(reference.description == "QuillStepsTests.Probe/\(try step.hash)")
        #expect(StepReference(parsing: reference.description) == reference)
        #expect(try step.metadata(options: options)?.status == .absent)
        #expect(try !step.exists(options: options))
        #expect(lineCount(temp.file("creates")) == 0)
    }

    /// Writes a compute lock as a process on another machine would.
    func foreignLock(_ step: Probe, _ options: StepOptions, heartbeat: Date) throws {
        let folder = try step.directory(options: options) + "/.quill"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let lock: JSONValue = [
            "token": "foreign", "host": "another-machine", "pid": 1, "pid_start": .null,
            "heartbeat_at": .string(Timestamp.string(heartbeat)), "lease_seconds": 30,
        ]
        try Data(JSONWriter.bytes(lock)).write(to: URL(fileURLWithPath: folder + "/lock"))
        let state: JSONValue = [
            "status": "incomplete",
            "attempts": [
                [
                    "id": "foreign", "status": "running", "owner": "another-machine:1", "backend": "local",
                    "started_at": .string(Timestamp.string(heartbeat)),
                ]
            ],
        ]
        try Data(JSONWriter.bytes(state)).write(to: URL(fileURLWithPath: folder + "/state.json"))
    }

    @Test("a lock held on another machine is waited for until its lease runs out, then taken over")
    func foreignHolder() async throws {
        let temp = TemporaryDirectory("quill-steps")
        let collector = LineCollector()
        var options = options(temp, collector)
        options.staleAfter = 30
        options.maxWait = 0.3
        let step = Probe(log: temp.file("creates"), value: 9)
        try foreignLock(step, options, heartbeat: Date())
        do {
            _ = try await step.loadOrCreate(options: options)
            Issue.record("expected a timeout while the foreign lease is fresh")
        } catch let error as StepWaitTimeoutError {
            #expect(error.holder == "another-machine:1")
            #expect(error.description.contains("QUILL_STEP_MAX_WAIT"))
        }
        #expect(lineCount(temp.file("creates")) == 0)
        #expect(collector.lines.contains { $0.hasSuffix("(running→wait)") })

        // The same lock, last renewed longer ago than the lease: taken over, the old attempt crashed.
        try foreignLock(step, options, heartbeat: Date().addingTimeInterval(-60))
        #expect(try await step.loadOrCreate(options: options) == 9)
        #expect(collector.lines.contains { $0.hasSuffix("(stale→takeover)") })
        #expect(try step.metadata(options: options)?.state.attempts.map(\.status) == [.crashed, .success])
    }
}
