import Foundation
import PostgresNIO
import QuillCore
import QuillStore

/// Every job is a run: the job's run is written in the same transaction as the job, so the two never disagree
/// (as on SQLite, `SQLiteTrackingStore+JobRuns.swift`).
///
/// - Submitting inserts the run, `queued`, as ``NewJob/run(jobID:now:)`` makes it; a failed submission leaves
///   neither.
/// - A claim makes it `running`, started at the attempt's start on the worker's host.
/// - A hand-back, a lost attempt re-queued and a retry make it `queued` again; the job's end makes it
///   `completed`, `failed` or (cancelled) `killed`, ended when the job ended (``RunStatus/init(job:)``).
///
/// A job whose run was deleted gets it again at its next change.
extension PostgresStore {
    /// Inserts a just-submitted job's run, `queued`, as every run is inserted (``insertRun(_:_:)``: named after
    /// the job, suffixed `_1`, `_2`, … when the name is taken in the project), with its tags, and indexes it
    /// for search.
    ///
    /// - Throws: `conflict` when a run with the job's run id exists.
    func insertJobRun(_ job: PostgresJobRows.JobRow, now: Int64, on connection: PostgresConnection) async throws {
        let run = job.spec.run(jobID: job.id, now: now)
        do {
            _ = try await insertRun(connection, run)
        } catch let error as QuillError where error.code == .conflict {
            // The only conflict of a run whose id is given: that id is taken.
            throw JobStoreText.runIDTaken(job.spec.runID)
        }
        try await setPairs(connection, "tags", owner: "run_id", job.spec.runID.rawValue, run.tags)
        try await refreshSearchIndex(runID: job.spec.runID, on: connection)
    }

    /// Sets a job's run to the job's status as it is now: `started` (with `host`) when an attempt starts, the
    /// end time when the job ended. Makes the run again when it was deleted.
    func syncJobRun(
        _ job: PostgresJobRows.JobRow,
        started: (at: Int64, host: String)? = nil,
        now: Int64,
        on connection: PostgresConnection
    ) async throws {
        let id = job.spec.runID.rawValue
        let status = RunStatus(job: job.progress.status)
        let ended = status.isTerminal ? (job.progress.endedAt ?? now) : nil
        let query: PostgresQuery =
            if let started {
                """
                UPDATE runs
                SET status = \(status.rawValue), started_at = \(started.at), host = \(started.host),
                    ended_at = \(ended), updated_at = \(now)
                WHERE id = \(id)
                RETURNING id
                """
            } else {
                """
                UPDATE runs SET status = \(status.rawValue), ended_at = \(ended), updated_at = \(now)
                WHERE id = \(id)
                RETURNING id
                """
            }
        let updated = try await connection.query(query, logger: logger).collect()
        guard !updated.isEmpty else {
            try await insertJobRun(job, now: now, on: connection)
            guard job.progress.status != .queued else { return }
            return try await syncJobRun(job, started: started, now: now, on: connection)
        }
        try await refreshSearchIndex(runID: job.spec.runID, on: connection)
    }
}
