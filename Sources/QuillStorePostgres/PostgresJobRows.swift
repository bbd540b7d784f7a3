import Foundation
import PostgresNIO
import QuillCore
import QuillStore

/// The columns the job store reads, and the values it makes of their rows (`jobs`, `job_attempts`, `devices`,
/// `remote_artifact_requests`; lists and maps are JSON text written by ``JSONColumn``, times microseconds).
enum PostgresJobRows {
    /// The columns of `jobs`, in the order ``job(_:)`` reads them by name.
    static let jobColumns = """
        id, project_id, run_id, name, argv, workdir, environment, config, tags, gpus, device, labels, priority,
        max_attempts, timeout_us, submitted_by, status, attempts_used, cancel_requested, exit_code, signal, reason,
        created_at, started_at, ended_at, updated_at
        """

    /// The columns of `job_attempts`.
    static let attemptColumns = """
        job_id, number, worker, gpus, started_at, ended_at, lease_expires_at, outcome, exit_code, signal, reason,
        slurm_job_id
        """

    /// The columns of `devices`.
    static let deviceColumns = """
        name, host, cpus, memory_bytes, gpus, labels, slots, registered_at, last_seen, lease_expires_at, online
        """

    /// The columns of `remote_artifact_requests`.
    static let remoteArtifactColumns = """
        id, run_id, device, source_path, artifact_path, transfer, status, reason, size, sha256, claims,
        requested_by, created_at, updated_at
        """

    /// A row of `jobs`: the job's id, what was submitted, when, and its progress.
    struct JobRow: Sendable {
        var id: Int64
        var spec: NewJob
        var createdAt: Int64
        var progress: JobProgress

        /// The job with its attempts.
        func stored(attempts: [JobAttempt]) -> Job {
            Job(id: id, spec: spec, createdAt: createdAt, progress: progress, attempts: attempts)
        }
    }

    static func job(_ row: PostgresRow) throws -> JobRow {
        let cells = row.makeRandomAccess()
        let id = try cells["id"].decode(Int64.self)
        let runText = try cells["run_id"].decode(String.self)
        guard let runID = RunID(runText) else {
            throw QuillError(.io, "job \(id) names an invalid run id '\(runText)'; the database is damaged")
        }
        var spec = NewJob(
            projectID: try cells["project_id"].decode(Int64.self),
            runID: runID,
            name: try cells["name"].decode(String.self),
            argv: JSONColumn.strings(try cells["argv"].decode(String.self))
        )
        spec.workdir = try cells["workdir"].decode(String?.self)
        spec.environment = JSONColumn.stringMap(try cells["environment"].decode(String.self))
        spec.config = JSONColumn.object(try cells["config"].decode(String.self))
        spec.tags = JSONColumn.stringMap(try cells["tags"].decode(String.self))
        spec.resources = JobResources(
            gpus: try cells["gpus"].decode(Int.self),
            device: try cells["device"].decode(String?.self),
            labels: JSONColumn.strings(try cells["labels"].decode(String.self))
        )
        spec.priority = try cells["priority"].decode(Int.self)
        spec.maxAttempts = try cells["max_attempts"].decode(Int.self)
        spec.timeout = try cells["timeout_us"].decode(Int64?.self).map { Duration.microseconds($0) }
        spec.submittedBy = try cells["submitted_by"].decode(String?.self)
        let progress = JobProgress(
            status: JobStatus(rawValue: try cells["status"].decode(String.self)) ?? .failed,
            attemptsUsed: try cells["attempts_used"].decode(Int.self),
            cancelRequested: try cells["cancel_requested"].decode(Bool.self),
            exitCode: try cells["exit_code"].decode(Int?.self),
            signal: try cells["signal"].decode(Int?.self),
            reason: try cells["reason"].decode(String?.self),
            startedAt: try cells["started_at"].decode(Int64?.self),
            endedAt: try cells["ended_at"].decode(Int64?.self),
            updatedAt: try cells["updated_at"].decode(Int64.self)
        )
        return JobRow(id: id, spec: spec, createdAt: try cells["created_at"].decode(Int64.self), progress: progress)
    }

    /// A row of `job_attempts`: its job and the attempt.
    static func attempt(_ row: PostgresRow) throws -> (jobID: Int64, attempt: JobAttempt) {
        let cells = row.makeRandomAccess()
        let attempt = JobAttempt(
            number: try cells["number"].decode(Int.self),
            worker: try cells["worker"].decode(String.self),
            gpus: JSONColumn.ints(try cells["gpus"].decode(String.self)),
            startedAt: Timestamp.date(microseconds: try cells["started_at"].decode(Int64.self)),
            endedAt: try cells["ended_at"].decode(Int64?.self).map(Timestamp.date(microseconds:)),
            leaseExpiresAt: Timestamp.date(microseconds: try cells["lease_expires_at"].decode(Int64.self)),
            outcome: try cells["outcome"].decode(String?.self).flatMap(AttemptOutcome.init(rawValue:)),
            exitCode: try cells["exit_code"].decode(Int?.self),
            signal: try cells["signal"].decode(Int?.self),
            reason: try cells["reason"].decode(String?.self),
            slurmJobID: try cells["slurm_job_id"].decode(String?.self)
        )
        return (try cells["job_id"].decode(Int64.self), attempt)
    }

    /// A row of `devices`, as the device is at `now` while running `runningJobs`.
    static func device(_ row: PostgresRow, now: Int64, runningJobs: [Int64]) throws -> Device {
        let cells = row.makeRandomAccess()
        let spec = NewDevice(
            name: try cells["name"].decode(String.self),
            host: try cells["host"].decode(String.self),
            cpus: try cells["cpus"].decode(Int.self),
            memoryBytes: try cells["memory_bytes"].decode(Int64.self),
            gpus: JSONColumn.gpus(try cells["gpus"].decode(String.self)),
            labels: JSONColumn.strings(try cells["labels"].decode(String.self)),
            slots: try cells["slots"].decode(Int.self)
        )
        let status = DeviceStatus(
            online: try cells["online"].decode(Bool.self),
            leaseExpiresAt: try cells["lease_expires_at"].decode(Int64.self),
            runningJobs: runningJobs.count,
            now: now
        )
        return Device(
            spec: spec,
            status: status,
            registeredAt: Timestamp.date(microseconds: try cells["registered_at"].decode(Int64.self)),
            lastSeen: Timestamp.date(microseconds: try cells["last_seen"].decode(Int64.self)),
            runningJobs: runningJobs
        )
    }

    /// A row of `remote_artifact_requests`.
    static func remoteArtifact(_ row: PostgresRow) throws -> RemoteArtifactRequest {
        let cells = row.makeRandomAccess()
        let id = try cells["id"].decode(Int64.self)
        guard let run = RunID(try cells["run_id"].decode(String.self)) else {
            throw QuillError(.malformed, "a remote artifact request names an invalid run id")
        }
        let spec = NewRemoteArtifact(
            run: run,
            device: try cells["device"].decode(String.self),
            sourcePath: try cells["source_path"].decode(String.self),
            artifactPath: try cells["artifact_path"].decode(String.self),
            transfer: try cells["transfer"].decode(Bool.self),
            requestedBy: try cells["requested_by"].decode(String?.self)
        )
        return RemoteArtifactRequest(
            id: id,
            spec: spec,
            status: RemoteArtifactStatus(rawValue: try cells["status"].decode(String.self)) ?? .failed,
            reason: try cells["reason"].decode(String?.self),
            size: try cells["size"].decode(Int64?.self),
            sha256: try cells["sha256"].decode(String?.self),
            claims: try cells["claims"].decode(Int.self),
            createdAt: Timestamp.date(microseconds: try cells["created_at"].decode(Int64.self)),
            updatedAt: Timestamp.date(microseconds: try cells["updated_at"].decode(Int64.self))
        )
    }
}
