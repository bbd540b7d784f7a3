package import Foundation
package import QuillCore
package import QuillStore

/// A job's run directory on its worker: a Quill run directory (`meta.json`, `config.json`, `artifacts/`, and
/// the `metrics.jsonl`, `events.jsonl` and `output.log` the job and the SDK append to) for the job's run, at
/// `<runs directory>/<run id>`, given to the command as `QUILL_RUN_DIR`.
///
/// The SDK inside the job (`Quill.startRun`) attaches to it instead of starting a run of its own, and any
/// program that appends JSON lines to `metrics.jsonl` is logging into the job's run. `meta.json` keeps the
/// fields whirr's format reads too (see ``QuillCore/RunMeta``).
package enum JobRunDirectory {
    /// The `meta.json` field that names the job.
    package static let jobIDField = "job_id"
    /// The `meta.json` field that names the attempt.
    package static let attemptField = "attempt"

    /// The first `_idx` the rows of attempt `number` (from 1) are uploaded with: attempt 1 keeps the indices
    /// the file gives, each later attempt counts from its own 2³² boundary. A retried job's new rows then
    /// never share an index with the rows an earlier attempt sent (the server keeps the first row it gets
    /// for an index, so the earlier, lost attempt's rows would otherwise stand in for the new ones), and
    /// indices stay below 2⁵³ (exact in a JavaScript number) for a million attempts.
    package static func indexBase(attempt number: Int) -> Int {
        let attempts = max(0, min(number - 1, 1 << 20))
        return attempts << 32
    }

    /// Makes the run directory of a claimed attempt: `meta.json` (the job's run id, name, tags with
    /// `quill.job`, status `running`, the job id and attempt number), `config.json` (the job's config) and
    /// `artifacts/`.
    ///
    /// A directory an earlier attempt of the job left on this worker is moved aside to
    /// `<run id>.attempt-<n>` (replacing an older one of that name), so the new attempt starts empty and
    /// its upload offsets start at zero.
    ///
    /// - Throws: ``QuillCore/QuillError`` with code `io` when the directory cannot be made or written.
    package static func prepare(in runsDirectory: String, for claim: JobClaim) throws -> RunDirectory {
        let job = claim.job
        let directory = RunDirectory(path: runsDirectory + "/" + job.spec.runID.rawValue)
        let files = FileManager.default
        if files.fileExists(atPath: directory.path) {
            let aside = directory.path + ".attempt-\(max(0, claim.attempt.number - 1))"
            try? files.removeItem(atPath: aside)
            do {
                try files.moveItem(atPath: directory.path, toPath: aside)
            } catch {
                throw QuillError(
                    .io,
                    "could not move the run directory of an earlier attempt '\(directory.path)' aside; remove it, or check the permissions of \(runsDirectory)",
                    underlying: error
                )
            }
        }
        do {
            try files.createDirectory(atPath: directory.artifactsPath, withIntermediateDirectories: true)
        } catch {
            throw QuillError(
                .io,
                "could not make the job's run directory '\(directory.path)'; check that \(runsDirectory) is writable",
                underlying: error
            )
        }
        var meta = RunMeta(
            id: job.spec.runID,
            name: job.spec.name.isEmpty ? "job-\(job.id)" : job.spec.name,
            project: Project(displayName: Project.defaultName),
            kind: .training,
            parent: nil,
            startedAt: claim.attempt.startedAt
        )
        for (key, value) in job.spec.tags.sorted(by: { $0.key < $1.key }) { meta.setTag(key, value) }
        meta.setTag(JobQueue.jobTag, String(job.id))
        meta.extra[jobIDField] = .int(Int(job.id))
        meta.extra[attemptField] = .int(claim.attempt.number)
        try FileIO.replaceAtomically(directory.configPath, with: JSONWriter.pretty(.object(job.spec.config)))
        try directory.writeMeta(meta)
        return directory
    }

    /// Records how the attempt ended in `meta.json` (after the last upload, so the upload never sends a
    /// status: the queue sets the run's status on the server).
    package static func finish(_ directory: RunDirectory, _ result: AttemptResult, at time: Date) {
        let status: RunStatus =
            switch result.outcome {
            case .completed: .completed
            case .cancelled: .killed
            case .failed, .timedOut, .lost, .handedBack, .preempted: .failed
            }
        _ = try? directory.updateMeta { meta in
            meta.status = status
            meta.finishedAt = time
            meta.error = result.reason
            meta.exitCode = result.exitCode.map { Int32(truncatingIfNeeded: $0) }
            meta.signal = result.signal.map { Int32(truncatingIfNeeded: $0) }
        }
    }
}
