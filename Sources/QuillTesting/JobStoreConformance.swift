import Foundation
import QuillCore
public import QuillStore
import Synchronization
public import Testing

/// A fresh, empty job store to check, with a project to submit to and a way to open more connections to the
/// same database (another process's view of it).
public struct JobStoreFixture: Sendable {
    /// The store under test.
    public var store: any JobStore
    /// A project jobs can be submitted to.
    public var projectID: Int64
    /// Opens another connection (another store value) on the same database.
    public var openAnother: @Sendable () async throws -> any JobStore

    /// A fixture.
    public init(store: any JobStore, projectID: Int64, openAnother: @escaping @Sendable () async throws -> any JobStore)
    {
        self.store = store
        self.projectID = projectID
        self.openAnother = openAnother
    }
}

/// The behaviour every ``JobStore`` must have: `@Test(arguments: JobStoreConformance.allCases)`.
public enum JobStoreConformance: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case submitAndRead
    case claimsByPriorityThenAge
    case claimsMatchResources
    case gpusAreNeverDoubleBooked
    case concurrentClaimersNeverShareAnAttempt
    case expiredLeasesRequeueThenFail
    case renewedLeasesAreKept
    case cancelQueuedAndRunning
    case cancelRacingCompletionIsConsistent
    case handBackRequeuesWithoutUsingAnAttempt
    case retryQueuesAgain
    case devicesRegisterHeartbeatAndExpire
    case everyJobIsARunFromSubmission
    /// A preempted attempt (SLURM, issue 16) re-queues the job without using an attempt and keeps its reason.
    case preemptionRequeuesAndIsRecorded
    /// The SLURM job an attempt runs as is recorded on that attempt only, and only while it runs (issue 16).
    case slurmJobIsRecordedOnTheAttempt

    /// The check's name in test output.
    public var testDescription: String { rawValue }

    /// Runs the check on a fresh store.
    public func check(_ fixture: JobStoreFixture) async throws {
        switch self {
        case .submitAndRead: try await submitAndRead(fixture)
        case .claimsByPriorityThenAge: try await claimOrder(fixture)
        case .claimsMatchResources: try await resources(fixture)
        case .gpusAreNeverDoubleBooked: try await gpus(fixture)
        case .concurrentClaimersNeverShareAnAttempt: try await concurrentClaims(fixture)
        case .expiredLeasesRequeueThenFail: try await expiry(fixture)
        case .renewedLeasesAreKept: try await renewal(fixture)
        case .cancelQueuedAndRunning: try await cancel(fixture)
        case .cancelRacingCompletionIsConsistent: try await cancelRace(fixture)
        case .handBackRequeuesWithoutUsingAnAttempt: try await handBack(fixture)
        case .retryQueuesAgain: try await retry(fixture)
        case .devicesRegisterHeartbeatAndExpire: try await devices(fixture)
        case .everyJobIsARunFromSubmission: try await jobRuns(fixture)
        case .preemptionRequeuesAndIsRecorded: try await preemption(fixture)
        case .slurmJobIsRecordedOnTheAttempt: try await slurmJob(fixture)
        }
    }

    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    static let lease: Duration = .seconds(30)

    static func at(_ seconds: Double) -> Date { t0.addingTimeInterval(seconds) }

    @discardableResult
    static func submit(
        _ fixture: JobStoreFixture,
        _ name: String,
        priority: Int = 0,
        resources: JobResources = JobResources(),
        maxAttempts: Int = 3,
        at time: Double = 0
    ) async throws -> Job {
        var job = NewJob(projectID: fixture.projectID, runID: RunID.random(), name: name, argv: ["echo", name])
        job.priority = priority
        job.resources = resources
        job.maxAttempts = maxAttempts
        return try await fixture.store.submitJob(job, now: at(time))
    }

    private func submitAndRead(_ fixture: JobStoreFixture) async throws {
        let store = fixture.store
        var spec = NewJob(projectID: fixture.projectID, runID: RunID.random(), name: "train", argv: ["python", "t.py"])
        spec.workdir = "/tmp"
        spec.environment = ["A": "1"]
        spec.config = ["lr": .double(0.1)]
        spec.tags = ["team": "ml"]
        spec.resources = JobResources(gpus: 2, device: "box", labels: ["a100"])
        spec.priority = 5
        spec.maxAttempts = 2
        spec.timeout = .seconds(90)
        spec.submittedBy = "ada"
        let job = try await store.submitJob(spec, now: Self.t0)
        #expect(job.status == .queued)
        #expect(job.spec == spec)
        #expect(job.attempts.isEmpty)
        #expect(job.createdAt == Self.t0)
        let read = try #require(try await store.job(job.id))
        #expect(read == job)
        let second = try await Self.submit(fixture, "second")
        #expect(second.id > job.id)
        #expect(try await store.jobs(JobQuery()).map(\.id) == [second.id, job.id])
        #expect(try await store.jobs(JobQuery(limit: 1)).map(\.id) == [second.id])
        #expect(try await store.jobs(JobQuery(beforeID: second.id)).map(\.id) == [job.id])
        #expect(try await store.jobs(JobQuery(statuses: [.running])).isEmpty)
        #expect(try await store.jobs(JobQuery(projectIDs: [fixture.projectID + 1000])).isEmpty)
        #expect(try await store.jobCounts(projectIDs: nil) == [.queued: 2])
        #expect(try await store.job(job.id + 1000) == nil)
        try await expectError(.invalidArgument) {
            _ = try await store.submitJob(
                NewJob(projectID: fixture.projectID, runID: .random(), name: "x", argv: []),
                now: Self.t0
            )
        }
        var noAttempts = NewJob(projectID: fixture.projectID, runID: .random(), name: "x", argv: ["true"])
        noAttempts.maxAttempts = 0
        try await expectError(.invalidArgument) { _ = try await store.submitJob(noAttempts, now: Self.t0) }
        try await expectError(.notFound) {
            _ = try await store.submitJob(
                NewJob(projectID: fixture.projectID + 1000, runID: .random(), name: "x", argv: ["true"]),
                now: Self.t0
            )
        }
        try await expectError(.conflict) {
            _ = try await store.submitJob(
                NewJob(projectID: fixture.projectID, runID: spec.runID, name: "x", argv: ["true"]),
                now: Self.t0
            )
        }
        try await expectError(.notFound) { _ = try await store.cancelJob(job.id + 1000, reason: nil, now: Self.t0) }
    }

    private func claimOrder(_ fixture: JobStoreFixture) async throws {
        let low = try await Self.submit(fixture, "low", priority: 0, at: 0)
        let highOld = try await Self.submit(fixture, "high-old", priority: 10, at: 1)
        let highNew = try await Self.submit(fixture, "high-new", priority: 10, at: 2)
        // Listed in claim order (the dashboard's queue), and newest first by default.
        var queue = JobQuery(statuses: [.queued])
        queue.claimOrder = true
        #expect(try await fixture.store.jobs(queue).map(\.id) == [highOld.id, highNew.id, low.id])
        queue.limit = 1
        #expect(try await fixture.store.jobs(queue).map(\.id) == [highOld.id])
        #expect(try await fixture.store.jobs(JobQuery()).map(\.id) == [highNew.id, highOld.id, low.id])
        let worker = WorkerCapabilities(name: "w", slots: 10)
        var order: [Int64] = []
        while let claim = try await fixture.store.claimJob(worker, lease: Self.lease, now: Self.at(5)) {
            order.append(claim.job.id)
            #expect(claim.job.status == .running)
            #expect(claim.attempt.number == 1)
            #expect(claim.attempt.worker == "w")
            #expect(claim.attempt.leaseExpiresAt == Self.at(35))
            #expect(claim.job.attemptsUsed == 1)
            #expect(claim.job.currentAttempt == claim.attempt)
        }
        #expect(order == [highOld.id, highNew.id, low.id])
        #expect(try await fixture.store.jobCounts(projectIDs: nil) == [.running: 3])
    }

    private func resources(_ fixture: JobStoreFixture) async throws {
        let store = fixture.store
        let pinned = try await Self.submit(fixture, "pinned", priority: 3, resources: JobResources(device: "box-2"))
        let labelled = try await Self.submit(
            fixture,
            "labelled",
            priority: 2,
            resources: JobResources(labels: ["a100", "big"])
        )
        let gpu = try await Self.submit(fixture, "gpu", priority: 1, resources: JobResources(gpus: 1))
        let plain = try await Self.submit(fixture, "plain")
        let box1 = WorkerCapabilities(name: "box-1", slots: 10, labels: ["a100"])
        // box-1 cannot run the pinned, the labelled (no "big") or the GPU job.
        #expect(try await store.claimJob(box1, lease: Self.lease, now: Self.t0)?.job.id == plain.id)
        #expect(try await store.claimJob(box1, lease: Self.lease, now: Self.t0) == nil)
        let box2 = WorkerCapabilities(name: "box-2", slots: 1, gpus: [0], labels: ["a100", "big"])
        #expect(try await store.claimJob(box2, lease: Self.lease, now: Self.t0)?.job.id == pinned.id)
        // One slot, now full.
        #expect(try await store.claimJob(box2, lease: Self.lease, now: Self.t0) == nil)
        let box3 = WorkerCapabilities(name: "box-3", slots: 2, gpus: [7], labels: ["big", "a100", "x"])
        let third = try #require(try await store.claimJob(box3, lease: Self.lease, now: Self.t0))
        #expect(third.job.id == labelled.id)
        #expect(third.attempt.gpus.isEmpty)
        let fourth = try #require(try await store.claimJob(box3, lease: Self.lease, now: Self.t0))
        #expect(fourth.job.id == gpu.id)
        #expect(fourth.attempt.gpus == [7])
        try await expectError(.invalidArgument) {
            _ = try await store.claimJob(WorkerCapabilities(name: "z", slots: 0), lease: Self.lease, now: Self.t0)
        }
    }

    private func gpus(_ fixture: JobStoreFixture) async throws {
        let store = fixture.store
        // Simulated GPUs 0-3; jobs asking 2, 1, 2, 1, 1 GPUs.
        let asks = [2, 1, 2, 1, 1]
        for (index, count) in asks.enumerated() {
            try await Self.submit(fixture, "g\(index)", resources: JobResources(gpus: count), at: Double(index))
        }
        let worker = WorkerCapabilities(name: "gpu-box", slots: 8, gpus: [0, 1, 2, 3])
        var running: [AttemptRef: [Int]] = [:]
        var clock = 10.0
        var finished = 0
        while finished < asks.count {
            clock += 1
            if let claim = try await store.claimJob(worker, lease: Self.lease, now: Self.at(clock)) {
                #expect(claim.attempt.gpus.count == claim.job.spec.resources.gpus)
                let held = Set(running.values.joined())
                #expect(
                    held.isDisjoint(with: claim.attempt.gpus),
                    "GPU double-booked: \(claim.attempt.gpus) vs \(held)"
                )
                #expect(Set(claim.attempt.gpus).isSubset(of: [0, 1, 2, 3]))
                running[claim.ref] = claim.attempt.gpus
                continue
            }
            // Nothing fits: finish the oldest running attempt to free its GPUs.
            let ref = try #require(running.keys.min { $0.jobID < $1.jobID })
            running[ref] = nil
            _ = try await store.finishAttempt(ref, AttemptResult(.completed, exitCode: 0), now: Self.at(clock))
            finished += 1
        }
        #expect(try await store.jobCounts(projectIDs: nil) == [.completed: asks.count])
    }

    private func concurrentClaims(_ fixture: JobStoreFixture) async throws {
        let jobs = 120
        for index in 0..<jobs { try await Self.submit(fixture, "j\(index)") }
        var stores: [any JobStore] = [fixture.store]
        for _ in 0..<3 { stores.append(try await fixture.openAnother()) }
        let claimed = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for (index, store) in stores.enumerated() {
                for claimer in 0..<3 {
                    let worker = WorkerCapabilities(name: "w\(index)-\(claimer)", slots: 1000)
                    group.addTask {
                        var mine: [Int64] = []
                        while let claim = try await store.claimJob(worker, lease: Self.lease, now: Self.t0) {
                            mine.append(claim.job.id)
                            _ = try await store.finishAttempt(
                                claim.ref,
                                AttemptResult(.completed, exitCode: 0),
                                now: Self.t0
                            )
                        }
                        return mine
                    }
                }
            }
            var all: [Int64] = []
            for try await mine in group { all += mine }
            return all
        }
        #expect(claimed.count == jobs, "every job claimed exactly once")
        #expect(Set(claimed).count == jobs, "no job claimed twice")
        #expect(try await fixture.store.jobCounts(projectIDs: nil) == [.completed: jobs])
        for job in try await fixture.store.jobs(JobQuery(limit: jobs)) {
            #expect(job.attempts.count == 1)
        }
    }

    private func expiry(_ fixture: JobStoreFixture) async throws {
        let store = fixture.store
        let job = try await Self.submit(fixture, "flaky", maxAttempts: 2)
        let worker = WorkerCapabilities(name: "w")
        let first = try #require(try await store.claimJob(worker, lease: .seconds(10), now: Self.t0))
        // Not yet expired.
        #expect(try await store.recoverExpiredLeases(now: Self.at(9)).isEmpty)
        let recovered = try await store.recoverExpiredLeases(now: Self.at(11))
        #expect(recovered.map(\.id) == [job.id])
        #expect(recovered.first?.status == .queued)
        #expect(recovered.first?.attempts.last?.outcome == .lost)
        // The presumed-dead worker cannot renew or finish the lost attempt.
        try await expectError(.conflict) {
            _ = try await store.renewLease(first.ref, lease: .seconds(10), now: Self.at(12))
        }
        try await expectError(.conflict) {
            _ = try await store.finishAttempt(first.ref, AttemptResult(.completed, exitCode: 0), now: Self.at(12))
        }
        let second = try #require(
            try await store.claimJob(WorkerCapabilities(name: "v"), lease: .seconds(10), now: Self.at(20))
        )
        #expect(second.attempt.number == 2)
        #expect(second.job.attemptsUsed == 2)
        let failed = try await store.recoverExpiredLeases(now: Self.at(31))
        let final = try #require(failed.first)
        #expect(final.status == .failed)
        #expect(final.reason?.contains("lost") == true)
        #expect(final.reason?.contains("'v'") == true)
        #expect(final.endedAt == Self.at(31))
        #expect(final.attempts.map(\.outcome) == [.lost, .lost])
        #expect(try await store.claimJob(worker, lease: .seconds(10), now: Self.at(40)) == nil)
    }

    private func slurmJob(_ fixture: JobStoreFixture) async throws {
        let store = fixture.store
        let job = try await Self.submit(fixture, "on-slurm")
        let first = try #require(
            try await store.claimJob(WorkerCapabilities(name: "w"), lease: Self.lease, now: Self.t0)
        )
        #expect(first.attempt.slurmJobID == nil)
        try await store.recordSlurmJob(first.ref, id: "4242")
        #expect(try await store.job(job.id)?.attempts.last?.slurmJobID == "4242")
        _ = try await store.finishAttempt(first.ref, AttemptResult(.preempted, reason: "requeued"), now: Self.at(1))
        try await expectError(.conflict) { try await store.recordSlurmJob(first.ref, id: "4243") }
        let second = try #require(
            try await store.claimJob(WorkerCapabilities(name: "w"), lease: Self.lease, now: Self.at(2))
        )
        try await store.recordSlurmJob(second.ref, id: "4244_3")
        let read = try #require(try await store.job(job.id))
        #expect(read.attempts.map(\.slurmJobID) == ["4242", "4244_3"], "\(read.attempts)")
        let listed = try await store.jobs(JobQuery()).first { $0.id == job.id }
        #expect(listed?.attempts.map(\.slurmJobID) == ["4242", "4244_3"])
    }

    private func renewal(_ fixture: JobStoreFixture) async throws {
        let store = fixture.store
        try await Self.submit(fixture, "long")
        let claim = try #require(
            try await store.claimJob(WorkerCapabilities(name: "w"), lease: .seconds(10), now: Self.t0)
        )
        let state = try await store.renewLease(claim.ref, lease: .seconds(10), now: Self.at(8))
        #expect(state.expiresAt == Self.at(18))
        #expect(!state.cancelRequested)
        #expect(try await store.recoverExpiredLeases(now: Self.at(15)).isEmpty)
        let done = try await store.finishAttempt(claim.ref, AttemptResult(.failed, exitCode: 3), now: Self.at(16))
        #expect(done.status == .failed)
        #expect(done.exitCode == 3)
        #expect(done.attempts.last?.outcome == .failed)
        #expect(done.attempts.last?.endedAt == Self.at(16))
        try await expectError(.conflict) {
            _ = try await store.renewLease(claim.ref, lease: .seconds(10), now: Self.at(17))
        }
        try await expectError(.invalidArgument) {
            _ = try await store.finishAttempt(claim.ref, AttemptResult(.lost), now: Self.at(17))
        }
    }

    private func cancel(_ fixture: JobStoreFixture) async throws {
        let store = fixture.store
        let queued = try await Self.submit(fixture, "queued")
        let cancelled = try await store.cancelJob(queued.id, reason: nil, now: Self.at(1))
        #expect(cancelled.status == .cancelled)
        #expect(cancelled.endedAt == Self.at(1))
        #expect(try await store.claimJob(WorkerCapabilities(name: "w"), lease: Self.lease, now: Self.at(2)) == nil)
        let running = try await Self.submit(fixture, "running")
        let claim = try #require(
            try await store.claimJob(WorkerCapabilities(name: "w"), lease: Self.lease, now: Self.at(3))
        )
        #expect(claim.job.id == running.id)
        let asked = try await store.cancelJob(running.id, reason: nil, now: Self.at(4))
        #expect(asked.status == .running)
        #expect(asked.cancelRequested)
        #expect(try await store.renewLease(claim.ref, lease: Self.lease, now: Self.at(5)).cancelRequested)
        let ended = try await store.finishAttempt(claim.ref, AttemptResult(.cancelled, signal: 15), now: Self.at(6))
        #expect(ended.status == .cancelled)
        #expect(ended.signal == 15)
        #expect(!ended.cancelRequested)
        // A cancel after the end changes nothing.
        #expect(try await store.cancelJob(running.id, reason: nil, now: Self.at(7)) == ended)
    }

    private func cancelRace(_ fixture: JobStoreFixture) async throws {
        let store = fixture.store
        let other = try await fixture.openAnother()
        for round in 0..<20 {
            let job = try await Self.submit(fixture, "race\(round)")
            let claim = try #require(
                try await store.claimJob(WorkerCapabilities(name: "w"), lease: Self.lease, now: Self.t0)
            )
            #expect(claim.job.id == job.id)
            async let cancelled = other.cancelJob(job.id, reason: nil, now: Self.at(1))
            async let finished = store.finishAttempt(claim.ref, AttemptResult(.completed, exitCode: 0), now: Self.at(1))
            _ = try await (cancelled, finished)
            let final = try #require(try await store.job(job.id))
            // Whichever came first, the command completed: the job is completed, its one attempt completed with
            // exit 0, and no cancel is left pending.
            #expect(final.status == .completed)
            #expect(final.exitCode == 0)
            #expect(final.attempts.map(\.outcome) == [.completed])
            #expect(!final.cancelRequested)
        }
        // A cancel racing a worker that reports the cancel also ends in one state.
        let job = try await Self.submit(fixture, "race-cancelled")
        let claim = try #require(
            try await store.claimJob(WorkerCapabilities(name: "w"), lease: Self.lease, now: Self.t0)
        )
        _ = try await store.cancelJob(job.id, reason: nil, now: Self.at(1))
        async let again = other.cancelJob(job.id, reason: nil, now: Self.at(2))
        async let reported = store.finishAttempt(claim.ref, AttemptResult(.cancelled, signal: 15), now: Self.at(2))
        _ = try await (again, reported)
        let final = try #require(try await store.job(job.id))
        #expect(final.status == .cancelled)
        #expect(final.attempts.map(\.outcome) == [.cancelled])
    }

    private func handBack(_ fixture: JobStoreFixture) async throws {
        let store = fixture.store
        let job = try await Self.submit(fixture, "handed", maxAttempts: 1)
        let claim = try #require(
            try await store.claimJob(WorkerCapabilities(name: "w"), lease: Self.lease, now: Self.t0)
        )
        let back = try await store.finishAttempt(
            claim.ref,
            AttemptResult(.handedBack, reason: "worker stopping"),
            now: Self.at(1)
        )
        #expect(back.status == .queued)
        #expect(back.attemptsUsed == 0)
        #expect(back.attempts.map(\.outcome) == [.handedBack])
        // Still allowed its one attempt.
        let again = try #require(
            try await store.claimJob(WorkerCapabilities(name: "v"), lease: Self.lease, now: Self.at(2))
        )
        #expect(again.job.id == job.id)
        #expect(again.attempt.number == 2)
        // A hand-back of a job being cancelled ends it cancelled.
        _ = try await store.cancelJob(job.id, reason: nil, now: Self.at(3))
        let ended = try await store.finishAttempt(again.ref, AttemptResult(.handedBack), now: Self.at(4))
        #expect(ended.status == .cancelled)
    }

    private func preemption(_ fixture: JobStoreFixture) async throws {
        let store = fixture.store
        let job = try await Self.submit(fixture, "preempted", maxAttempts: 1)
        let claim = try #require(
            try await store.claimJob(WorkerCapabilities(name: "w"), lease: Self.lease, now: Self.t0)
        )
        let back = try await store.finishAttempt(
            claim.ref,
            AttemptResult(.preempted, reason: "SLURM job 7 was requeued (preempted)"),
            now: Self.at(1)
        )
        #expect(back.status == .queued)
        #expect(back.attemptsUsed == 0)
        #expect(back.attempts.map(\.outcome) == [.preempted])
        #expect(back.attempts.first?.reason == "SLURM job 7 was requeued (preempted)")
        #expect(back.reason == "SLURM job 7 was requeued (preempted); queued again")
        let again = try #require(
            try await store.claimJob(WorkerCapabilities(name: "w"), lease: Self.lease, now: Self.at(2))
        )
        #expect(again.job.id == job.id && again.attempt.number == 2)
        let done = try await store.finishAttempt(again.ref, AttemptResult(.completed, exitCode: 0), now: Self.at(3))
        #expect(done.status == .completed)
        #expect(done.attempts.map(\.outcome) == [.preempted, .completed])
        // A preemption of a job being cancelled ends it cancelled.
        let other = try await Self.submit(fixture, "preempted-cancelled")
        let running = try #require(
            try await store.claimJob(WorkerCapabilities(name: "w"), lease: Self.lease, now: Self.at(4))
        )
        #expect(running.job.id == other.id)
        _ = try await store.cancelJob(other.id, reason: nil, now: Self.at(5))
        let ended = try await store.finishAttempt(running.ref, AttemptResult(.preempted, reason: "x"), now: Self.at(6))
        #expect(ended.status == .cancelled)
    }

    private func retry(_ fixture: JobStoreFixture) async throws {
        let store = fixture.store
        let job = try await Self.submit(fixture, "retry", maxAttempts: 1)
        try await expectError(.conflict) { _ = try await store.retryJob(job.id, now: Self.t0) }
        let claim = try #require(
            try await store.claimJob(WorkerCapabilities(name: "w"), lease: Self.lease, now: Self.t0)
        )
        let failed = try await store.finishAttempt(claim.ref, AttemptResult(.failed, exitCode: 1), now: Self.at(1))
        #expect(failed.status == .failed)
        let queued = try await store.retryJob(job.id, now: Self.at(2))
        #expect(queued.status == .queued)
        #expect(queued.exitCode == nil)
        #expect(queued.attemptsUsed == 0)
        let second = try #require(
            try await store.claimJob(WorkerCapabilities(name: "w"), lease: Self.lease, now: Self.at(3))
        )
        #expect(second.attempt.number == 2)
        try await expectError(.notFound) { _ = try await store.retryJob(job.id + 1000, now: Self.t0) }
    }

    /// The job's run, written with each change of the job: the store must also be the `TrackingStore` of the
    /// runs its jobs produce.
    private func jobRuns(_ fixture: JobStoreFixture) async throws {
        let jobs = fixture.store
        guard let runs = jobs as? any TrackingStore else {
            Issue.record("a JobStore must also be the TrackingStore of its jobs' runs")
            return
        }
        func run(_ job: Job) async throws -> StoredRun {
            try #require(try await runs.run(job.spec.runID), "job \(job.id) has no run")
        }
        var spec = NewJob(projectID: fixture.projectID, runID: RunID.random(), name: "train", argv: ["true"])
        spec.config = ["lr": .double(0.1)]
        spec.tags = ["team": "ml"]
        spec.submittedBy = "ada"
        spec.maxAttempts = 2
        let job = try await jobs.submitJob(spec, now: Self.t0)
        let queued = try #require(try await runs.runDetails(spec.runID))
        #expect(queued.run.status == .queued)
        #expect(queued.run.name == "train")
        #expect(queued.run.projectID == fixture.projectID)
        #expect(queued.run.user == "ada")
        #expect(queued.run.config == spec.config)
        #expect(queued.tags == ["team": "ml", Job.runTag: String(job.id)])

        // A refused submission leaves no run.
        let refused = NewJob(projectID: fixture.projectID + 1000, runID: .random(), name: "x", argv: ["true"])
        try await expectError(.notFound) { _ = try await jobs.submitJob(refused, now: Self.t0) }
        #expect(try await runs.run(refused.runID) == nil)

        let worker = WorkerCapabilities(name: "box")
        let first = try #require(try await jobs.claimJob(worker, lease: Self.lease, now: Self.at(10)))
        let running = try await run(job)
        #expect(running.status == .running)
        #expect(running.host == "box")
        #expect(running.startedAt == Self.at(10))
        _ = try await jobs.recoverExpiredLeases(now: Self.at(100))
        #expect(try await run(job).status == .queued, "a lost attempt re-queued")
        let second = try #require(try await jobs.claimJob(worker, lease: Self.lease, now: Self.at(110)))
        #expect(second.attempt.number == first.attempt.number + 1)
        _ = try await jobs.recoverExpiredLeases(now: Self.at(200))
        let failed = try await run(job)
        #expect(failed.status == .failed, "its attempts used up")
        #expect(failed.endedAt == Self.at(200))
        _ = try await jobs.retryJob(job.id, now: Self.at(210))
        let retried = try await run(job)
        #expect(retried.status == .queued)
        #expect(retried.endedAt == nil)
        _ = try await jobs.cancelJob(job.id, reason: nil, now: Self.at(220))
        let killed = try await run(job)
        #expect(killed.status == .killed)
        #expect(killed.endedAt == Self.at(220))
        _ = try await jobs.retryJob(job.id, now: Self.at(230))
        let last = try #require(try await jobs.claimJob(worker, lease: Self.lease, now: Self.at(240)))
        _ = try await jobs.finishAttempt(last.ref, AttemptResult(.completed, exitCode: 0), now: Self.at(250))
        let completed = try await run(job)
        #expect(completed.status == .completed)
        #expect(completed.endedAt == Self.at(250))
    }

    private func devices(_ fixture: JobStoreFixture) async throws {
        let store = fixture.store
        let spec = NewDevice(
            name: "gpu-box-1",
            host: "gpu-box-1.lan",
            cpus: 32,
            memoryBytes: 128 << 30,
            gpus: [DeviceGPU(index: 0, name: "A100", memoryBytes: 80 << 30), DeviceGPU(index: 1)],
            labels: ["a100"],
            slots: 2
        )
        let device = try await store.registerDevice(spec, lease: .seconds(15), now: Self.t0)
        #expect(device.spec == spec)
        #expect(device.status == .online)
        #expect(device.registeredAt == Self.t0)
        try await Self.submit(fixture, "job")
        let claim = try #require(
            try await store.claimJob(
                WorkerCapabilities(name: "gpu-box-1", slots: 2),
                lease: Self.lease,
                now: Self.at(1)
            )
        )
        let busy = try #require(try await store.device("gpu-box-1", now: Self.at(2)))
        #expect(busy.status == .busy)
        #expect(busy.runningJobs == [claim.job.id])
        #expect(try await store.device("gpu-box-1", now: Self.at(20))?.status == .offline)
        let seen = try await store.deviceHeartbeat("gpu-box-1", lease: .seconds(15), now: Self.at(21))
        #expect(seen.status == .busy)
        #expect(seen.lastSeen == Self.at(21))
        _ = try await store.registerDevice(
            NewDevice(name: "cpu-box", host: "h", cpus: 4, memoryBytes: 1 << 30),
            lease: .seconds(15),
            now: Self.at(21)
        )
        #expect(try await store.devices(now: Self.at(22)).map(\.spec.name) == ["cpu-box", "gpu-box-1"])
        do {
            _ = try await store.deviceHeartbeat("nope", lease: .seconds(15), now: Self.at(22))
            Issue.record("an unknown device's heartbeat must fail")
        } catch let error as QuillError {
            #expect(error.code == .notFound)
            #expect(error.message.contains("cpu-box") && error.message.contains("gpu-box-1"), "lists the known devices")
        }
        // Unregistering gives back what the device ran.
        try await store.unregisterDevice("gpu-box-1", now: Self.at(23))
        #expect(try await store.device("gpu-box-1", now: Self.at(23))?.status == .offline)
        let job = try #require(try await store.job(claim.job.id))
        #expect(job.status == .queued)
        #expect(job.attempts.map(\.outcome) == [.lost])
        try await expectError(.notFound) { try await store.unregisterDevice("nope", now: Self.at(24)) }
    }

    private func expectError(
        _ code: QuillError.Code,
        sourceLocation: SourceLocation = #_sourceLocation,
        _ body: () async throws -> Void
    ) async throws {
        do {
            try await body()
            Issue.record("expected a QuillError with code \(code)", sourceLocation: sourceLocation)
        } catch let error as QuillError {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        }
    }
}
