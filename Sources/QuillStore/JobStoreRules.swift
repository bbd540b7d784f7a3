import Foundation
package import QuillCore

// The rules of the job queue that do not depend on a backend: what a submission, a worker, a device and a
// remote artifact request must be, the errors every backend throws in the same words, and the texts of the
// reasons it records. Each backend writes its own statements around them.

extension NewJob {
    /// Checks what a submission must be.
    ///
    /// - Throws: ``QuillError`` with code `invalidArgument` for an empty command, fewer than one attempt, a
    ///   negative GPU count or a timeout that is not positive.
    package func validate() throws {
        guard let command = argv.first, !command.isEmpty else {
            throw QuillError(.invalidArgument, "a job needs a command; put it after `--`")
        }
        guard maxAttempts >= 1 else {
            throw QuillError(.invalidArgument, "max attempts must be at least 1, not \(maxAttempts)")
        }
        guard resources.gpus >= 0 else {
            throw QuillError(.invalidArgument, "a job cannot ask for \(resources.gpus) GPUs")
        }
        if let timeout, timeout <= .zero {
            throw QuillError(.invalidArgument, "a job's timeout must be positive")
        }
    }

    /// The run a submitted job produces, `queued` from `now`: named, configured and tagged as the job (plus
    /// ``Job/runTag`` naming the job), owned by the submitting user.
    package func run(jobID: Int64, now: Int64) -> NewRun {
        var run = NewRun(projectID: projectID)
        run.id = runID
        run.name = name
        run.config = config
        run.tags = tags.merging([Job.runTag: String(jobID)]) { _, new in new }
        run.user = submittedBy
        run.status = .queued
        run.startedAt = Timestamp.date(microseconds: now)
        return run
    }
}

extension WorkerCapabilities {
    /// Checks what a claiming worker must offer.
    ///
    /// - Throws: ``QuillError`` with code `invalidArgument` for fewer than one slot.
    package func validate() throws {
        guard slots >= 1 else { throw QuillError(.invalidArgument, "a worker needs at least one slot") }
    }

    /// The worker's GPUs that none of its running attempts holds, in its order.
    package func freeGPUs(held: some Sequence<Int>) -> [Int] {
        let taken = Set(held)
        return gpus.filter { !taken.contains($0) }
    }
}

extension NewDevice {
    /// Checks what a registering device must be.
    ///
    /// - Throws: ``QuillError`` with code `invalidArgument` for an empty name or fewer than one slot.
    package func validate() throws {
        guard !name.isEmpty else { throw QuillError(.invalidArgument, "a device needs a name") }
        guard slots >= 1 else { throw QuillError(.invalidArgument, "a device needs at least one slot") }
    }
}

extension DeviceStatus {
    /// A device's status at `now`: offline when unregistered or silent past its lease, busy while it runs jobs.
    package init(online: Bool, leaseExpiresAt: Int64, runningJobs: Int, now: Int64) {
        self = !online || leaseExpiresAt < now ? .offline : runningJobs == 0 ? .online : .busy
    }
}

extension NewRemoteArtifact {
    /// Checks what a request must be.
    ///
    /// - Throws: ``QuillError`` with code `invalidArgument` without a device or with a relative path.
    package func validate() throws {
        guard !device.isEmpty else {
            throw QuillError(.invalidArgument, "a remote artifact needs the device it is on")
        }
        guard sourcePath.hasPrefix("/") else {
            throw QuillError(.invalidArgument, "the path of a remote artifact must be absolute, not '\(sourcePath)'")
        }
    }
}

extension RemoteArtifactResult {
    /// What a claimed request becomes when its worker reports this: its status, size, SHA-256 and reason.
    package var fields: (status: RemoteArtifactStatus, size: Int64?, sha256: String?, reason: String?) {
        switch self {
        case .done(let size, let sha256): (.done, size, sha256, nil)
        case .failed(let reason): (.failed, nil, nil, reason)
        }
    }
}

extension Duration {
    /// The end of a lease of this duration from `start` (microseconds), saturating rather than overflowing on
    /// an absurd lease; a negative lease ends at `start`.
    package func expiry(from start: Int64) -> Int64 {
        let (sum, overflow) = start.addingReportingOverflow(max(0, microseconds))
        return overflow ? Int64.max : sum
    }
}

/// The errors and recorded reasons of the job queue, in the same words on every backend.
package enum JobStoreText {
    /// An unknown job.
    package static func missingJob(_ id: Int64) -> QuillError {
        QuillError(.notFound, "job \(id) not found; list jobs with `quill jobs`")
    }

    /// A submission whose run another job already produces.
    package static func jobRunTaken(_ run: RunID) -> QuillError {
        QuillError(.conflict, "a job already produces run '\(run)'; leave the run id out to get a fresh one")
    }

    /// A submission whose run id an existing run has.
    package static func runIDTaken(_ run: RunID) -> QuillError {
        QuillError(.conflict, "a run with id '\(run)' already exists; leave the run id out to get a fresh one")
    }

    /// A submission to an unknown project.
    package static func missingProject(_ id: Int64) -> QuillError {
        QuillError(.notFound, "project \(id) not found; create it first")
    }

    /// A call about an attempt that is no longer the job's running one on that worker.
    package static func attemptNotRunning(_ ref: AttemptRef, jobStatus: JobStatus) -> QuillError {
        QuillError(
            .conflict,
            "attempt \(ref.number) of job \(ref.jobID) is no longer running on '\(ref.worker)' (the job is \(jobStatus)); drop it"
        )
    }

    /// A worker reporting its own attempt lost.
    package static var lostByWorker: QuillError {
        QuillError(.invalidArgument, "a worker cannot report its own attempt lost; hand it back instead")
    }

    /// An unknown device, naming the known ones (sorted by name).
    package static func missingDevice(_ name: String, known: [String]) -> QuillError {
        let list = known.isEmpty ? "no device is registered" : "known devices: \(known.joined(separator: ", "))"
        return QuillError(.notFound, "device '\(name)' not found; \(list)")
    }

    /// An unknown remote artifact request.
    package static func missingRemoteArtifact(_ id: Int64) -> QuillError {
        QuillError(.notFound, "remote artifact request \(id) not found")
    }

    /// A report about a remote artifact request that this device is not sending.
    package static func remoteArtifactNotSending(
        _ id: Int64,
        status: RemoteArtifactStatus,
        device: String,
        reportedBy: String
    ) -> QuillError {
        QuillError(
            .conflict,
            "remote artifact request \(id) is \(status.rawValue) for device '\(device)', not being sent by '\(reportedBy)'"
        )
    }

    /// Why an attempt was lost: its worker stopped renewing the lease.
    package static func leaseExpired(worker: String) -> String {
        "worker '\(worker)' stopped renewing its lease"
    }

    /// Why an attempt was lost: its worker unregistered.
    package static func unregistered(worker: String) -> String {
        "worker '\(worker)' unregistered while running it"
    }
}
