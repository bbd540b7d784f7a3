import Foundation
import QuillAPI
import QuillCore
import QuillStore

extension DTO {
    static func job(_ job: Job) -> APIJob {
        APIJob(
            id: job.id,
            projectID: job.spec.projectID,
            runID: job.spec.runID.rawValue,
            name: job.spec.name,
            argv: job.spec.argv,
            workdir: job.spec.workdir,
            env: job.spec.environment,
            config: job.spec.config,
            tags: job.spec.tags,
            gpus: job.spec.resources.gpus,
            device: job.spec.resources.device,
            labels: job.spec.resources.labels,
            priority: job.spec.priority,
            maxAttempts: job.spec.maxAttempts,
            timeoutSeconds: job.spec.timeout.map(seconds),
            status: job.status.rawValue,
            attemptsUsed: job.attemptsUsed,
            cancelRequested: job.cancelRequested,
            exitCode: job.exitCode,
            signal: job.signal,
            reason: job.reason,
            submittedBy: job.spec.submittedBy,
            createdAt: job.createdAt,
            startedAt: job.startedAt,
            endedAt: job.endedAt,
            attempts: job.attempts.map(attempt)
        )
    }

    static func attempt(_ attempt: JobAttempt) -> APIJobAttempt {
        APIJobAttempt(
            number: attempt.number,
            worker: attempt.worker,
            gpus: attempt.gpus,
            startedAt: attempt.startedAt,
            endedAt: attempt.endedAt,
            leaseExpiresAt: attempt.leaseExpiresAt,
            outcome: attempt.outcome?.rawValue,
            exitCode: attempt.exitCode,
            signal: attempt.signal,
            reason: attempt.reason,
            slurmJobID: attempt.slurmJobID
        )
    }

    static func device(_ device: Device) -> APIDevice {
        APIDevice(
            name: device.spec.name,
            host: device.spec.host,
            cpus: device.spec.cpus,
            memoryBytes: device.spec.memoryBytes,
            gpus: device.spec.gpus.map { APIDeviceGPU(index: $0.index, name: $0.name, memoryBytes: $0.memoryBytes) },
            labels: device.spec.labels,
            slots: device.spec.slots,
            status: device.status.rawValue,
            registeredAt: device.registeredAt,
            lastSeen: device.lastSeen,
            runningJobs: device.runningJobs
        )
    }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
