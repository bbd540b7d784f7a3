public import Foundation
import QuillCore

/// What a step's result is: the `status` of `.quill/state.json`.
public enum StepResultStatus: String, Sendable, Hashable, CaseIterable {
    /// Never computed.
    case absent
    /// A computation started and has not finished (or its process died).
    case incomplete
    /// Computed; the success marker is written.
    case success
    /// The last computation threw.
    case failed
}

/// How one attempt to compute a step went.
public enum StepAttemptStatus: String, Sendable, Hashable, CaseIterable {
    /// Waiting for a worker (the job queue's backends).
    case queued
    /// Computing now.
    case running
    /// Finished and recorded.
    case success
    /// `create` threw.
    case failed
    /// Stopped on purpose.
    case cancelled
    /// Stopped by the runner or scheduler, to be started again.
    case preempted
    /// Its process died or stopped heart-beating; another process took the lock over.
    case crashed
}

/// One attempt to compute a step.
public struct StepAttempt: Sendable, Hashable {
    /// A unique id (also the lock's token).
    public var id: String
    /// How it went.
    public var status: StepAttemptStatus
    /// `host:pid` of the computing process.
    public var owner: String
    /// What ran it: `local` (in the calling process), `process` (`quill-step run` in a child process) or
    /// `slurm` (`quill-step run` in a SLURM batch job).
    public var backend: String
    /// The SLURM job that ran it (`slurm_job_id`), for the `slurm` backend.
    public var slurmJob: String?
    /// When it started.
    public var startedAt: Date
    /// When it ended.
    public var endedAt: Date?
    /// The last heartbeat.
    public var heartbeatAt: Date?
    /// What went wrong.
    public var error: String?

    var json: JSONValue {
        var object: [String: JSONValue] = [
            "id": .string(id), "status": .string(status.rawValue), "owner": .string(owner),
            "backend": .string(backend), "started_at": .string(Timestamp.string(startedAt)),
            "ended_at": endedAt.map { .string(Timestamp.string($0)) } ?? .null,
            "heartbeat_at": heartbeatAt.map { .string(Timestamp.string($0)) } ?? .null,
            "error": error.map(JSONValue.string) ?? .null,
        ]
        if let slurmJob { object["slurm_job_id"] = .string(slurmJob) }
        return .object(object)
    }

    init(id: String, status: StepAttemptStatus, owner: String, backend: String, startedAt: Date) {
        self.id = id
        self.status = status
        self.owner = owner
        self.backend = backend
        self.startedAt = startedAt
    }

    init?(json: JSONValue) {
        guard let id = json["id"]?.stringValue,
            let status = json["status"]?.stringValue.flatMap(StepAttemptStatus.init),
            let started = json["started_at"]?.stringValue.flatMap(Timestamp.parse)
        else { return nil }
        self.id = id
        self.status = status
        self.owner = json["owner"]?.stringValue ?? ""
        self.backend = json["backend"]?.stringValue ?? "local"
        self.startedAt = started
        self.endedAt = json["ended_at"]?.stringValue.flatMap(Timestamp.parse)
        self.heartbeatAt = json["heartbeat_at"]?.stringValue.flatMap(Timestamp.parse)
        self.error = json["error"]?.stringValue
        self.slurmJob = json["slurm_job_id"]?.stringValue
    }
}

/// `.quill/state.json`: the result's status and every attempt, oldest first.
public struct StepState: Sendable, Hashable {
    /// The result's status.
    public var status: StepResultStatus = .absent
    /// The attempts.
    public var attempts: [StepAttempt] = []

    /// An empty state.
    public init() {}

    /// Reads a state file; a missing or unreadable one is `absent`.
    public static func read(_ path: String) -> StepState {
        guard let bytes = try? FileIO.read(path), let json = try? JSONParser.parse(bytes) else { return StepState() }
        var state = StepState()
        state.status = json["status"]?.stringValue.flatMap(StepResultStatus.init) ?? .absent
        state.attempts = (json["attempts"]?.arrayValue ?? []).compactMap(StepAttempt.init(json:))
        return state
    }

    /// Replaces the state file atomically. It is not synced to disk: after a power loss it may show an
    /// older state, which the next call corrects; the success marker is what must survive, and it is synced.
    func write(_ path: String) throws {
        try FileIO.replaceAtomically(
            path,
            with: JSONWriter.pretty([
                "status": .string(status.rawValue), "attempts": .array(attempts.map(\.json)),
                "updated_at": .string(Timestamp.string(Date())),
            ]),
            durable: false
        )
    }

    /// Changes the attempt with an id.
    mutating func update(_ id: String, _ change: (inout StepAttempt) -> Void) {
        if let index = attempts.lastIndex(where: { $0.id == id }) { change(&attempts[index]) }
    }
}
