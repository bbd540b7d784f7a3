// The Quill side of bench/steps: the cost of one `loadOrCreate` on a warm cache (hit) and on a miss
// whose `create` writes one tiny file, per call, in a fresh temporary root.
//
//   quill-steps-bench [--n 2000] [--warmup 50] [--root DIR] [--keep]
//
// Prints one JSON object: {"tool": "quill", "n": N, "hit": {...}, "miss": {...}} with the median, p90,
// p99, mean, min and max per call in microseconds. The status logger is at `.critical`, so no status
// line is formatted or written. The process works in its root (it is also the current directory), so a
// miss does not depend on the git checkout the bench was started from.
import Foundation
import Logging
import QuillSteps

/// A small step: three configuration fields; `create` writes one tiny file, `load` reads it back.
struct BenchStep: Step {
    var name: String
    var lr: Double
    var seed: Int

    func create(_ context: StepContext) async throws {
        let fd = open(context.file("value.txt"), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw BenchError.io("create", errno) }
        defer { close(fd) }
        let bytes = Array("\(seed)\n".utf8)
        guard write(fd, bytes, bytes.count) == bytes.count else { throw BenchError.io("write", errno) }
    }

    func load(_ context: StepContext) async throws -> Int {
        let fd = open(context.file("value.txt"), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw BenchError.io("open", errno) }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = read(fd, &buffer, buffer.count)
        guard count > 0 else { throw BenchError.io("read", errno) }
        var value = 0
        for byte in buffer[..<count] where byte >= 0x30 && byte <= 0x39 { value = value * 10 + Int(byte - 0x30) }
        return value
    }
}

enum BenchError: Error {
    case io(String, Int32)
    case wrongValue(Int, expected: Int)
}

func argument(_ name: String, in arguments: [String]) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}

/// Nanoseconds on the monotonic clock.
func now() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

/// Median, p90, p99, mean, min and max of per-call times, in microseconds (nearest-rank percentiles).
func summary(_ nanoseconds: [UInt64]) -> [String: Double] {
    let sorted = nanoseconds.sorted()
    func percentile(_ p: Double) -> Double {
        let rank = max(1, Int((p / 100 * Double(sorted.count)).rounded(.up)))
        return Double(sorted[min(rank, sorted.count) - 1]) / 1000
    }
    let total = sorted.reduce(0.0) { $0 + Double($1) }
    return [
        "median_us": percentile(50), "p90_us": percentile(90), "p99_us": percentile(99),
        "mean_us": total / Double(sorted.count) / 1000, "min_us": Double(sorted[0]) / 1000,
        "max_us": Double(sorted[sorted.count - 1]) / 1000, "calls": Double(sorted.count),
    ]
}

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.contains("-h") || arguments.contains("--help") {
    print("usage: quill-steps-bench [--n 2000] [--warmup 50] [--root DIR] [--keep]")
    exit(0)
}
let n = max(1, Int(argument("--n", in: arguments) ?? "") ?? 2000)
let warmup = max(0, Int(argument("--warmup", in: arguments) ?? "") ?? 50)
let keep = arguments.contains("--keep")
let root: String
if let given = argument("--root", in: arguments) {
    root = given
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
} else {
    var template = Array((NSTemporaryDirectory() + "/quill-steps-bench.XXXXXX").utf8CString)
    guard let made = mkdtemp(&template) else { fatalError("mkdtemp failed: \(errno)") }
    root = String(cString: made)
}
guard FileManager.default.changeCurrentDirectoryPath(root) else { fatalError("cannot enter \(root)") }

var options = StepOptions(root: root + "/steps")
options.logger.logLevel = .critical

// (a) Hit: one create, then `warmup` untimed and `n` timed loads of the same configuration.
let hitStep = BenchStep(name: "bench", lr: 0.001, seed: 42)
_ = try await hitStep.loadOrCreate(options: options)
for _ in 0..<warmup { _ = try await hitStep.loadOrCreate(options: options) }
var hits: [UInt64] = []
hits.reserveCapacity(n)
for _ in 0..<n {
    let start = now()
    let value = try await hitStep.loadOrCreate(options: options)
    hits.append(now() - start)
    if value != 42 { throw BenchError.wrongValue(value, expected: 42) }
}

// (b) Miss: `warmup` untimed and `n` timed distinct configurations, each computed once.
for index in 0..<warmup {
    _ = try await BenchStep(name: "warmup", lr: 0.001, seed: index).loadOrCreate(options: options)
}
var misses: [UInt64] = []
misses.reserveCapacity(n)
for index in 0..<n {
    let step = BenchStep(name: "bench", lr: 0.001, seed: 1000 + index)
    let start = now()
    let value = try await step.loadOrCreate(options: options)
    misses.append(now() - start)
    if value != 1000 + index { throw BenchError.wrongValue(value, expected: 1000 + index) }
}

let report: [String: Any] = [
    "tool": "quill", "n": n, "warmup": warmup, "hit": summary(hits), "miss": summary(misses),
]
let json = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
print(String(decoding: json, as: UTF8.self))
if !keep { try? FileManager.default.removeItem(atPath: root) }
