public import Foundation
public import QuillCore

/// A job to queue: `POST /api/v1/jobs`.
public struct APIJobSubmit: Codable, Sendable, Hashable {
    /// The project: a display name (in the caller's namespace, created when missing) or `namespace/slug`.
    @OmittedWhenNil public var project: String?
    /// The project's numeric id, instead of `project`.
    @OmittedWhenNil public var projectID: Int?
    /// A readable name for the job and its run (the command's name when `nil`).
    @OmittedWhenNil public var name: String?
    /// The command and its arguments.
    public var argv: [String]
    /// The working directory on the worker.
    @OmittedWhenNil public var workdir: String?
    /// Environment variables added for the command.
    @OmittedWhenNil public var env: [String: String]?
    /// The run's config.
    @OmittedWhenNil public var config: [String: JSONValue]?
    /// The run's tags.
    @OmittedWhenNil public var tags: [String: String]?
    /// GPUs the job needs.
    @OmittedWhenNil public var gpus: Int?
    /// The device (worker name) that must run it.
    @OmittedWhenNil public var device: String?
    /// Labels the worker must have.
    @OmittedWhenNil public var labels: [String]?
    /// Higher runs first (default 0).
    @OmittedWhenNil public var priority: Int?
    /// Attempts before a lost job fails (default 3).
    @OmittedWhenNil public var maxAttempts: Int?
    /// Seconds one attempt may run.
    @OmittedWhenNil public var timeoutSeconds: Double?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case project, name, argv, workdir, env, config, tags, gpus, device, labels, priority
        case projectID = "project_id"
        case maxAttempts = "max_attempts"
        case timeoutSeconds = "timeout_seconds"
    }

    /// A job running `argv`.
    public init(argv: [String], project: String? = nil) {
        self.argv = argv
        self.project = project
    }
}

/// One attempt at a job.
public struct APIJobAttempt: Codable, Sendable, Hashable {
    /// 1, 2, …
    public var number: Int
    /// The worker that claimed it.
    public var worker: String
    /// The worker's GPUs given to it.
    public var gpus: [Int]
    /// When it was claimed.
    public var startedAt: Date
    /// When it ended.
    public var endedAt: Date?
    /// Until when the worker holds it.
    public var leaseExpiresAt: Date
    /// `completed`, `failed`, `cancelled`, `timed_out`, `lost`, `handed_back`, `preempted`; `null` while it runs.
    public var outcome: String?
    /// The command's exit status.
    public var exitCode: Int?
    /// The signal that ended the command.
    public var signal: Int?
    /// Why it ended so.
    public var reason: String?
    /// The SLURM job it runs as (`123`, `123_4` for an array task), for a job on SLURM once submitted.
    @OmittedWhenNil public var slurmJobID: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case number, worker, gpus, outcome, signal, reason
        case startedAt = "started_at"
        case endedAt = "ended_at"
        case leaseExpiresAt = "lease_expires_at"
        case exitCode = "exit_code"
        case slurmJobID = "slurm_job_id"
    }

    /// An attempt.
    public init(
        number: Int,
        worker: String,
        gpus: [Int],
        startedAt: Date,
        endedAt: Date?,
        leaseExpiresAt: Date,
        outcome: String?,
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

/// A job: `GET /api/v1/jobs/{id}` and every job route's answer.
public struct APIJob: Codable, Sendable, Hashable {
    /// The job's id.
    public var id: Int64
    /// Its project's id.
    public var projectID: Int64
    /// The run it produces.
    public var runID: String
    /// Its name.
    public var name: String
    /// The command and its arguments.
    public var argv: [String]
    /// The working directory on the worker.
    public var workdir: String?
    /// Environment variables added for the command.
    public var env: [String: String]
    /// The run's config.
    public var config: [String: JSONValue]
    /// The run's tags.
    public var tags: [String: String]
    /// GPUs it needs.
    public var gpus: Int
    /// The device that must run it.
    public var device: String?
    /// Labels the worker must have.
    public var labels: [String]
    /// Its priority.
    public var priority: Int
    /// Attempts before a lost job fails.
    public var maxAttempts: Int
    /// Seconds one attempt may run.
    public var timeoutSeconds: Double?
    /// `queued`, `running`, `completed`, `failed`, `cancelled`, `lost`.
    public var status: String
    /// Attempts counted against `max_attempts`.
    public var attemptsUsed: Int
    /// Whether a cancel waits for its worker.
    public var cancelRequested: Bool
    /// The last attempt's exit status.
    public var exitCode: Int?
    /// The signal that ended the last attempt.
    public var signal: Int?
    /// Why it failed or was cancelled.
    public var reason: String?
    /// Who submitted it.
    public var submittedBy: String?
    /// When it was submitted.
    public var createdAt: Date
    /// When its current or last attempt started.
    public var startedAt: Date?
    /// When it ended.
    public var endedAt: Date?
    /// Its attempts, oldest first.
    public var attempts: [APIJobAttempt]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, name, argv, workdir, env, config, tags, gpus, device, labels, priority, status, signal, reason
        case attempts
        case projectID = "project_id"
        case runID = "run_id"
        case maxAttempts = "max_attempts"
        case timeoutSeconds = "timeout_seconds"
        case attemptsUsed = "attempts_used"
        case cancelRequested = "cancel_requested"
        case exitCode = "exit_code"
        case submittedBy = "submitted_by"
        case createdAt = "created_at"
        case startedAt = "started_at"
        case endedAt = "ended_at"
    }

    /// A job.
    public init(
        id: Int64,
        projectID: Int64,
        runID: String,
        name: String,
        argv: [String],
        workdir: String?,
        env: [String: String],
        config: [String: JSONValue],
        tags: [String: String],
        gpus: Int,
        device: String?,
        labels: [String],
        priority: Int,
        maxAttempts: Int,
        timeoutSeconds: Double?,
        status: String,
        attemptsUsed: Int,
        cancelRequested: Bool,
        exitCode: Int?,
        signal: Int?,
        reason: String?,
        submittedBy: String?,
        createdAt: Date,
        startedAt: Date?,
        endedAt: Date?,
        attempts: [APIJobAttempt]
    ) {
        self.id = id
        self.projectID = projectID
        self.runID = runID
        self.name = name
        self.argv = argv
        self.workdir = workdir
        self.env = env
        self.config = config
        self.tags = tags
        self.gpus = gpus
        self.device = device
        self.labels = labels
        self.priority = priority
        self.maxAttempts = maxAttempts
        self.timeoutSeconds = timeoutSeconds
        self.status = status
        self.attemptsUsed = attemptsUsed
        self.cancelRequested = cancelRequested
        self.exitCode = exitCode
        self.signal = signal
        self.reason = reason
        self.submittedBy = submittedBy
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.attempts = attempts
    }
}

/// Jobs, newest first: `GET /api/v1/jobs`.
public struct APIJobList: Codable, Sendable, Hashable {
    /// The page.
    public var jobs: [APIJob]
    /// Pass as `before` for the next page; `null` on the last.
    public var nextBefore: Int64?
    /// Jobs by status over the projects the caller may read.
    public var counts: [String: Int]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case jobs, counts
        case nextBefore = "next_before"
    }

    /// A page.
    public init(jobs: [APIJob], nextBefore: Int64?, counts: [String: Int]) {
        self.jobs = jobs
        self.nextBefore = nextBefore
        self.counts = counts
    }
}

/// A GPU of a device.
public struct APIDeviceGPU: Codable, Sendable, Hashable {
    /// Its index.
    public var index: Int
    /// Its model.
    @OmittedWhenNil public var name: String?
    /// Its memory in bytes.
    @OmittedWhenNil public var memoryBytes: Int64?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case index, name
        case memoryBytes = "memory_bytes"
    }

    /// A GPU.
    public init(index: Int, name: String? = nil, memoryBytes: Int64? = nil) {
        self.index = index
        self.name = name
        self.memoryBytes = memoryBytes
    }
}

/// A worker registering: `PUT /api/v1/devices/{name}`.
public struct APIDeviceRegister: Codable, Sendable, Hashable {
    /// Its host.
    public var host: String
    /// Its CPUs.
    public var cpus: Int
    /// Its memory in bytes.
    public var memoryBytes: Int64
    /// Its GPUs.
    public var gpus: [APIDeviceGPU]
    /// Its labels.
    public var labels: [String]
    /// Jobs it runs at once.
    public var slots: Int
    /// Seconds it stays online without a heartbeat.
    public var leaseSeconds: Double

    enum CodingKeys: String, CodingKey, CaseIterable {
        case host, cpus, gpus, labels, slots
        case memoryBytes = "memory_bytes"
        case leaseSeconds = "lease_seconds"
    }

    /// A registration.
    public init(
        host: String,
        cpus: Int,
        memoryBytes: Int64,
        gpus: [APIDeviceGPU],
        labels: [String],
        slots: Int,
        leaseSeconds: Double
    ) {
        self.host = host
        self.cpus = cpus
        self.memoryBytes = memoryBytes
        self.gpus = gpus
        self.labels = labels
        self.slots = slots
        self.leaseSeconds = leaseSeconds
    }
}

/// A device: `GET /api/v1/devices`.
public struct APIDevice: Codable, Sendable, Hashable {
    /// Its name.
    public var name: String
    /// Its host.
    public var host: String
    /// Its CPUs.
    public var cpus: Int
    /// Its memory in bytes.
    public var memoryBytes: Int64
    /// Its GPUs.
    public var gpus: [APIDeviceGPU]
    /// Its labels.
    public var labels: [String]
    /// Jobs it runs at once.
    public var slots: Int
    /// `online`, `busy` or `offline`.
    public var status: String
    /// When it registered.
    public var registeredAt: Date
    /// Its last heartbeat.
    public var lastSeen: Date
    /// The jobs it runs.
    public var runningJobs: [Int64]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, host, cpus, gpus, labels, slots, status
        case memoryBytes = "memory_bytes"
        case registeredAt = "registered_at"
        case lastSeen = "last_seen"
        case runningJobs = "running_jobs"
    }

    /// A device.
    public init(
        name: String,
        host: String,
        cpus: Int,
        memoryBytes: Int64,
        gpus: [APIDeviceGPU],
        labels: [String],
        slots: Int,
        status: String,
        registeredAt: Date,
        lastSeen: Date,
        runningJobs: [Int64]
    ) {
        self.name = name
        self.host = host
        self.cpus = cpus
        self.memoryBytes = memoryBytes
        self.gpus = gpus
        self.labels = labels
        self.slots = slots
        self.status = status
        self.registeredAt = registeredAt
        self.lastSeen = lastSeen
        self.runningJobs = runningJobs
    }
}

/// Every device: `GET /api/v1/devices`.
public struct APIDeviceList: Codable, Sendable, Hashable {
    /// The devices, by name.
    public var devices: [APIDevice]

    /// A list.
    public init(devices: [APIDevice]) {
        self.devices = devices
    }
}

/// A worker asking for a job: `POST /api/v1/jobs/claim`.
public struct APIJobClaimRequest: Codable, Sendable, Hashable {
    /// The worker's registered device name.
    public var worker: String
    /// Jobs it runs at once.
    public var slots: Int
    /// Its GPU indices.
    public var gpus: [Int]
    /// Its labels.
    public var labels: [String]
    /// Seconds it holds a claimed attempt without renewing.
    public var leaseSeconds: Double
    /// Seconds to wait for a job when none is queued (long-poll, at most 5); 0 answers at once.
    @OmittedWhenNil public var waitSeconds: Double?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case worker, slots, gpus, labels
        case leaseSeconds = "lease_seconds"
        case waitSeconds = "wait_seconds"
    }

    /// A claim request.
    public init(worker: String, slots: Int, gpus: [Int], labels: [String], leaseSeconds: Double, waitSeconds: Double?) {
        self.worker = worker
        self.slots = slots
        self.gpus = gpus
        self.labels = labels
        self.leaseSeconds = leaseSeconds
        self.waitSeconds = waitSeconds
    }
}

/// A claimed job: `POST /api/v1/jobs/claim` (204 when none came).
public struct APIJobClaim: Codable, Sendable, Hashable {
    /// The job, now running.
    public var job: APIJob
    /// The attempt the worker holds.
    public var attempt: APIJobAttempt

    /// A claim.
    public init(job: APIJob, attempt: APIJobAttempt) {
        self.job = job
        self.attempt = attempt
    }
}

/// A worker renewing its attempt: `POST /api/v1/jobs/{id}/heartbeat`.
public struct APIJobHeartbeat: Codable, Sendable, Hashable {
    /// The worker.
    public var worker: String
    /// The attempt's number.
    public var attempt: Int
    /// Seconds from now the lease lasts.
    public var leaseSeconds: Double
    /// The SLURM job the attempt was submitted as, recorded on the attempt (sent until a heartbeat took it).
    @OmittedWhenNil public var slurmJobID: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case worker, attempt
        case leaseSeconds = "lease_seconds"
        case slurmJobID = "slurm_job_id"
    }

    /// A heartbeat.
    public init(worker: String, attempt: Int, leaseSeconds: Double, slurmJobID: String? = nil) {
        self.worker = worker
        self.attempt = attempt
        self.leaseSeconds = leaseSeconds
        self.slurmJobID = slurmJobID
    }
}

/// The answer to a heartbeat.
public struct APIJobLease: Codable, Sendable, Hashable {
    /// Until when the attempt is held.
    public var expiresAt: Date
    /// Whether the job was cancelled (stop it and report `cancelled`).
    public var cancelRequested: Bool

    enum CodingKeys: String, CodingKey, CaseIterable {
        case expiresAt = "expires_at"
        case cancelRequested = "cancel_requested"
    }

    /// A lease.
    public init(expiresAt: Date, cancelRequested: Bool) {
        self.expiresAt = expiresAt
        self.cancelRequested = cancelRequested
    }
}

/// Output lines of a running attempt: `POST /api/v1/jobs/{id}/output`.
public struct APIJobOutput: Codable, Sendable, Hashable {
    /// The worker.
    public var worker: String
    /// The attempt's number.
    public var attempt: Int
    /// The lines, without their newlines.
    public var lines: [String]

    /// Output.
    public init(worker: String, attempt: Int, lines: [String]) {
        self.worker = worker
        self.attempt = attempt
        self.lines = lines
    }
}

/// How an attempt ended: `POST /api/v1/jobs/{id}/finish`.
public struct APIJobFinish: Codable, Sendable, Hashable {
    /// The worker.
    public var worker: String
    /// The attempt's number.
    public var attempt: Int
    /// `completed`, `failed`, `cancelled`, `timed_out`, `handed_back` or `preempted`.
    public var outcome: String
    /// The command's exit status.
    @OmittedWhenNil public var exitCode: Int?
    /// The signal that ended it.
    @OmittedWhenNil public var signal: Int?
    /// Why.
    @OmittedWhenNil public var reason: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case worker, attempt, outcome, signal, reason
        case exitCode = "exit_code"
    }

    /// A report.
    public init(worker: String, attempt: Int, outcome: String, exitCode: Int?, signal: Int?, reason: String?) {
        self.worker = worker
        self.attempt = attempt
        self.outcome = outcome
        self.exitCode = exitCode
        self.signal = signal
        self.reason = reason
    }
}

/// A device's heartbeat: `POST /api/v1/devices/{name}/heartbeat`.
public struct APIJobLeaseRequest: Codable, Sendable, Hashable {
    /// Seconds from now the device stays online.
    public var leaseSeconds: Double

    enum CodingKeys: String, CodingKey, CaseIterable {
        case leaseSeconds = "lease_seconds"
    }

    /// A heartbeat.
    public init(leaseSeconds: Double) {
        self.leaseSeconds = leaseSeconds
    }
}
