import Foundation
import QuillCore
import QuillSlurm
import QuillTesting
import Testing

/// Cached steps computed in SLURM batch jobs: the example pipeline (`quill-steps-example --executor slurm`)
/// as real processes, on the test cluster (`QUILL_TEST_SLURM_CONF`), sharing one steps folder.
@Suite(
    "Steps on SLURM",
    .serialized,
    .enabled(
        if: FileManager.default.isExecutableFile(atPath: BuiltProducts.path("quill-steps-example")),
        "quill-steps-example is built only with QUILL_EXTRAS=1 (scripts/test.sh sets it)"
    ),
    .enabled(if: TestSlurm.isAvailable, TestSlurm.skipComment)
)
struct SlurmStepTests {
    let example = BuiltProducts.path("quill-steps-example")

    func environment(_ temp: TemporaryDirectory) -> [String: String] {
        TestSlurm.environment.merging([
            "QUILL_STEPS_ROOT": temp.file("steps"), "QUILL_EXAMPLE_CREATES": temp.file("creates"),
            "QUILL_STEP_POLL": "0.1", "QUILL_STEP_JOB_POLL": "0.5", "QUILL_STEP_MAX_WAIT": "400",
            "QUILL_EXAMPLE_HOLD": temp.file("hold"),
        ]) { _, new in new }
    }

    /// The creates the example noted: `Name hash7 pid`, one a line.
    func creates(_ temp: TemporaryDirectory, _ name: String) -> [String] {
        ((try? String(contentsOfFile: temp.file("creates"), encoding: .utf8)) ?? "").split(separator: "\n")
            .map(String.init).filter { $0.hasPrefix(name + " ") }
    }

    /// The training step's `state.json`, once its folder exists.
    func state(_ temp: TemporaryDirectory) -> JSONValue? {
        let folder = temp.file("steps/data/QuillStepsExample.TrainModel")
        guard let hash = (try? FileManager.default.contentsOfDirectory(atPath: folder))?.first,
            let bytes = try? FileIO.read(folder + "/" + hash + "/.quill/state.json")
        else { return nil }
        return try? JSONParser.parse(bytes)
    }

    func attempts(_ temp: TemporaryDirectory) -> [JSONValue] {
        state(temp)?["attempts"]?.arrayValue ?? []
    }

    /// Waits (polling) until `condition` holds, for at most `seconds`.
    func wait(
        _ what: String,
        seconds: Double = 120,
        _ condition: () async throws -> Bool
    ) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestTimeout(what: what, seconds: seconds)
    }

    /// Starts the example with its output in files of `temp` named after `label`.
    func start(
        _ temp: TemporaryDirectory,
        _ label: String,
        _ arguments: [String],
        _ environment: [String: String]
    )
        throws -> Process
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: example)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        for name in ["\(label).out", "\(label).err"] {
            _ = FileManager.default.createFile(atPath: temp.file(name), contents: nil)
        }
        process.standardOutput = FileHandle(forWritingAtPath: temp.file("\(label).out"))
        process.standardError = FileHandle(forWritingAtPath: temp.file("\(label).err"))
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }

    func output(_ temp: TemporaryDirectory, _ label: String, error: Bool = false) -> String {
        (try? String(contentsOfFile: temp.file("\(label).\(error ? "err" : "out")"), encoding: .utf8)) ?? ""
    }

    /// Waits for a process to exit (polling, so no thread blocks), killing it after `seconds`.
    func finish(_ process: Process, seconds: Double = 240) async throws -> Int32 {
        do {
            try await wait("process \(process.processIdentifier) to exit", seconds: seconds) { !process.isRunning }
        } catch {
            process.terminate()
            throw error
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// The SLURM job of the training step's first attempt, once the submission recorded it.
    func submittedJob(_ temp: TemporaryDirectory) async throws -> String {
        var job: String?
        try await wait("the submission to record its SLURM job id", seconds: 60) {
            job = attempts(temp).first?["slurm_job_id"]?.stringValue
            return job != nil
        }
        return try #require(job)
    }

    /// Starts a caller that computes the training step (`--steps N`) through SLURM with its `create` held
    /// until the test removes the hold file (when `held`), and returns it with the job its submission recorded.
    func startCaller(
        _ temp: TemporaryDirectory,
        steps: Int,
        _ extra: [String] = [],
        held: Bool = true,
        environment: [String: String]? = nil
    ) async throws -> (process: Process, job: String) {
        if held { _ = FileManager.default.createFile(atPath: temp.file("hold"), contents: nil) }
        let arguments = ["--steps", String(steps), "--executor", "slurm"] + extra
        let process = try start(temp, "caller", arguments, environment ?? self.environment(temp))
        do {
            return (process, try await submittedJob(temp))
        } catch {
            process.terminate()
            throw error
        }
    }

    @Test("a step computed through SLURM while two other processes wait for it is computed exactly once")
    func computedOnce() async throws {
        let temp = TemporaryDirectory("quill-slurm-steps")
        let environment = environment(temp)
        _ = FileManager.default.createFile(atPath: temp.file("hold"), contents: nil)
        let arguments = ["--steps", "40"]
        let first = try start(temp, "first", arguments + ["--executor", "slurm", "--handle"], environment)
        defer { if first.isRunning { first.terminate() } }
        let job = try await submittedJob(temp)
        // While the job is queued or starting: one more SLURM caller and one local caller.
        let second = try start(temp, "second", arguments + ["--executor", "slurm", "--handle"], environment)
        defer { if second.isRunning { second.terminate() } }
        let third = try start(temp, "third", arguments, environment)
        defer { if third.isRunning { third.terminate() } }
        try await wait("the training step's create to start in the SLURM job") {
            creates(temp, "TrainModel").count == 1
        }
        try await wait("both other callers to wait") {
            output(temp, "second", error: true).contains("→wait")
                && output(temp, "third", error: true).contains("→wait")
        }
        try FileManager.default.removeItem(atPath: temp.file("hold"))
        let statuses = [try await finish(first), try await finish(second), try await finish(third)]
        #expect(statuses == [0, 0, 0], "\(["first", "second", "third"].map { output(temp, $0, error: true) })")

        #expect(creates(temp, "TrainModel").count == 1)
        #expect(creates(temp, "Dataset").count == 1)
        // Computed in the job: by none of the three callers.
        let creator = creates(temp, "TrainModel").first?.split(separator: " ").last.map(String.init)
        let callers = [first, second, third].map { String($0.processIdentifier) }
        #expect(creator != nil && !callers.contains(creator ?? ""))
        let outputs = Set(
            ["first", "second", "third"].map { label in
                output(temp, label).split(separator: "\n").filter { $0.hasPrefix("TrainModel(") }
            }
        )
        #expect(outputs.count == 1 && outputs.first?.count == 1, "\(outputs)")
        // The handles name the job: the first caller's as its submission, the second's as the one it found.
        #expect(output(temp, "first").contains("SLURM job: \(job) (submitted)"))
        #expect(output(temp, "second").contains("SLURM job: \(job)\n"))
        #expect(!output(temp, "second", error: true).contains("→submit"))
        #expect(!output(temp, "third", error: true).contains("→create"))

        let recorded = attempts(temp)
        #expect(recorded.map { $0["status"]?.stringValue } == ["success"])
        #expect(recorded.first?["backend"] == "slurm")
        #expect(recorded.first?["slurm_job_id"]?.stringValue == job)
        #expect(state(temp)?["status"] == "success")
    }

    @Test("a step whose SLURM job is requeued twice completes on its third attempt, the first two preempted")
    func preemptedTwice() async throws {
        let temp = TemporaryDirectory("quill-slurm-steps")
        let slurm = try TestSlurm.client()
        let (caller, job) = try await startCaller(temp, steps: 30)
        defer { if caller.isRunning { caller.terminate() } }
        let id = try #require(SlurmJobID(job))
        for round in 1...2 {
            try await wait("attempt \(round) to run the training step's create") {
                creates(temp, "TrainModel").count == round
            }
            try await slurm.requeue(id)
            try await wait("attempt \(round) to be recorded as preempted") {
                attempts(temp).count == round && attempts(temp).last?["status"] == "preempted"
            }
            // SLURM holds a requeued job back for about two minutes; let it start again now.
            try await wait("the requeued job to be eligible again", seconds: 60) {
                guard try await slurm.poll(id).first?.state == "PENDING" else { return false }
                return try await slurm.run("scontrol", ["update", "JobId=\(id)", "StartTime=now"]).status == 0
            }
        }
        try await wait("attempt 3 to run the training step's create") { creates(temp, "TrainModel").count == 3 }
        try FileManager.default.removeItem(atPath: temp.file("hold"))
        let status = try await finish(caller)
        #expect(status == 0, "\(output(temp, "caller", error: true))")
        #expect(output(temp, "caller").contains("TrainModel("))

        let recorded = attempts(temp)
        #expect(recorded.map { $0["status"]?.stringValue } == ["preempted", "preempted", "success"])
        #expect(recorded.allSatisfy { $0["slurm_job_id"]?.stringValue == job && $0["backend"] == "slurm" })
        #expect(state(temp)?["status"] == "success")
        // One submission: SLURM ran the same job three times.
        #expect(output(temp, "caller", error: true).components(separatedBy: "→submit").count == 2)
    }

    @Test("a step whose SLURM job fails records the attempt as failed with SLURM's reason")
    func failedJob() async throws {
        let temp = TemporaryDirectory("quill-slurm-steps")
        var environment = environment(temp)
        // The training step's create ends its process with status 3, as a crash would: the runner cannot
        // record anything, and SLURM's answer is all there is.
        environment["QUILL_EXAMPLE_EXIT"] = "3"
        let (caller, job) = try await startCaller(temp, steps: 25, held: false, environment: environment)
        defer { if caller.isRunning { caller.terminate() } }
        let status = try await finish(caller)
        let stderr = output(temp, "caller", error: true)
        #expect(status == 1, "\(stderr)")
        #expect(stderr.contains("SLURM job \(job) FAILED: exited with status 3"), "\(stderr)")

        let recorded = attempts(temp)
        #expect(recorded.map { $0["status"]?.stringValue } == ["failed"])
        #expect(
            recorded.first?["error"]?.stringValue?.contains("SLURM job \(job) FAILED: exited with status 3") == true
        )
        #expect(state(temp)?["status"] == "failed")
        // The lock is released: the next call computes again.
        #expect(
            !FileManager.default.fileExists(
                atPath: temp.file(
                    "steps/data/QuillStepsExample.TrainModel/\(try #require(stateHash(temp)))/.quill/lock"
                )
            )
        )
    }

    @Test("a step whose SLURM job is cancelled (scancel) records the attempt as cancelled and is not submitted again")
    func cancelledJob() async throws {
        let temp = TemporaryDirectory("quill-slurm-steps")
        let slurm = try TestSlurm.client()
        let (caller, job) = try await startCaller(temp, steps: 26)
        defer { if caller.isRunning { caller.terminate() } }
        try await wait("the training step's create to start in the SLURM job") {
            creates(temp, "TrainModel").count == 1
        }
        try await slurm.cancel([try #require(SlurmJobID(job))])
        let status = try await finish(caller)
        let stderr = output(temp, "caller", error: true)
        #expect(status == 1, "\(stderr)")
        #expect(stderr.contains("SLURM job \(job) was cancelled in SLURM"), "\(stderr)")
        #expect(attempts(temp).map { $0["status"]?.stringValue } == ["cancelled"])
        #expect(stderr.components(separatedBy: "→submit").count == 2)
    }

    @Test("with QUILL_CANCELLED_IS_PREEMPTED a cancelled SLURM job counts as preempted and the step is submitted again")
    func cancelledIsPreempted() async throws {
        let temp = TemporaryDirectory("quill-slurm-steps")
        let slurm = try TestSlurm.client()
        var environment = environment(temp)
        environment["QUILL_CANCELLED_IS_PREEMPTED"] = "1"
        let (caller, first) = try await startCaller(temp, steps: 27, environment: environment)
        defer { if caller.isRunning { caller.terminate() } }
        try await wait("the training step's create to start in the SLURM job") {
            creates(temp, "TrainModel").count == 1
        }
        try await slurm.cancel([try #require(SlurmJobID(first))])
        try await wait("a second SLURM job to run the training step's create") {
            creates(temp, "TrainModel").count == 2
        }
        try FileManager.default.removeItem(atPath: temp.file("hold"))
        let status = try await finish(caller)
        #expect(status == 0, "\(output(temp, "caller", error: true))")
        let recorded = attempts(temp)
        #expect(recorded.map { $0["status"]?.stringValue } == ["preempted", "success"])
        let jobs = recorded.compactMap { $0["slurm_job_id"]?.stringValue }
        #expect(jobs.count == 2 && jobs[0] == first && jobs[1] != first, "\(jobs)")
        #expect(recorded.first?["error"]?.stringValue?.contains("QUILL_CANCELLED_IS_PREEMPTED") == true)
    }

    @Test("a step whose SLURM job runs past --time fails as TIMEOUT, not preempted, though its runner got SIGTERM")
    func timedOut() async throws {
        let temp = TemporaryDirectory("quill-slurm-steps")
        // One minute, SLURM's smallest limit; its controller checks limits about every 30 s.
        let (caller, job) = try await startCaller(temp, steps: 22, ["--time", "1"])
        defer { if caller.isRunning { caller.terminate() } }
        let status = try await finish(caller, seconds: 240)
        let stderr = output(temp, "caller", error: true)
        #expect(status == 1, "\(stderr)")
        #expect(stderr.contains("SLURM job \(job) TIMEOUT"), "\(stderr)")
        let recorded = attempts(temp)
        #expect(recorded.map { $0["status"]?.stringValue } == ["failed"])
        #expect(recorded.first?["error"]?.stringValue?.contains("TIMEOUT") == true)
        #expect(state(temp)?["status"] == "failed")
    }

    @Test("a job SLURM refuses fails the call with SLURM's reason, records the attempt and leaves no lock")
    func refusedSubmission() async throws {
        let temp = TemporaryDirectory("quill-slurm-steps")
        let result = try await BuiltProducts.run(
            example,
            ["--steps", "24", "--executor", "slurm", "--partition", "no-such-partition"],
            environment: environment(temp)
        )
        #expect(result.status == 1)
        #expect(result.stderr.contains("SLURM refused the job"), "\(result.stderr)")
        let recorded = attempts(temp)
        #expect(recorded.map { $0["status"]?.stringValue } == ["failed"])
        #expect(recorded.first?["error"]?.stringValue?.hasPrefix("could not submit: SLURM refused the job") == true)
        let hash = try #require(stateHash(temp))
        #expect(
            !FileManager.default.fileExists(
                atPath: temp.file("steps/data/QuillStepsExample.TrainModel/\(hash)/.quill/lock")
            )
        )

        // An invalid time limit is refused before anything is locked or recorded.
        let invalid = try await BuiltProducts.run(
            example,
            ["--steps", "23", "--executor", "slurm", "--time", "soon"],
            environment: environment(temp)
        )
        #expect(invalid.status == 1)
        #expect(invalid.stderr.contains("--time takes a SLURM time limit"), "\(invalid.stderr)")
    }

    func stateHash(_ temp: TemporaryDirectory) -> String? {
        (try? FileManager.default.contentsOfDirectory(atPath: temp.file("steps/data/QuillStepsExample.TrainModel")))?
            .first
    }
}

/// A condition a test waited for did not hold in time.
struct TestTimeout: Error, CustomStringConvertible {
    var what: String
    var seconds: Double
    var description: String { "waited \(Int(seconds)) s for \(what)" }
}
