import Foundation
import GRDB
import QuillCore
import QuillStore

/// A row of `job_attempts`: one claim of a job by a worker, keyed by (job, number); `outcome` is NULL while it
/// runs, and the schema allows one such row per job.
struct JobAttemptRecord: FetchableRecord, PersistableRecord, Sendable {
    static let databaseTableName = "job_attempts"

    /// The table's columns.
    enum Columns {
        static let jobID = Column("job_id")
        static let number = Column("number")
        static let worker = Column("worker")
        static let gpus = Column("gpus")
        static let startedAt = Column("started_at")
        static let endedAt = Column("ended_at")
        static let leaseExpiresAt = Column("lease_expires_at")
        static let outcome = Column("outcome")
        static let exitCode = Column("exit_code")
        static let signal = Column("signal")
        static let reason = Column("reason")
        static let slurmJobID = Column("slurm_job_id")
    }

    var jobID: Int64
    var number: Int
    var worker: String
    var gpus: [Int]
    /// Times in microseconds since the epoch.
    var startedAt: Int64
    var endedAt: Int64?
    var leaseExpiresAt: Int64
    var outcome: AttemptOutcome?
    var exitCode: Int?
    var signal: Int?
    var reason: String?
    var slurmJobID: String?

    init(jobID: Int64, number: Int, worker: String, gpus: [Int], startedAt: Int64, leaseExpiresAt: Int64) {
        self.jobID = jobID
        self.number = number
        self.worker = worker
        self.gpus = gpus
        self.startedAt = startedAt
        self.leaseExpiresAt = leaseExpiresAt
    }

    init(row: Row) {
        jobID = row[Columns.jobID]
        number = row[Columns.number]
        worker = row[Columns.worker]
        gpus = JSONColumn.ints(row[Columns.gpus])
        startedAt = row[Columns.startedAt]
        endedAt = row[Columns.endedAt]
        leaseExpiresAt = row[Columns.leaseExpiresAt]
        outcome = (row[Columns.outcome] as String?).flatMap(AttemptOutcome.init(rawValue:))
        exitCode = row[Columns.exitCode]
        signal = row[Columns.signal]
        reason = row[Columns.reason]
        slurmJobID = row[Columns.slurmJobID]
    }

    func encode(to container: inout PersistenceContainer) {
        container[Columns.jobID] = jobID
        container[Columns.number] = number
        container[Columns.worker] = worker
        container[Columns.gpus] = JSONColumn.text(gpus)
        container[Columns.startedAt] = startedAt
        container[Columns.endedAt] = endedAt
        container[Columns.leaseExpiresAt] = leaseExpiresAt
        container[Columns.outcome] = outcome?.rawValue
        container[Columns.exitCode] = exitCode
        container[Columns.signal] = signal
        container[Columns.reason] = reason
        container[Columns.slurmJobID] = slurmJobID
    }

    /// The attempt, as the store's protocols give it.
    var stored: JobAttempt {
        JobAttempt(
            number: number,
            worker: worker,
            gpus: gpus,
            startedAt: Timestamp.date(microseconds: startedAt),
            endedAt: endedAt.map(Timestamp.date(microseconds:)),
            leaseExpiresAt: Timestamp.date(microseconds: leaseExpiresAt),
            outcome: outcome,
            exitCode: exitCode,
            signal: signal,
            reason: reason,
            slurmJobID: slurmJobID
        )
    }
}
