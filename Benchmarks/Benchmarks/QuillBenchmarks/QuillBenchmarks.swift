// Benchmarks of the SDK's logging call: per-call latency (median and p99), allocations, and
// throughput of one run logging 3 metrics per step. See BENCHMARKS.md for the commands and results.
import Benchmark
import Foundation
import Quill
import QuillCore

/// One run in its own temporary home, shared by a benchmark's iterations and closed in its teardown.
final class BenchRun: @unchecked Sendable {
    // @unchecked Sendable: `run` and `home` are set once in `open` (the benchmark's setup) and read
    // afterwards by the benchmark's single measuring thread; `close` runs after the last iteration.
    private(set) var run: Run?
    private var home: String?

    func open(_ name: String) throws -> Run {
        let home = NSTemporaryDirectory() + "/quill-bench-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        var options = RunOptions(home: QuillHome(path: home))
        options.captureGit = false
        options.captureDependencies = false
        options.systemMetricsInterval = nil
        options.handleSignals = false
        options.attachToEnvironmentRun = false
        let run = try Quill.startRun(project: "bench", name: name, options: options)
        self.run = run
        self.home = home
        return run
    }

    func close() throws {
        try run?.finish()
        if let home { try? FileManager.default.removeItem(atPath: home) }
        run = nil
        home = nil
    }
}

let benchmarks: @Sendable () -> Void = {
    let latency = Benchmark.Configuration(
        metrics: [.wallClock, .mallocCountTotal],
        timeUnits: .nanoseconds,
        warmupIterations: 10_000,
        scalingFactor: .one,
        maxDuration: .seconds(5),
        maxIterations: 2_000_000
    )

    // The call as a user writes it: the dictionary literal is built in the call.
    let literal = BenchRun()
    Benchmark(
        "log call, 3 metrics (dictionary literal)",
        configuration: latency,
        closure: { benchmark, run in
            for iteration in benchmark.scaledIterations {
                let x = Double(iteration)
                try run.log(["loss": 1 / (1 + x), "acc": x * 1e-6, "lr": 0.001], step: iteration)
            }
        },
        setup: { try literal.open("literal") },
        teardown: { try literal.close() }
    )

    // The SDK's own cost: the same call with a dictionary built beforehand.
    let prebuilt = BenchRun()
    let values: [String: Double] = ["loss": 0.5, "acc": 0.8, "lr": 0.001]
    Benchmark(
        "log call, 3 metrics (prebuilt dictionary)",
        configuration: latency,
        closure: { benchmark, run in
            for iteration in benchmark.scaledIterations {
                try run.log(values, step: iteration)
            }
        },
        setup: { try prebuilt.open("prebuilt") },
        teardown: { try prebuilt.close() }
    )

    // Throughput: 100,000 steps of 3 metrics, then a flush, per iteration.
    let throughput = BenchRun()
    Benchmark(
        "log 100k steps x 3 metrics + flush",
        configuration: .init(
            metrics: [.wallClock, .throughput, .peakMemoryResident],
            timeUnits: .milliseconds,
            warmupIterations: 1,
            scalingFactor: .one,
            maxDuration: .seconds(10),
            maxIterations: 20
        ),
        closure: { benchmark, run in
            for _ in benchmark.scaledIterations {
                for step in 0..<100_000 {
                    let x = Double(step)
                    try run.log(["loss": 1 / (1 + x), "acc": x * 1e-5, "lr": 0.001], step: step)
                }
                try run.flush()
            }
        },
        setup: { try throughput.open("throughput") },
        teardown: { try throughput.close() }
    )
}
