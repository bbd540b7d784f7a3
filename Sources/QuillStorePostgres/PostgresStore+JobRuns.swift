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
    /// Inserts a just-submitted job's run, `queued`, named after the job (suffixed `_1`, `_2`, … when the name
    /// is taken in the project, as every run is), with its tags, and indexes it for search.
    ///
    /// - Throws: `conflict` when a run with the job's run id exists.
    func insertJobRun(_ job: PostgresJobRows.JobRow, now: Int64, on connection: PostgresConnection) async throws {
        let run = job.spec.run(jobID: job.id, now: now)
        let id = job.spec.runID.rawValue
        let created = Timestamp.nowMicroseconds()
        let status = run.status.rawValue
        let config = JSONWriter.string(.object(run.config))
        var names = RunNameCandidates(requested: run.name)
        var searched = false
        while true {
            let name = names.next()
            // Both uniqueness rules (the id, the name in the project) end in DO NOTHING: a failed statement would
            // abort the whole transaction.
            let inserted = try await connection.query(
                """
                INSERT INTO runs (
                    id, project_id, name, kind, status, created_at, updated_at, started_at, "user", config
                ) VALUES (
                    \(id), \(run.projectID), \(name), \(run.kind.label), \(status), \(created), \(created), \(now),
                    \(run.user), \(config)
                )
                ON CONFLICT DO NOTHING
                RETURNING id
                """,
                logger: logger
            ).collect()
            if !inserted.isEmpty { break }
            let taken = try await connection.query("SELECT 1 FROM runs WHERE id = \(id)", logger: logger).collect()
            guard taken.isEmpty else { throw JobStoreText.runIDTaken(job.spec.runID) }
            if !searched, let requested = names.requested {
                searched = true
                var search = SuffixSearch()
                while let probe = search.probe {
                    let rows = try await connection.query(
                        "SELECT 1 FROM runs WHERE project_id = \(run.projectID) AND name = \(RunNameCandidates.suffixed(requested, probe))",
                        logger: logger
                    ).collect()
                    search.record(taken: !rows.isEmpty)
                }
                names.skip(past: search.result)
            }
        }
        let tags = run.tags.sorted { $0.key < $1.key }
        try await connection.query(
            """
            INSERT INTO tags (run_id, key, value)
            SELECT \(id), key, value FROM unnest(\(tags.map(\.key))::text[], \(tags.map(\.value))::text[]) AS t(key, value)
            """,
            logger: logger
        )
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
