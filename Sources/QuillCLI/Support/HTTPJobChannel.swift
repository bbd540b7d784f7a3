import Dispatch
import Foundation
import QuillAPI
import QuillClient
import QuillCore
import QuillJobs
import QuillStore

/// A worker's channel to a remote `quill serve` (`quill worker --server URL`): the job routes of the REST API,
/// each call on a dispatch thread (the HTTP client blocks, and a claim long-polls).
struct HTTPJobChannel: JobChannel {
    let client: BlockingHTTPClient

    func register(_ device: NewDevice, lease: Duration) async throws {
        let body = APIDeviceRegister(
            host: device.host,
            cpus: device.cpus,
            memoryBytes: device.memoryBytes,
            gpus: device.gpus.map { APIDeviceGPU(index: $0.index, name: $0.name, memoryBytes: $0.memoryBytes) },
            labels: device.labels,
            slots: device.slots,
            leaseSeconds: Self.seconds(lease)
        )
        _ = try await call("PUT", APIPath.device(device.name), body)
    }

    func heartbeat(device: String, lease: Duration) async throws {
        _ = try await call(
            "POST",
            APIPath.device(device, "heartbeat"),
            APIJobLeaseRequest(leaseSeconds: Self.seconds(lease))
        )
    }

    func unregister(device: String) async throws {
        _ = try await call("POST", APIPath.device(device, "unregister"), nil as APIJobLeaseRequest?)
    }

    func claim(_ worker: WorkerCapabilities, lease: Duration, wait: Duration) async throws -> JobClaim? {
        let body = APIJobClaimRequest(
            worker: worker.name,
            slots: worker.slots,
            gpus: worker.gpus,
            labels: worker.labels,
            leaseSeconds: Self.seconds(lease),
            waitSeconds: Self.seconds(wait)
        )
        let json = try await call("POST", APIPath.jobClaim, body)
        guard json != .null else { return nil }
        let claim = try APIDecoder().decode(APIJobClaim.self, from: json)
        return JobClaim(job: try Self.job(claim.job), attempt: Self.attempt(claim.attempt))
    }

    func renew(_ attempt: AttemptRef, lease: Duration, slurmJobID: String?) async throws -> LeaseState {
        let body = APIJobHeartbeat(
            worker: attempt.worker,
            attempt: attempt.number,
            leaseSeconds: Self.seconds(lease),
            slurmJobID: slurmJobID
        )
        let json = try await call("POST", APIPath.job(attempt.jobID, "heartbeat"), body)
        let state = try APIDecoder().decode(APIJobLease.self, from: json)
        return LeaseState(expiresAt: state.expiresAt, cancelRequested: state.cancelRequested)
    }

    func appendOutput(_ attempt: AttemptRef, lines: [String]) async throws {
        let body = APIJobOutput(worker: attempt.worker, attempt: attempt.number, lines: lines)
        _ = try await call("POST", APIPath.job(attempt.jobID, "output"), body)
    }

    func finish(_ attempt: AttemptRef, _ result: AttemptResult) async throws {
        let body = APIJobFinish(
            worker: attempt.worker,
            attempt: attempt.number,
            outcome: result.outcome.rawValue,
            exitCode: result.exitCode,
            signal: result.signal,
            reason: result.reason
        )
        _ = try await call("POST", APIPath.job(attempt.jobID, "finish"), body)
    }

    private func call<Body: Encodable>(_ method: String, _ path: String, _ body: Body?) async throws -> JSONValue {
        let json = try body.map { try APIEncoder().encode($0) }
        let client = client
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try client.call(method, path, json: json) })
            }
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// A job as the API gives it, as the store's value.
    static func job(_ job: APIJob) throws -> Job {
        guard let runID = RunID(job.runID) else {
            throw QuillError(.malformed, "the server sent job \(job.id) with an invalid run id '\(job.runID)'")
        }
        var spec = NewJob(projectID: job.projectID, runID: runID, name: job.name, argv: job.argv)
        spec.workdir = job.workdir
        spec.environment = job.env
        spec.config = job.config
        spec.tags = job.tags
        spec.resources = JobResources(gpus: job.gpus, device: job.device, labels: job.labels)
        spec.priority = job.priority
        spec.maxAttempts = job.maxAttempts
        spec.timeout = job.timeoutSeconds.map { .milliseconds(Int64(($0 * 1000).rounded())) }
        spec.submittedBy = job.submittedBy
        return Job(
            id: job.id,
            spec: spec,
            status: JobStatus(rawValue: job.status) ?? .running,
            attemptsUsed: job.attemptsUsed,
            cancelRequested: job.cancelRequested,
            exitCode: job.exitCode,
            signal: job.signal,
            reason: job.reason,
            createdAt: job.createdAt,
            startedAt: job.startedAt,
            endedAt: job.endedAt,
            updatedAt: job.endedAt ?? job.startedAt ?? job.createdAt,
            attempts: job.attempts.map(attempt)
        )
    }

    static func attempt(_ attempt: APIJobAttempt) -> JobAttempt {
        JobAttempt(
            number: attempt.number,
            worker: attempt.worker,
            gpus: attempt.gpus,
            startedAt: attempt.startedAt,
            endedAt: attempt.endedAt,
            leaseExpiresAt: attempt.leaseExpiresAt,
            outcome: attempt.outcome.flatMap(AttemptOutcome.init(rawValue:)),
            exitCode: attempt.exitCode,
            signal: attempt.signal,
            reason: attempt.reason,
            slurmJobID: attempt.slurmJobID
        )
    }
}
