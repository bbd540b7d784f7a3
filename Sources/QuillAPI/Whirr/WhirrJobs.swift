package import QuillCore

// whirr 0.5.3's job bodies (`whirr/models/api.py`), as its client and worker send and read them; see
// Docs/Whirr.md. Request types read unknown members without complaint (whirr's models ignore them); every
// optional member is written as `null` when unset, as whirr's server writes it.

/// `POST /api/v1/jobs`: a job to queue.
package struct WhirrJobCreate: Codable, Sendable, Hashable {
    /// The command and its arguments (run without a shell).
    package var commandArgv: [String]
    /// The directory the command runs in.
    package var workdir: String
    /// A readable name.
    package var name: String?
    /// The run's config.
    package var config: [String: JSONValue]?
    /// Label tags.
    package var tags: [String]?

    enum CodingKeys: String, CodingKey {
        case workdir, name, config, tags
        case commandArgv = "command_argv"
    }

    /// A body.
    package init(
        commandArgv: [String],
        workdir: String,
        name: String? = nil,
        config: [String: JSONValue]? = nil,
        tags: [String]? = nil
    ) {
        self.commandArgv = commandArgv
        self.workdir = workdir
        self.name = name
        self.config = config
        self.tags = tags
    }
}

/// The answer to a submission: the job's id and the run it will produce.
package struct WhirrJobCreateResponse: Codable, Sendable, Hashable {
    /// The job's id.
    package var jobID: Int64
    /// `job-<id>`.
    package var runID: String
    /// `<data dir>/runs/job-<id>`.
    package var runDir: String
    /// `Job <id> created`.
    package var message: String

    enum CodingKeys: String, CodingKey {
        case message
        case jobID = "job_id"
        case runID = "run_id"
        case runDir = "run_dir"
    }

    /// An answer.
    package init(jobID: Int64, runID: String, runDir: String, message: String) {
        self.jobID = jobID
        self.runID = runID
        self.runDir = runDir
        self.message = message
    }
}

/// A job as whirr's API shows it (`JobResponse`); every member is always written.
package struct WhirrJob: Codable, Sendable, Hashable {
    /// The job's id.
    package var id: Int64
    /// Its name.
    package var name: String?
    /// The command and its arguments.
    package var commandArgv: [String]
    /// The directory the command runs in.
    package var workdir: String
    /// The config, `nil` when empty.
    package var config: [String: JSONValue]?
    /// The tags, `nil` when none.
    package var tags: [String]?
    /// `queued`, `running`, `completed`, `failed` or `cancelled`.
    package var status: String
    /// The attempt number, from 1.
    package var attempt: Int
    /// The worker running (or that ran) it.
    package var workerID: String?
    /// When it was submitted.
    package var createdAt: String?
    /// When its attempt started.
    package var startedAt: String?
    /// When it ended.
    package var finishedAt: String?
    /// The command's exit code (a signal as its negative).
    package var exitCode: Int?
    /// `job-<id>` once the worker reported it.
    package var runID: String?

    enum CodingKeys: String, CodingKey {
        case id, name, workdir, config, tags, status, attempt
        case commandArgv = "command_argv"
        case workerID = "worker_id"
        case createdAt = "created_at"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case exitCode = "exit_code"
        case runID = "run_id"
    }

    /// A job.
    package init(
        id: Int64,
        name: String?,
        commandArgv: [String],
        workdir: String,
        config: [String: JSONValue]?,
        tags: [String]?,
        status: String,
        attempt: Int,
        workerID: String?,
        createdAt: String?,
        startedAt: String?,
        finishedAt: String?,
        exitCode: Int?,
        runID: String?
    ) {
        self.id = id
        self.name = name
        self.commandArgv = commandArgv
        self.workdir = workdir
        self.config = config
        self.tags = tags
        self.status = status
        self.attempt = attempt
        self.workerID = workerID
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.exitCode = exitCode
        self.runID = runID
    }

    /// Reads a job; `attempt` defaults to 1 as whirr's model does.
    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(Int64.self, forKey: .id)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        commandArgv = try c.decode([String].self, forKey: .commandArgv)
        workdir = try c.decode(String.self, forKey: .workdir)
        config = try c.decodeIfPresent([String: JSONValue].self, forKey: .config)
        tags = try c.decodeIfPresent([String].self, forKey: .tags)
        status = try c.decode(String.self, forKey: .status)
        attempt = try c.decodeIfPresent(Int.self, forKey: .attempt) ?? 1
        workerID = try c.decodeIfPresent(String.self, forKey: .workerID)
        createdAt = try c.decodeIfPresent(String.self, forKey: .createdAt)
        startedAt = try c.decodeIfPresent(String.self, forKey: .startedAt)
        finishedAt = try c.decodeIfPresent(String.self, forKey: .finishedAt)
        exitCode = try c.decodeIfPresent(Int.self, forKey: .exitCode)
        runID = try c.decodeIfPresent(String.self, forKey: .runID)
    }
}

/// `GET /api/v1/jobs`: `{"jobs": [...]}`.
package struct WhirrJobList: Codable, Sendable, Hashable {
    /// The jobs.
    package var jobs: [WhirrJob]

    /// A list.
    package init(jobs: [WhirrJob]) {
        self.jobs = jobs
    }
}

/// `POST /api/v1/jobs/claim`: a worker asks for the next job.
package struct WhirrJobClaim: Codable, Sendable, Hashable {
    /// The worker's id (`<host>:default`, `<host>:gpu<n>`).
    package var workerID: String
    /// The GPU the worker would give the job (whirr's server ignores it).
    package var gpuID: Int?
    /// How long the worker holds the job without a heartbeat, 10 to 600 seconds (default 60).
    package var leaseSeconds: Int

    enum CodingKeys: String, CodingKey {
        case workerID = "worker_id"
        case gpuID = "gpu_id"
        case leaseSeconds = "lease_seconds"
    }

    /// A claim.
    package init(workerID: String, gpuID: Int? = nil, leaseSeconds: Int = 60) {
        self.workerID = workerID
        self.gpuID = gpuID
        self.leaseSeconds = leaseSeconds
    }

    /// Reads a claim; a missing `lease_seconds` is 60.
    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        workerID = try c.decode(String.self, forKey: .workerID)
        gpuID = try c.decodeIfPresent(Int.self, forKey: .gpuID)
        leaseSeconds = try c.decodeIfPresent(Int.self, forKey: .leaseSeconds) ?? 60
    }
}

/// The answer to a claim: `{"job": job}` or `{"job": null}` when nothing is queued.
package struct WhirrJobClaimResponse: Codable, Sendable, Hashable {
    /// The claimed job, now running.
    package var job: WhirrJob?

    /// An answer.
    package init(job: WhirrJob?) {
        self.job = job
    }
}

/// `POST /api/v1/jobs/{id}/heartbeat`: renews a worker's lease on a job.
package struct WhirrJobHeartbeat: Codable, Sendable, Hashable {
    /// The worker holding the job.
    package var workerID: String
    /// The new lease, 10 to 600 seconds (default 60).
    package var leaseSeconds: Int

    enum CodingKeys: String, CodingKey {
        case workerID = "worker_id"
        case leaseSeconds = "lease_seconds"
    }

    /// A heartbeat.
    package init(workerID: String, leaseSeconds: Int = 60) {
        self.workerID = workerID
        self.leaseSeconds = leaseSeconds
    }

    /// Reads a heartbeat; a missing `lease_seconds` is 60.
    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        workerID = try c.decode(String.self, forKey: .workerID)
        leaseSeconds = try c.decodeIfPresent(Int.self, forKey: .leaseSeconds) ?? 60
    }
}

/// The answer to a heartbeat.
package struct WhirrHeartbeatResponse: Codable, Sendable, Hashable {
    /// Always `true` (a refused heartbeat is an error).
    package var success: Bool
    /// When the lease ends now (whirr's SQLite server writes `null`).
    package var leaseExpiresAt: String?
    /// Whether the job was cancelled: the worker stops it.
    package var cancelRequested: Bool

    enum CodingKeys: String, CodingKey {
        case success
        case leaseExpiresAt = "lease_expires_at"
        case cancelRequested = "cancel_requested"
    }

    /// An answer.
    package init(success: Bool = true, leaseExpiresAt: String?, cancelRequested: Bool) {
        self.success = success
        self.leaseExpiresAt = leaseExpiresAt
        self.cancelRequested = cancelRequested
    }
}

/// `POST /api/v1/jobs/{id}/complete`: the worker reports how the job's command ended.
package struct WhirrJobComplete: Codable, Sendable, Hashable {
    /// The worker holding the job.
    package var workerID: String
    /// The exit code; a signal as its negative (−15 for SIGTERM).
    package var exitCode: Int
    /// `job-<id>`.
    package var runID: String?
    /// `Job cancelled`, `Job shutdown`, or `nil`.
    package var errorMessage: String?

    enum CodingKeys: String, CodingKey {
        case workerID = "worker_id"
        case exitCode = "exit_code"
        case runID = "run_id"
        case errorMessage = "error_message"
    }

    /// A report.
    package init(workerID: String, exitCode: Int, runID: String? = nil, errorMessage: String? = nil) {
        self.workerID = workerID
        self.exitCode = exitCode
        self.runID = runID
        self.errorMessage = errorMessage
    }
}

/// `POST /api/v1/jobs/{id}/fail`: the worker reports a job it could not run.
package struct WhirrJobFail: Codable, Sendable, Hashable {
    /// The worker holding the job.
    package var workerID: String
    /// Why.
    package var errorMessage: String

    enum CodingKeys: String, CodingKey {
        case workerID = "worker_id"
        case errorMessage = "error_message"
    }

    /// A report.
    package init(workerID: String, errorMessage: String) {
        self.workerID = workerID
        self.errorMessage = errorMessage
    }
}

/// The answer to a cancel: what the job's status was.
package struct WhirrJobCancelResponse: Codable, Sendable, Hashable {
    /// `Job <id> cancelled`.
    package var message: String
    /// The status before the cancel.
    package var previousStatus: String

    enum CodingKeys: String, CodingKey {
        case message
        case previousStatus = "previous_status"
    }

    /// An answer.
    package init(message: String, previousStatus: String) {
        self.message = message
        self.previousStatus = previousStatus
    }
}
