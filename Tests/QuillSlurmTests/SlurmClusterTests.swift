import Foundation
import QuillCore
import QuillTesting
import Testing

@testable import QuillSlurm

/// QuillSlurm against a real cluster (`QUILL_TEST_SLURM_CONF`; scripts/test.sh starts one). Jobs ask for little
/// memory so several fit on the one node, and every wait has a deadline.
@Suite(.enabled(if: TestSlurm.isAvailable, TestSlurm.skipComment), .serialized)
struct SlurmClusterTests {
    /// Small jobs: the one-node test cluster then runs several at once.
    static let small = SlurmParameters(mem: "50M")

    /// Polls `id` until `done` holds for its records, failing after `timeout`.
    static func waitFor(
        _ slurm: SlurmClient,
        _ id: SlurmJobID,
        _ what: String,
        timeout: Duration = .seconds(180),
        until done: ([SlurmJobInfo]) -> Bool
    ) async throws -> [SlurmJobInfo] {
        let deadline = ContinuousClock.now + timeout
        var last: [SlurmJobInfo] = []
        while ContinuousClock.now < deadline {
            last = try await slurm.poll(id)
            if done(last) { return last }
            try await Task.sleep(for: .milliseconds(300))
        }
        Issue.record("SLURM job \(id) did not reach '\(what)' within \(timeout); last seen: \(last)")
        throw CancellationError()
    }

    @Test func aSubmittedJobRunsAndWritesItsOutput() async throws {
        let slurm = try TestSlurm.client()
        try await slurm.ping()
        let directory = try TestSlurm.sharedDirectory("plain")
        let script = SlurmBatchScript(
            name: "quill-test-plain",
            parameters: Self.small,
            tasks: [.init(argv: ["sh", "-c", "echo \"hello $GREETING from $SLURM_JOB_ID\"; echo oops >&2"])],
            environment: ["GREETING": "it's me"],
            workingDirectory: directory,
            outputPath: directory + "/out-%j.log"
        )
        let id = try await slurm.submit(script, writingTo: directory + "/job.sh")
        let infos = try await Self.waitFor(slurm, id, "completed") { $0.first?.phase().isFinal == true }
        #expect(infos.count == 1)
        #expect(infos.first?.phase() == .completed)
        #expect(infos.first?.exitCode == 0)
        let output = try String(contentsOfFile: script.outputPath(for: id), encoding: .utf8)
        #expect(output.contains("hello it's me from \(id.job)"))
        #expect(output.contains("oops"))
    }

    @Test func aFailingJobIsFailedWithItsStatus() async throws {
        let slurm = try TestSlurm.client()
        let directory = try TestSlurm.sharedDirectory("fail")
        let script = SlurmBatchScript(
            name: "quill-test-fail",
            parameters: Self.small,
            tasks: [.init(argv: ["sh", "-c", "exit 3"])],
            outputPath: directory + "/out.log"
        )
        let id = try await slurm.submit(script, writingTo: directory + "/job.sh")
        let infos = try await Self.waitFor(slurm, id, "ended") { $0.first?.phase().isFinal == true }
        #expect(infos.first?.state == "FAILED")
        #expect(infos.first?.exitCode == 3)
        #expect(infos.first?.phase() == .failed("SLURM job \(id) FAILED: exited with status 3 (NonZeroExitCode)"))
    }

    @Test func oneCallPollsManyJobsAndForgottenOnesAreAbsent() async throws {
        let slurm = try TestSlurm.client()
        let directory = try TestSlurm.sharedDirectory("many")
        var ids: [SlurmJobID] = []
        for index in 0..<3 {
            let script = SlurmBatchScript(
                name: "quill-test-many-\(index)",
                parameters: Self.small,
                tasks: [.init(argv: ["true"])],
                outputPath: directory + "/out-\(index).log"
            )
            ids.append(try await slurm.submit(script, writingTo: directory + "/job-\(index).sh"))
        }
        let unknown = SlurmJobID(job: 999_999_999)
        let deadline = ContinuousClock.now + .seconds(180)
        var states: [SlurmJobID: SlurmJobInfo] = [:]
        while ContinuousClock.now < deadline {
            states = try await slurm.poll(ids + [unknown])
            if ids.allSatisfy({ states[$0]?.phase() == .completed }) { break }
            try await Task.sleep(for: .milliseconds(300))
        }
        #expect(ids.allSatisfy { states[$0]?.phase() == .completed }, "last seen: \(states)")
        #expect(states[unknown] == nil)
        #expect(try await slurm.poll([unknown]).isEmpty)
        #expect(try await slurm.poll([]).isEmpty)
    }

    @Test func cancelStopsARunningJob() async throws {
        let slurm = try TestSlurm.client()
        let directory = try TestSlurm.sharedDirectory("cancel")
        let script = SlurmBatchScript(
            name: "quill-test-cancel",
            parameters: Self.small,
            tasks: [.init(argv: ["sleep", "300"])],
            outputPath: directory + "/out.log"
        )
        let id = try await slurm.submit(script, writingTo: directory + "/job.sh")
        _ = try await Self.waitFor(slurm, id, "running") { $0.first?.phase() == .running }
        try await slurm.cancel([id])
        let infos = try await Self.waitFor(slurm, id, "cancelled", timeout: .seconds(60)) {
            $0.first?.phase().isFinal == true
        }
        #expect(infos.first?.phase() == .cancelled("SLURM job \(id) was cancelled in SLURM"))
        guard
            case .preempted(_, requeued: false) = infos.first?.phase(SlurmPreemptionPolicy(cancelledIsPreempted: true))
        else {
            Issue.record("CANCELLED is not a preemption under QUILL_CANCELLED_IS_PREEMPTED")
            return
        }
        // Cancelling again, or a job SLURM never knew, is not an error.
        try await slurm.cancel([id, SlurmJobID(job: 999_999_999)])
    }

    @Test func anArrayRunsEveryTaskAtMostTwoAtOnce() async throws {
        let slurm = try TestSlurm.client()
        let directory = try TestSlurm.sharedDirectory("array")
        let script = SlurmBatchScript(
            name: "quill-test-array",
            parameters: Self.small,
            tasks: (0..<4).map { .init(argv: ["sh", "-c", "echo task \($0) of $SLURM_ARRAY_JOB_ID; sleep 1"]) },
            outputPath: directory + "/out-%A_%a.log",
            maxParallel: 2
        )
        let id = try await slurm.submit(script, writingTo: directory + "/job.sh")
        var mostRunning = 0
        let infos = try await Self.waitFor(slurm, id, "all tasks ended") { infos in
            mostRunning = max(mostRunning, infos.filter { $0.phase() == .running }.count)
            return infos.count == 4 && infos.allSatisfy { $0.phase().isFinal }
        }
        #expect(infos.map(\.id) == (0..<4).map { id.task($0) })
        #expect(infos.allSatisfy { $0.phase() == .completed })
        #expect(mostRunning <= 2)
        for index in 0..<4 {
            let output = try String(contentsOfFile: script.outputPath(for: id.task(index)), encoding: .utf8)
            #expect(output.contains("task \(index) of \(id.job)"))
        }
    }

    @Test func aRequeuedJobIsSeenPreemptedAndRunsAgain() async throws {
        let slurm = try TestSlurm.client()
        let directory = try TestSlurm.sharedDirectory("requeue")
        let script = SlurmBatchScript(
            name: "quill-test-requeue",
            parameters: Self.small,
            tasks: [
                .init(argv: [
                    "sh", "-c",
                    "echo attempt ${SLURM_RESTART_COUNT:-0}; [ \"${SLURM_RESTART_COUNT:-0}\" -ge 1 ] || sleep 300",
                ])
            ],
            outputPath: directory + "/out.log"
        )
        let id = try await slurm.submit(script, writingTo: directory + "/job.sh")
        var follower = SlurmJobFollower(policy: SlurmPreemptionPolicy())
        var events: [SlurmJobFollower.Event] = []
        _ = try await Self.waitFor(slurm, id, "running") { infos in
            events += follower.observe(infos.first)
            return infos.first?.phase() == .running
        }
        try await slurm.requeue(id, now: true)
        let infos = try await Self.waitFor(slurm, id, "completed after a requeue") { infos in
            events += follower.observe(infos.first)
            return infos.first?.phase().isFinal == true
        }
        #expect(infos.first?.phase() == .completed)
        #expect(infos.first?.restarts == 1)
        #expect(events.filter { if case .requeued = $0 { true } else { false } }.count == 1, "events: \(events)")
        #expect(events.last == .ended(.completed))
        let output = try String(contentsOfFile: directory + "/out.log", encoding: .utf8)
        #expect(
            output.contains("attempt 0") && output.contains("attempt 1"),
            "append mode keeps both attempts: \(output)"
        )
    }

    @Test func sbatchRefusalsAndUnreachableControllersAreOneLine() async throws {
        let slurm = try TestSlurm.client()
        let directory = try TestSlurm.sharedDirectory("refused")
        let script = SlurmBatchScript(
            name: "quill-test-refused",
            parameters: SlurmParameters(partition: "no-such-partition"),
            tasks: [.init(argv: ["true"])],
            outputPath: directory + "/out.log"
        )
        let refused = await #expect(throws: QuillError.self) {
            try await slurm.submit(script, writingTo: directory + "/job.sh")
        }
        #expect(refused?.code == .process)
        #expect(refused?.message.hasPrefix("SLURM refused the job") == true)
        #expect(refused?.message.lowercased().contains("partition") == true, "\(String(describing: refused))")
        let nowhere = SlurmClient(
            configuration: .init(slurmConf: directory + "/missing.conf", commandTimeout: .seconds(5))
        )
        await #expect(throws: QuillError.self) { try await nowhere.ping() }
        let noTools = SlurmClient(configuration: .init(toolDirectory: directory))
        let missing = await #expect(throws: QuillError.self) { try await noTools.ping() }
        #expect(missing?.message.contains("could not run `\(directory)/sinfo`") == true)
    }
}
