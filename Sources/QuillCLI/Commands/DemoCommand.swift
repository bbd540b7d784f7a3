import ArgumentParser
import Foundation
import Quill
import QuillCore

/// `quill demo`: a short simulated training run that exercises the SDK.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Record a short simulated training run, to see Quill work.",
        discussion:
            "Logs a config, metrics at each step, validation metrics, messages, a summary and an artifact. Then try `quill runs` and `quill show NAME`."
    )

    @OptionGroup var homeOptions: HomeOptions

    @Option(name: .shortAndLong, help: "The project.")
    var project: String = "demo"

    @Option(name: .shortAndLong, help: "The run's name (a random one by default).")
    var name: String?

    @Option(name: .long, help: "Training steps to simulate.")
    var steps: Int = 200

    @Option(name: .long, help: "Milliseconds to sleep per step (a slower demo is easier to watch or interrupt).")
    var delayMs: Int = 5

    @Option(name: .long, help: "Learning rate of the simulated training.")
    var lr: Double = 0.01

    @Flag(help: "Throw an error halfway, to see a failed run.")
    var fail = false

    @Flag(help: "Print the recorded run as JSON when done.")
    var json = false

    @Flag(help: .hidden)
    var abandon = false

    func validate() throws {
        guard steps > 0 else { throw ValidationError("--steps must be at least 1") }
        guard delayMs >= 0 else { throw ValidationError("--delay-ms cannot be negative") }
    }

    struct SimulatedFailure: Error, CustomStringConvertible {
        var step: Int
        var description: String { "simulated failure at step \(step) (--fail)" }
    }

    func run() async throws {
        var options = RunOptions.fromEnvironment()
        options.home = homeOptions.quillHome
        let config: [String: JSONValue] = [
            "lr": .double(lr), "batch_size": 64, "steps": .int(steps),
            "optimizer": ["name": "adam", "beta1": 0.9, "beta2": 0.999], "model": ["layers": 4, "hidden": 256],
        ]
        let interactive = isatty(2) == 1
        let started = Date()
        let run = try Quill.startRun(
            project: project,
            name: name,
            config: config,
            tags: ["demo", "team:quill"],
            options: options
        )
        Console.printError("Recording run \(run.name) (\(run.id)) in project \(run.project.displayName)")
        do {
            try run.logMessage("demo training started with lr=\(lr)")
            var best = Double.infinity
            for step in 0..<steps {
                let progress = Double(step + 1) / Double(steps)
                let noise = Double.random(in: -0.02...0.02)
                let loss = 2.3 * exp(-lr * 30 * progress) + 0.05 + noise
                let accuracy = min(0.99, 1 - loss / 2.5)
                try run.log(["train/loss": loss, "train/acc": accuracy, "lr": lr * (1 - progress * 0.9)], step: step)
                if (step + 1) % max(1, steps / 10) == 0 {
                    let validation = loss * 1.1 + 0.02
                    best = min(best, validation)
                    try run.log(["val/loss": validation, "val/acc": accuracy - 0.03], step: step)
                    try run.logMessage("step \(step + 1)/\(steps): val/loss \(Formatting.number(validation))")
                    if interactive {
                        FileHandle.standardError.write(
                            Data("\r  step \(step + 1)/\(steps)  loss \(Formatting.number(loss))   ".utf8)
                        )
                    }
                }
                if fail, step == steps / 2 { throw SimulatedFailure(step: step) }
                if delayMs > 0 { try await Task.sleep(for: .milliseconds(delayMs)) }
            }
            if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
            if abandon {
                // Exit with the run still open, as a program that forgets finish() does: the SDK's exit
                // hook closes it as crashed.
                try run.flush()
                Platform.exit(0)
            }
            let card = FileManager.default.temporaryDirectory.appendingPathComponent(
                "quill-demo-\(run.id)-model-card.md"
            )
            try Data("# Demo model\n\nlr: \(lr)\nbest val/loss: \(best)\n".utf8).write(to: card)
            try run.logArtifact(card.path, fileName: "model-card.md")
            try? FileManager.default.removeItem(at: card)
            try run.logSummary(["best_val_loss": .double(best), "steps": .int(steps)])
            try run.finish()
        } catch let error as QuillError where error.code == .runFinished && run.status == .killed {
            // SIGINT or SIGTERM closed the run; the SDK ends the process with that signal.
            Console.printError("Run \(run.name) was stopped by a signal.")
            throw ExitCode(130)
        } catch {
            try? run.finish(.failed, error: String(describing: error))
            throw QuillError(.process, "demo run \(run.name) failed: \(error)")
        }
        let seconds = Date().timeIntervalSince(started)
        if json {
            Console.printJSON([
                "id": .string(run.id.rawValue), "name": .string(run.name), "project": .string(run.project.displayName),
                "status": .string(run.status.rawValue), "dir": .string(run.directory.path), "seconds": .double(seconds),
            ])
            return
        }
        Console.print("Run \(run.name) (\(run.id)) completed in \(Formatting.duration(seconds)).")
        Console.print("Next: `quill runs` to list runs, `quill show \(run.name)` for details.")
    }
}
