// A two-stage pipeline of cached steps: a dataset, and a model trained on it.
//
//   QUILL_EXTRAS=1 swift run quill-steps-example [--lr 0.05] [--steps 300] [--child] [--record]
//                                                [--executor slurm [--partition P] [--time 00:10:00] [--handle]]
//
// The first run computes both steps and prints a status line for each decision; the next run loads both
// from the cache. Run eight copies at once and each step is still computed once: the others wait for it.
// With --child the training step is computed in a child process (`quill-steps-example quill-step run
// NAMESPACE/HASH`), the way the job queue runs steps elsewhere; --record only prints that NAMESPACE/HASH.
// With --executor slurm it is computed in a SLURM batch job running that same command (SLURM_CONF names
// the cluster), and this process waits for it (--handle: prints the job's id first). Results live under $QUILL_STEPS_ROOT (default
// ~/.quill/steps). For tests: QUILL_EXAMPLE_SLEEP_MS makes each create slower, QUILL_EXAMPLE_CREATES names
// a file that gets one line per create, QUILL_EXAMPLE_HOLD names a file the training step's create waits
// to see removed, and QUILL_EXAMPLE_EXIT makes that create end its process with this status, as a crash.
import Foundation
import Logging
import QuillSlurm
import QuillSteps

/// Points on two interleaved spirals, labelled 0 and 1.
struct Dataset: Step {
    var name = "spirals"
    var samples = 400
    var seed: UInt64 = 7

    func create(_ context: StepContext) async throws {
        try await Example.noteCreate("Dataset", context)
        var state = seed
        var rows: [[Double]] = []
        for index in 0..<samples {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let noise = Double(state >> 11) / Double(1 << 53) * 0.2 - 0.1
            let label = Double(index % 2)
            let angle = Double(index / 2) / Double(samples / 2) * 3 * Double.pi
            let radius = angle / (3 * Double.pi) + noise
            let sign = label == 0 ? 1.0 : -1.0
            rows.append([sign * radius * cos(angle), sign * radius * sin(angle), label])
        }
        context.logger.info("generated \(rows.count) points")
        let data = try JSONSerialization.data(withJSONObject: rows)
        try data.write(to: URL(fileURLWithPath: context.file("data.json")))
    }

    func load(_ context: StepContext) async throws -> [[Double]] {
        let data = try Data(contentsOf: URL(fileURLWithPath: context.file("data.json")))
        return (try JSONSerialization.jsonObject(with: data) as? [[Double]]) ?? []
    }

    func validate(_ context: StepContext) async throws -> Bool {
        let size = (try? FileManager.default.attributesOfItem(atPath: context.file("data.json")))?[.size] as? Int
        return (size ?? 0) > 0
    }
}

/// A logistic-regression model trained by gradient descent on a dataset step.
struct TrainModel: Step {
    var dataset = Dataset()
    var lr = 0.05
    var steps = 300

    struct Model: Codable, Sendable {
        var weights: [Double]
        var loss: Double
    }

    func create(_ context: StepContext) async throws {
        let rows = try await context.dependency(dataset)
        try await Example.noteCreate("TrainModel", context)
        var weights = [0.0, 0.0, 0.0]
        var loss = 0.0
        for step in 0..<steps {
            var gradient = [0.0, 0.0, 0.0]
            loss = 0
            for row in rows {
                let features = [row[0], row[1], 1]
                let z = zip(weights, features).map(*).reduce(0, +)
                let p = 1 / (1 + exp(-z))
                loss -= row[2] * log(max(p, 1e-12)) + (1 - row[2]) * log(max(1 - p, 1e-12))
                for index in 0..<3 { gradient[index] += (p - row[2]) * features[index] }
            }
            loss /= Double(rows.count)
            for index in 0..<3 { weights[index] -= lr * gradient[index] / Double(rows.count) }
            if step % 100 == 0 { context.logger.info("step \(step): loss \(loss)") }
        }
        let model = Model(weights: weights, loss: loss)
        try JSONEncoder().encode(model).write(to: URL(fileURLWithPath: context.file("model.json")))
    }

    func load(_ context: StepContext) async throws -> Model {
        try JSONDecoder().decode(Model.self, from: Data(contentsOf: URL(fileURLWithPath: context.file("model.json"))))
    }
}

enum Example {
    /// Sleeps `QUILL_EXAMPLE_SLEEP_MS` and appends a line to `QUILL_EXAMPLE_CREATES`, for tests.
    static func noteCreate(_ name: String, _ context: StepContext) async throws {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["QUILL_EXAMPLE_CREATES"], !path.isEmpty {
            let line = Data("\(name) \(context.hash.prefix(7)) \(getpid())\n".utf8)
            if let handle = FileHandle(forWritingAtPath: path) {
                handle.seekToEndOfFile()
                handle.write(line)
                try handle.close()
            } else {
                try line.write(to: URL(fileURLWithPath: path))
            }
        }
        if let text = environment["QUILL_EXAMPLE_SLEEP_MS"], let milliseconds = Int64(text), milliseconds > 0 {
            try await Task.sleep(for: .milliseconds(milliseconds))
        }
        guard name == "TrainModel" else { return }
        if let hold = environment["QUILL_EXAMPLE_HOLD"], !hold.isEmpty {
            let deadline = Date().addingTimeInterval(300)
            while FileManager.default.fileExists(atPath: hold) && Date() < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        if let text = environment["QUILL_EXAMPLE_EXIT"], let status = Int32(text) {
            exit(status)
        }
    }

    static func option(_ name: String) -> String? {
        let arguments = CommandLine.arguments
        guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
        return arguments[index + 1]
    }
}

LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = .info
    return handler
}
StepRegistry.register(Dataset.self)
StepRegistry.register(TrainModel.self)
if let status = await StepRunner.handle() { exit(status) }

let step = TrainModel(
    lr: Example.option("--lr").flatMap(Double.init) ?? 0.05,
    steps: Example.option("--steps").flatMap(Int.init) ?? 300
)
if CommandLine.arguments.contains("--record") {
    // Prints NAMESPACE/HASH of the training step without computing it, for `quill-step run`.
    print(try step.record())
    exit(0)
}
do {
    let model: TrainModel.Model
    if CommandLine.arguments.contains("--child") {
        model = try await StepRunner.loadOrCreateInChildProcess(step)
    } else if Example.option("--executor") == "slurm" {
        let executor = StepExecutor.slurm(
            SlurmParameters(partition: Example.option("--partition"), time: Example.option("--time"))
        )
        if CommandLine.arguments.contains("--handle") {
            // Starts the computation, says which SLURM job computes it, then waits for it.
            let handle = try await step.submit(executor: executor)
            print("SLURM job: \(handle.slurmJobID ?? "none")\(handle.submitted ? " (submitted)" : "")")
            model = try await handle.value()
        } else {
            model = try await step.loadOrCreate(executor: executor)
        }
    } else {
        model = try await step.loadOrCreate()
    }
    print("\(step.swiftDescription): loss \(model.loss), weights \(model.weights)")
    print("result: \(try step.directory())")
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
