// A training loop through the Quill Swift SDK, the shape of a job's program:
//
//   quill-sdk-example [--steps N] [--wait-for FILE]
//
// Started by `quill run`, by a job's worker (`quill submit -- quill-sdk-example`) or by whirr's worker, it
// logs into the run it is given (QUILL_RUN_DIR, or WHIRR_RUN_DIR with WHIRR_JOB_ID); alone, it starts a run.
// With --wait-for it stops half way, its rows written, until FILE exists (at most a minute), so a test can
// watch the run while it runs. It prints `run <id> <directory>` at the end.
import Foundation
import Quill
import QuillCore

let arguments = Array(CommandLine.arguments.dropFirst())
func argument(_ name: String) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}
let steps = argument("--steps").flatMap(Int.init) ?? 20
let waitFor = argument("--wait-for")

let run = try Quill.startRun(project: "examples", name: "sdk-example", config: ["steps": .int(steps)])
try run.logParam("optimizer", "sgd")
try run.setTag("phase", "train")
for step in 0..<steps {
    try run.log(["loss": 1.0 / Double(step + 1)], step: step)
    if step == steps / 2, let waitFor {
        try run.flush()
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: waitFor), Date() < deadline { usleep(50_000) }
    }
}
try run.logMessage("trained \(steps) steps")
let report = FileManager.default.temporaryDirectory.appendingPathComponent("quill-sdk-example-\(getpid()).txt").path
try Data("steps=\(steps)\n".utf8).write(to: URL(fileURLWithPath: report))
try run.logArtifact(report, name: "reports", fileName: "report.txt")
try? FileManager.default.removeItem(atPath: report)
try run.logSummary(["final_loss": .double(1.0 / Double(steps))])
try run.finish()
print("run \(run.id) \(run.directory.path)")
