import Foundation
import QuillCore
import QuillSteps
import QuillTesting
import Testing

/// Runs the example pipeline (`quill-steps-example`) as real processes sharing one steps folder.
///
/// The example is part of the package only when `QUILL_EXTRAS` is set, as scripts/test.sh (and so CI) does.
@Suite(
    "Steps across processes",
    .enabled(
        if: FileManager.default.isExecutableFile(atPath: BuiltProducts.path("quill-steps-example")),
        "quill-steps-example is built only with QUILL_EXTRAS=1 (scripts/test.sh sets it)"
    )
)
struct StepProcessTests {
    let example = BuiltProducts.path("quill-steps-example")

    func environment(_ temp: TemporaryDirectory, sleepMilliseconds: Int = 0) -> [String: String] {
        [
            "QUILL_STEPS_ROOT": temp.file("steps"), "QUILL_EXAMPLE_CREATES": temp.file("creates"),
            "QUILL_EXAMPLE_SLEEP_MS": String(sleepMilliseconds), "QUILL_STEP_POLL": "0.05",
        ]
    }

    func creates(_ temp: TemporaryDirectory) -> [String] {
        ((try? String(contentsOfFile: temp.file("creates"), encoding: .utf8)) ?? "").split(separator: "\n").map {
            String($0.split(separator: " ")[0])
        }
    }

    @Test("eight processes at once: each step is created exactly once and all eight get the result")
    func eightProcesses() async throws {
        let temp = TemporaryDirectory("quill-steps")
        let environment = environment(temp, sleepMilliseconds: 400)
        // Started together (not through the cooperative pool, which may have fewer threads than eight).
        var processes: [Process] = []
        for index in 0..<8 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: example)
            process.arguments = ["--steps", "50"]
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
            _ = FileManager.default.createFile(atPath: temp.file("out\(index)"), contents: nil)
            _ = FileManager.default.createFile(atPath: temp.file("err\(index)"), contents: nil)
            process.standardOutput = FileHandle(forWritingAtPath: temp.file("out\(index)"))
            process.standardError = FileHandle(forWritingAtPath: temp.file("err\(index)"))
            processes.append(process)
        }
        for process in processes { try process.run() }
        for process in processes { await process.ended() }
        let results = processes.indices.map { index in
            BuiltProducts.Result(
                status: processes[index].terminationStatus,
                signalled: false,
                stdout: (try? String(contentsOfFile: temp.file("out\(index)"), encoding: .utf8)) ?? "",
                stderr: (try? String(contentsOfFile: temp.file("err\(index)"), encoding: .utf8)) ?? ""
            )
        }
        #expect(results.allSatisfy { $0.status == 0 }, "\(results.map(\.stderr))")
        #expect(creates(temp).sorted() == ["Dataset", "TrainModel"])
        let outputs = Set(results.map { $0.stdout })
        #expect(outputs.count == 1)
        #expect(results.contains { $0.stderr.contains("(running→wait)") })
        #expect(
            results.filter { $0.stderr.contains("TrainModel") && $0.stderr.contains("(missing→create)") }.count == 1
        )
        // A ninth run loads both from the cache.
        let again = try await BuiltProducts.run(example, ["--steps", "50"], environment: environment)
        #expect(again.stderr.contains("(success→load)"))
        #expect(creates(temp).count == 2)
    }

    @Test("a holder killed with SIGKILL mid-create is taken over and the dead attempt recorded as crashed")
    func killedHolder() async throws {
        let temp = TemporaryDirectory("quill-steps")
        var environment = environment(temp, sleepMilliseconds: 60_000)
        environment["QUILL_STEP_LEASE"] = "2"
        environment["QUILL_STEP_HEARTBEAT"] = "0.5"
        let holder = try BuiltProducts.start(example, ["--steps", "20"], environment: environment)
        // Wait until it is inside the dataset's create.
        let deadline = Date().addingTimeInterval(60)
        while creates(temp).isEmpty && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(creates(temp) == ["Dataset"])
        kill(holder.processIdentifier, SIGKILL)
        await holder.ended()

        environment["QUILL_EXAMPLE_SLEEP_MS"] = "0"
        let taker = try await BuiltProducts.run(example, ["--steps", "20"], environment: environment)
        #expect(taker.status == 0, "\(taker.stderr)")
        #expect(taker.stderr.contains("(stale→takeover)"))
        #expect(creates(temp) == ["Dataset", "Dataset", "TrainModel"])
        let datasets = try FileManager.default.contentsOfDirectory(
            atPath: temp.file("steps/data/QuillStepsExample.Dataset")
        )
        let folder = try #require(datasets.first)
        let bytes = try FileIO.read(temp.file("steps/data/QuillStepsExample.Dataset/\(folder)/.quill/state.json"))
        let json = try JSONParser.parse(try #require(bytes))
        #expect(json["attempts"]?.arrayValue?.map { $0["status"] } == ["crashed", "success"])
        #expect(json["status"] == "success")
    }

    @Test("a step's create runs in a child process (quill-step run NAMESPACE/HASH) and the parent loads it")
    func childProcess() async throws {
        let temp = TemporaryDirectory("quill-steps")
        let result = try await BuiltProducts.run(example, ["--steps", "30", "--child"], environment: environment(temp))
        #expect(result.status == 0, "\(result.stderr)")
        let pids = ((try? String(contentsOfFile: temp.file("creates"), encoding: .utf8)) ?? "").split(separator: "\n")
            .map { $0.split(separator: " ").last.map(String.init) ?? "" }
        #expect(pids.count == 2)
        let models = try FileManager.default.contentsOfDirectory(
            atPath: temp.file("steps/data/QuillStepsExample.TrainModel")
        )
        let model = try #require(models.first)
        let bytes = try FileIO.read(temp.file("steps/data/QuillStepsExample.TrainModel/\(model)/.quill/state.json"))
        let state = try JSONParser.parse(try #require(bytes))
        #expect(state["attempts"]?.arrayValue?.first?["backend"] == "process")
        #expect(
            result.stdout.contains(
                "TrainModel(dataset: Dataset(name: \"spirals\", samples: 400, seed: 7), lr: 0.05, steps: 30)"
            )
        )

        let bad = try await BuiltProducts.run(
            example,
            ["quill-step", "run", "Nope.Step/abcdef"],
            environment: environment(temp)
        )
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("no step type is registered for 'Nope.Step'"))
    }

    func attempts(_ temp: TemporaryDirectory, _ reference: String) throws -> [String] {
        let hash = try #require(reference.split(separator: "/").last)
        let bytes = try FileIO.read(temp.file("steps/data/QuillStepsExample.TrainModel/\(hash)/.quill/state.json"))
        return (try JSONParser.parse(try #require(bytes))["attempts"]?.arrayValue ?? []).compactMap {
            $0["status"]?.stringValue
        }
    }

    /// Starts `quill-step run` for a recorded training step, stops it with SIGTERM once a create is
    /// running, and returns its exit status.
    func preempt(_ temp: TemporaryDirectory, _ reference: String, _ environment: [String: String]) async throws -> Int32
    {
        let before = creates(temp).count
        let runner = try BuiltProducts.start(example, ["quill-step", "run", reference], environment: environment)
        let deadline = Date().addingTimeInterval(60)
        // Inside the first create it runs: the dataset's, which the training step's create asked for.
        while creates(temp).count == before && Date() < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        kill(runner.processIdentifier, SIGTERM)
        await runner.ended()
        return runner.terminationStatus
    }

    @Test(
        "SIGTERM to quill-step run records the attempt as preempted; runs after it retry up to QUILL_STEP_PREEMPT_MAX"
    )
    func runnerPreemption() async throws {
        let temp = TemporaryDirectory("quill-steps")
        var slow = environment(temp, sleepMilliseconds: 60_000)
        let reference = try await BuiltProducts.run(example, ["--steps", "20", "--record"], environment: slow).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(reference.hasPrefix("QuillStepsExample.TrainModel/"))
        #expect(try await preempt(temp, reference, slow) == 75)
        #expect(try attempts(temp, reference) == ["preempted"])
        var fast = environment(temp)
        let resumed = try await BuiltProducts.run(example, ["quill-step", "run", reference], environment: fast)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try attempts(temp, reference) == ["preempted", "success"])

        // With no retries allowed, a preempted step is not started again.
        slow["QUILL_STEP_PREEMPT_MAX"] = "0"
        fast["QUILL_STEP_PREEMPT_MAX"] = "0"
        let other = try await BuiltProducts.run(example, ["--steps", "21", "--record"], environment: slow).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try await preempt(temp, other, slow) == 75)
        let refused = try await BuiltProducts.run(example, ["quill-step", "run", other], environment: fast)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("QUILL_STEP_PREEMPT_MAX"))
    }

    @Test("a child that fails or is killed is one error naming its status or signal, and the step is not made")
    func failingChild() async throws {
        let temp = TemporaryDirectory("quill-steps-child")
        let probe = Probe(log: temp.file("log"))
        // `false` ignores its arguments and exits 1; the script kills itself with SIGKILL.
        let killSelf = temp.file("kill-self")
        try "#!/bin/sh\nkill -KILL $$\n".write(toFile: killSelf, atomically: true, encoding: .utf8)
        chmod(killSelf, 0o755)
        for (executable, expected) in [("/bin/false", "exited with status 1"), (killSelf, "killed by signal 9")] {
            do {
                _ = try await StepRunner.loadOrCreateInChildProcess(
                    probe,
                    executable: executable,
                    options: options(temp)
                )
                Issue.record("\(executable): no error")
            } catch let error as QuillError {
                #expect(error.message.contains(expected), "\(error.message)")
                #expect(error.message.contains("quill-step run"), "\(error.message)")
            }
            #expect(try !probe.exists(options: options(temp)))
        }
    }
}
