import Foundation
import GRDB
import QuillCore
import QuillStore

/// A row of `jobs`: one submitted job. Lists and maps are TEXT written by ``JSONWriter``.
struct JobRecord: FetchableRecord, PersistableRecord, Sendable {
    static let databaseTableName = "jobs"

    /// The table's columns.
    enum Columns {
        static let id = Column("id")
        static let projectID = Column("project_id")
        static let runID = Column("run_id")
        static let name = Column("name")
        static let argv = Column("argv")
        static let workdir = Column("workdir")
        static let environment = Column("environment")
        static let config = Column("config")
        static let tags = Column("tags")
        static let gpus = Column("gpus")
        static let device = Column("device")
        static let labels = Column("labels")
        static let priority = Column("priority")
        static let maxAttempts = Column("max_attempts")
        static let timeout = Column("timeout_us")
        static let submittedBy = Column("submitted_by")
        static let status = Column("status")
        static let attemptsUsed = Column("attempts_used")
        static let cancelRequested = Column("cancel_requested")
        static let exitCode = Column("exit_code")
        static let signal = Column("signal")
        static let reason = Column("reason")
        static let createdAt = Column("created_at")
        static let startedAt = Column("started_at")
        static let endedAt = Column("ended_at")
        static let updatedAt = Column("updated_at")
    }

    /// `nil` before the row is inserted (SQLite assigns it).
    var id: Int64?
    var spec: NewJob
    var status: JobStatus
    var attemptsUsed: Int
    var cancelRequested: Bool
    var exitCode: Int?
    var signal: Int?
    var reason: String?
    /// Times in microseconds since the epoch.
    var createdAt: Int64
    var startedAt: Int64?
    var endedAt: Int64?
    var updatedAt: Int64

    init(_ spec: NewJob, now: Int64) {
        self.spec = spec
        status = .queued
        attemptsUsed = 0
        cancelRequested = false
        createdAt = now
        updatedAt = now
    }

    /// The changing part of the row, which ``JobProgress``'s transitions change.
    var progress: JobProgress {
        get {
            JobProgress(
                status: status,
                attemptsUsed: attemptsUsed,
                cancelRequested: cancelRequested,
                exitCode: exitCode,
                signal: signal,
                reason: reason,
                startedAt: startedAt,
                endedAt: endedAt,
                updatedAt: updatedAt
            )
        }
        set {
            status = newValue.status
            attemptsUsed = newValue.attemptsUsed
            cancelRequested = newValue.cancelRequested
            exitCode = newValue.exitCode
            signal = newValue.signal
            reason = newValue.reason
            startedAt = newValue.startedAt
            endedAt = newValue.endedAt
            updatedAt = newValue.updatedAt
        }
    }

    init(row: Row) throws {
        id = row[Columns.id]
        let runText: String = row[Columns.runID]
        guard let runID = RunID(runText) else {
            throw QuillError(.io, "job \(id ?? 0) names an invalid run id '\(runText)'; the database is damaged")
        }
        var spec = NewJob(
            projectID: row[Columns.projectID],
            runID: runID,
            name: row[Columns.name],
            argv: JSONColumn.strings(row[Columns.argv])
        )
        spec.workdir = row[Columns.workdir]
        spec.environment = JSONColumn.stringMap(row[Columns.environment])
        spec.config = JSONColumn.object(row[Columns.config])
        spec.tags = JSONColumn.stringMap(row[Columns.tags])
        spec.resources = JobResources(
            gpus: row[Columns.gpus],
            device: row[Columns.device],
            labels: JSONColumn.strings(row[Columns.labels])
        )
        spec.priority = row[Columns.priority]
        spec.maxAttempts = row[Columns.maxAttempts]
        spec.timeout = (row[Columns.timeout] as Int64?).map { Duration.microseconds($0) }
        spec.submittedBy = row[Columns.submittedBy]
        self.spec = spec
        status = JobStatus(rawValue: row[Columns.status]) ?? .failed
        attemptsUsed = row[Columns.attemptsUsed]
        cancelRequested = row[Columns.cancelRequested]
        exitCode = row[Columns.exitCode]
        signal = row[Columns.signal]
        reason = row[Columns.reason]
        createdAt = row[Columns.createdAt]
        startedAt = row[Columns.startedAt]
        endedAt = row[Columns.endedAt]
        updatedAt = row[Columns.updatedAt]
    }

    func encode(to container: inout PersistenceContainer) {
        container[Columns.id] = id
        container[Columns.projectID] = spec.projectID
        container[Columns.runID] = spec.runID.rawValue
        container[Columns.name] = spec.name
        container[Columns.argv] = JSONColumn.text(spec.argv)
        container[Columns.workdir] = spec.workdir
        container[Columns.environment] = JSONColumn.text(spec.environment)
        container[Columns.config] = JSONWriter.string(.object(spec.config))
        container[Columns.tags] = JSONColumn.text(spec.tags)
        container[Columns.gpus] = spec.resources.gpus
        container[Columns.device] = spec.resources.device
        container[Columns.labels] = JSONColumn.text(spec.resources.labels)
        container[Columns.priority] = spec.priority
        container[Columns.maxAttempts] = spec.maxAttempts
        container[Columns.timeout] = spec.timeout?.microseconds
        container[Columns.submittedBy] = spec.submittedBy
        container[Columns.status] = status.rawValue
        container[Columns.attemptsUsed] = attemptsUsed
        container[Columns.cancelRequested] = cancelRequested
        container[Columns.exitCode] = exitCode
        container[Columns.signal] = signal
        container[Columns.reason] = reason
        container[Columns.createdAt] = createdAt
        container[Columns.startedAt] = startedAt
        container[Columns.endedAt] = endedAt
        container[Columns.updatedAt] = updatedAt
    }

    /// The job with its attempts, as the store's protocols give it.
    func stored(attempts: [JobAttempt]) -> Job {
        Job(id: id ?? 0, spec: spec, createdAt: createdAt, progress: progress, attempts: attempts)
    }
}
