public import Foundation
public import QuillCore

/// What a job needs from the worker that runs it.
public struct JobResources: Sendable, Hashable {
    /// GPUs the job needs; the worker gives it that many of its own, never one another job holds.
    public var gpus: Int
    /// The device (worker name) that must run it, or `nil` for any.
    public var device: String?
    /// Labels the worker must all have.
    public var labels: [String]

    /// Resources; by default none: any worker may run the job.
    public init(gpus: Int = 0, device: String? = nil, labels: [String] = []) {
        self.gpus = gpus
        self.device = device
        self.labels = labels
    }
}

/// A job to submit. Everything but the project, the run id and the command has a default.
public struct NewJob: Sendable, Hashable {
    /// The project the job (and its run) belongs to.
    public var projectID: Int64
    /// The id of the run the job produces (made by the caller, so the job and the run name each other).
    public var runID: RunID
    /// A readable name; the run gets it too.
    public var name: String
    /// The command and its arguments; never empty.
    public var argv: [String]
    /// The working directory, or `nil` for the worker's own.
    public var workdir: String?
    /// Variables added to the worker's environment.
    public var environment: [String: String] = [:]
    /// The run's config.
    public var config: [String: JSONValue] = [:]
    /// The run's tags.
    public var tags: [String: String] = [:]
    /// What the worker must offer.
    public var resources = JobResources()
    /// Higher runs first; equal priorities run oldest first.
    public var priority = 0
    /// How many attempts a job may use before a lost attempt fails it (at least 1).
    public var maxAttempts = 3
    /// How long one attempt may run before it is stopped and the job fails, or `nil` for no limit.
    public var timeout: Duration?
    /// The user who submitted it, when a signed-in user did.
    public var submittedBy: String?

    /// A job running `argv` in a project, producing the run `runID`.
    public init(projectID: Int64, runID: RunID, name: String, argv: [String]) {
        self.projectID = projectID
        self.runID = runID
        self.name = name
        self.argv = argv
    }
}

/// One attempt at running a job: a worker claimed it.
public struct JobAttempt: Sendable, Hashable {
    /// 1 for the first attempt, then 2, 3, …
    public var number: Int
    /// The worker (device name) that claimed it.
    public var worker: String
    /// The GPUs of the worker assigned to it.
    public var gpus: [Int]
    /// When it was claimed.
    public var startedAt: Date
    /// When it ended, or `nil` while it runs.
    public var endedAt: Date?
    /// Until when the worker holds it without renewing.
    public var leaseExpiresAt: Date
    /// How it ended, or `nil` while it runs.
    public var outcome: AttemptOutcome?
    /// The command's exit status, when it exited.
    public var exitCode: Int?
    /// The signal that ended the command, when one did.
    public var signal: Int?
    /// Why it ended that way, in words (a timeout, a lost worker, a command that could not start).
    public var reason: String?
    /// The SLURM job (`123`, or `123_4` for an array task) the attempt runs as, once its worker submitted it.
    public var slurmJobID: String?

    /// Creates a value (backends build these from their rows).
    public init(
        number: Int,
        worker: String,
        gpus: [Int],
        startedAt: Date,
        endedAt: Date?,
        leaseExpiresAt: Date,
        outcome: AttemptOutcome?,
        exitCode: Int?,
        signal: Int?,
        reason: String?,
        slurmJobID: String? = nil
    ) {
        self.number = number
        self.worker = worker
        self.gpus = gpus
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.leaseExpiresAt = leaseExpiresAt
        self.outcome = outcome
        self.exitCode = exitCode
        self.signal = signal
        self.reason = reason
        self.slurmJobID = slurmJobID
    }
}

/// A job as a store keeps it.
public struct Job: Sendable, Hashable {
    /// The store's id, increasing with submission.
    public var id: Int64
    /// What was submitted.
    public var spec: NewJob
    /// Where it is in its life.
    public var status: JobStatus
    /// Attempts counted against ``NewJob/maxAttempts`` (a handed-back attempt is not).
    public var attemptsUsed: Int
    /// Whether a cancel was asked for while it ran; its worker stops it and reports `cancelled`.
    public var cancelRequested: Bool
    /// The last attempt's exit status, when its command exited.
    public var exitCode: Int?
    /// The signal that ended the last attempt's command, when one did.
    public var signal: Int?
    /// Why it failed or was cancelled, in words.
    public var reason: String?
    /// When it was submitted.
    public var createdAt: Date
    /// When its current or last attempt started.
    public var startedAt: Date?
    /// When it reached a final status.
    public var endedAt: Date?
    /// When its record last changed.
    public var updatedAt: Date
    /// Every attempt, oldest first.
    public var attempts: [JobAttempt]

    /// Creates a value (backends build these from their rows).
    public init(
        id: Int64,
        spec: NewJob,
        status: JobStatus,
        attemptsUsed: Int,
        cancelRequested: Bool,
        exitCode: Int?,
        signal: Int?,
        reason: String?,
        createdAt: Date,
        startedAt: Date?,
        endedAt: Date?,
        updatedAt: Date,
        attempts: [JobAttempt]
    ) {
        self.id = id
        self.spec = spec
        self.status = status
        self.attemptsUsed = attemptsUsed
        self.cancelRequested = cancelRequested
        self.exitCode = exitCode
        self.signal = signal
        self.reason = reason
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.updatedAt = updatedAt
        self.attempts = attempts
    }

    /// The attempt that runs now, when the job is running.
    public var currentAttempt: JobAttempt? {
        guard status == .running, let last = attempts.last, last.outcome == nil else { return nil }
        return last
    }
}

/// What a worker offers when it claims: its name, how many jobs it runs at once, its GPUs and labels.
public struct WorkerCapabilities: Sendable, Hashable {
    /// The worker's device name, unique among workers.
    public var name: String
    /// Jobs it runs at once (at least 1).
    public var slots: Int
    /// Its GPU indices (as `CUDA_VISIBLE_DEVICES` counts them).
    public var gpus: [Int]
    /// Its labels.
    public var labels: [String]

    /// Capabilities; by default one slot, no GPU, no label.
    public init(name: String, slots: Int = 1, gpus: [Int] = [], labels: [String] = []) {
        self.name = name
        self.slots = slots
        self.gpus = gpus
        self.labels = labels
    }
}

/// Names one attempt of one job, as held by one worker; every later call about the attempt names it so.
public struct AttemptRef: Sendable, Hashable {
    /// The job.
    public var jobID: Int64
    /// The attempt's number.
    public var number: Int
    /// The worker holding it.
    public var worker: String

    /// A reference.
    public init(jobID: Int64, number: Int, worker: String) {
        self.jobID = jobID
        self.number = number
        self.worker = worker
    }
}

/// A job a worker claimed: the job (now `running`), its new attempt and the GPUs assigned to it.
public struct JobClaim: Sendable, Hashable {
    /// The job, with the new attempt last.
    public var job: Job
    /// The new attempt.
    public var attempt: JobAttempt

    /// A claim.
    public init(job: Job, attempt: JobAttempt) {
        self.job = job
        self.attempt = attempt
    }

    /// The reference the worker names the attempt by.
    public var ref: AttemptRef { AttemptRef(jobID: job.id, number: attempt.number, worker: attempt.worker) }
}

/// How an attempt ended, as its worker reports it.
public struct AttemptResult: Sendable, Hashable {
    /// The outcome (`completed`, `failed`, `cancelled`, `timedOut`, `handedBack` or `preempted`; `lost` is the
    /// store's).
    public var outcome: AttemptOutcome
    /// The command's exit status, when it exited.
    public var exitCode: Int?
    /// The signal that ended the command, when one did.
    public var signal: Int?
    /// Why, in words.
    public var reason: String?

    /// A result.
    public init(_ outcome: AttemptOutcome, exitCode: Int? = nil, signal: Int? = nil, reason: String? = nil) {
        self.outcome = outcome
        self.exitCode = exitCode
        self.signal = signal
        self.reason = reason
    }
}

/// What a lease renewal tells the worker.
public struct LeaseState: Sendable, Hashable {
    /// Until when the attempt is held now.
    public var expiresAt: Date
    /// Whether the job was cancelled: the worker stops the command and reports `cancelled`.
    public var cancelRequested: Bool

    /// A state.
    public init(expiresAt: Date, cancelRequested: Bool) {
        self.expiresAt = expiresAt
        self.cancelRequested = cancelRequested
    }
}

/// Which jobs to list: newest first, in pages.
public struct JobQuery: Sendable, Hashable {
    /// Only these statuses; every status when empty.
    public var statuses: Set<JobStatus> = []
    /// Only jobs of these projects; all when `nil`.
    public var projectIDs: [Int64]?
    /// Only jobs whose id is below this (the last id of the previous page).
    public var beforeID: Int64?
    /// At most this many.
    public var limit = 100
    /// List in the order workers claim (highest priority first, then the oldest) instead of newest first.
    public var claimOrder = false

    /// A query; by default the newest 100 jobs.
    public init(statuses: Set<JobStatus> = [], projectIDs: [Int64]? = nil, beforeID: Int64? = nil, limit: Int = 100) {
        self.statuses = statuses
        self.projectIDs = projectIDs
        self.beforeID = beforeID
        self.limit = limit
    }
}

/// A GPU a device reported.
public struct DeviceGPU: Sendable, Hashable {
    /// Its index (as `CUDA_VISIBLE_DEVICES` counts).
    public var index: Int
    /// Its model name, when known.
    public var name: String?
    /// Its memory in bytes, when known.
    public var memoryBytes: Int64?

    /// A GPU.
    public init(index: Int, name: String? = nil, memoryBytes: Int64? = nil) {
        self.index = index
        self.name = name
        self.memoryBytes = memoryBytes
    }
}

/// A machine (a worker) registering itself.
public struct NewDevice: Sendable, Hashable {
    /// The worker's name, unique among devices; registering a name again replaces the old record.
    public var name: String
    /// The host it runs on.
    public var host: String
    /// Its CPUs.
    public var cpus: Int
    /// Its memory in bytes.
    public var memoryBytes: Int64
    /// Its GPUs.
    public var gpus: [DeviceGPU]
    /// Its labels.
    public var labels: [String]
    /// Jobs it runs at once.
    public var slots: Int

    /// A device.
    public init(
        name: String,
        host: String,
        cpus: Int,
        memoryBytes: Int64,
        gpus: [DeviceGPU] = [],
        labels: [String] = [],
        slots: Int = 1
    ) {
        self.name = name
        self.host = host
        self.cpus = cpus
        self.memoryBytes = memoryBytes
        self.gpus = gpus
        self.labels = labels
        self.slots = slots
    }
}

/// Whether a device can take work.
public enum DeviceStatus: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Heartbeating, running nothing.
    case online
    /// Heartbeating, running jobs.
    case busy
    /// Unregistered, or silent past its lease.
    case offline

    /// The status as the API and the CLI write it.
    public var description: String { rawValue }
}

/// A device as a store keeps it.
public struct Device: Sendable, Hashable {
    /// What it registered.
    public var spec: NewDevice
    /// Its status when read.
    public var status: DeviceStatus
    /// When it first registered.
    public var registeredAt: Date
    /// Its last registration or heartbeat.
    public var lastSeen: Date
    /// The jobs it runs now.
    public var runningJobs: [Int64]

    /// Creates a value (backends build these from their rows).
    public init(spec: NewDevice, status: DeviceStatus, registeredAt: Date, lastSeen: Date, runningJobs: [Int64]) {
        self.spec = spec
        self.status = status
        self.registeredAt = registeredAt
        self.lastSeen = lastSeen
        self.runningJobs = runningJobs
    }
}
