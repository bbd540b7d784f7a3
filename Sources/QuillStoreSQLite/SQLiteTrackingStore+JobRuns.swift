import Foundation
import GRDB
import QuillCore
import QuillStore

/// Every job is a run: the job's run is written in the same transaction as the job, so the two never disagree.
///
/// - Submitting inserts the run, `queued`, named, configured and tagged as the job (plus ``Job/runTag``),
///   owned by the submitting user; a failed submission leaves neither.
/// - A claim makes it `running`, started at the attempt's start on the worker's host.
/// - A hand-back, a lost attempt re-queued and a retry make it `queued` again; the job's end makes it
///   `completed`, `failed` or (cancelled) `killed`, ended when the job ended.
///
/// A job whose run was deleted gets it again at its next change.
extension SQLiteTrackingStore {
    /// Inserts a just-submitted job's run, `queued`.
    ///
    /// - Throws: A database error; the run id of an existing run breaks `runs.id`'s uniqueness.
    static func insertJobRun(_ db: Database, _ job: JobRecord, now: Int64) throws {
        guard let id = job.id else { return }
        let run = job.spec.run(jobID: id, now: now)
        let record = try insertRun(db, run)
        for (key, value) in run.tags {
            try TagRecord(runID: record.id, key: key, value: value).insert(db)
        }
        try SearchIndex.refresh(db, runID: record.id)
    }

    /// Sets a job's run to the job's status as it is now: `started` (with `host`) when an attempt starts, the
    /// end time when the job ended. Makes the run again when it was deleted.
    static func syncJobRun(
        _ db: Database,
        _ job: JobRecord,
        started: (at: Int64, host: String)? = nil,
        now: Int64
    ) throws {
        guard var record = try RunRecord.fetchOne(db, key: job.spec.runID.rawValue) else {
            try insertJobRun(db, job, now: now)
            guard job.status != .queued else { return }
            return try syncJobRun(db, job, started: started, now: now)
        }
        let status = RunStatus(job: job.status)
        record.status = status.rawValue
        if let started {
            record.startedAt = started.at
            record.host = started.host
        }
        record.endedAt = status.isTerminal ? (job.endedAt ?? now) : nil
        record.updatedAt = now
        try record.update(db)
        try SearchIndex.refresh(db, runID: record.id)
    }
}
