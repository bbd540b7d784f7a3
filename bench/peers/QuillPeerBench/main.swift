// The Quill side of bench/peers: the same workload the Python peers run, through the Quill SDK.
//
//   quill-peer-bench throughput --home DIR --steps N
//   quill-peer-bench sigkill-child --home DIR --progress FILE
import Foundation
import Quill
import QuillCore

func argument(_ name: String, in arguments: [String]) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}

func peakRSSBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        if fields.count >= 2, let kilobytes = Int(fields[1]) { return kilobytes * 1024 }
    }
    return 0
}

func options(home: String) -> RunOptions {
    var options = RunOptions(home: QuillHome(path: home))
    options.captureGit = false
    options.captureDependencies = false
    options.systemMetricsInterval = nil
    options.attachToEnvironmentRun = false
    return options
}

func writeProgress(_ count: Int, to path: String) {
    let temporary = path + ".tmp"
    try? Data("\(count)\n".utf8).write(to: URL(fileURLWithPath: temporary))
    rename(temporary, path)
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard let mode = arguments.first, let home = argument("--home", in: arguments) else {
    FileHandle.standardError.write(
        Data("usage: quill-peer-bench throughput|sigkill-child --home DIR [--steps N] [--progress FILE]\n".utf8)
    )
    exit(2)
}

switch mode {
case "throughput":
    let steps = Int(argument("--steps", in: arguments) ?? "") ?? 333_334
    let run = try Quill.startRun(
        project: "bench",
        name: "throughput",
        config: ["steps": .int(steps)],
        options: options(home: home)
    )
    let clock = ContinuousClock()
    let start = clock.now
    for step in 0..<steps {
        let x = Double(step)
        try run.log(
            ["loss": 1.0 / (1.0 + x), "acc": x / Double(steps), "lr": 0.001 * (1.0 - x / Double(steps))],
            step: step
        )
    }
    try run.flush()
    try run.finish()
    let elapsed = clock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let result: JSONValue = [
        "tool": "quill", "points": .int(steps * 3), "seconds": .double(seconds),
        "peak_rss_bytes": .int(peakRSSBytes()), "run_dir": .string(run.directory.path),
    ]
    print(result.description)
case "sigkill-child":
    guard let progress = argument("--progress", in: arguments) else {
        FileHandle.standardError.write(Data("sigkill-child needs --progress FILE\n".utf8))
        exit(2)
    }
    let run = try Quill.startRun(project: "bench", name: "sigkill", options: options(home: home))
    var step = 0
    while true {
        let x = Double(step)
        try run.log(["loss": 1.0 / (1.0 + x), "acc": x / 1e6, "lr": 0.001], step: step)
        step += 1
        if step % 1000 == 0 { writeProgress(step, to: progress) }
    }
default:
    FileHandle.standardError.write(Data("unknown mode '\(mode)'\n".utf8))
    exit(2)
}
