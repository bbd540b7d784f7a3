import Foundation

/// A SLURM job, or one task of an array job, as Quill names it: `123` or `123_4` (array job 123, task 4), the
/// form `squeue -j`, `scancel` and `scontrol` take.
package struct SlurmJobID: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The job's id; for an array task, the array job's id (what `sbatch --parsable` printed).
    package var job: Int64
    /// The array task's index, or `nil` for a job that is not an array task.
    package var task: Int?

    /// A job or an array task.
    package init(job: Int64, task: Int? = nil) {
        self.job = job
        self.task = task
    }

    /// Parses `123` or `123_4`; `nil` for anything else (`123_[0-7]` is not one task).
    package init?(_ text: String) {
        let parts = text.split(separator: "_", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let job = Int64(parts[0]), job > 0 else { return nil }
        self.job = job
        if parts.count == 2 {
            guard let task = Int(parts[1]), task >= 0 else { return nil }
            self.task = task
        }
    }

    /// `123` or `123_4`.
    package var description: String { task.map { "\(job)_\($0)" } ?? "\(job)" }

    /// Task `index` of this array job.
    package func task(_ index: Int) -> SlurmJobID { SlurmJobID(job: job, task: index) }

    package static func < (left: SlurmJobID, right: SlurmJobID) -> Bool {
        (left.job, left.task ?? -1) < (right.job, right.task ?? -1)
    }
}

/// What SLURM says about one job or array task (one line of `squeue`, `scontrol show job` or `sacct`).
package struct SlurmJobInfo: Sendable, Hashable {
    /// The job or array task.
    package var id: SlurmJobID
    /// SLURM's own id of this job or task (an array task gets one when it starts).
    package var rawID: Int64
    /// SLURM's state name: `PENDING`, `RUNNING`, `COMPLETED`, `FAILED`, `TIMEOUT`, `CANCELLED`, …
    package var state: String
    /// SLURM's reason for the state (`TimeLimit`, `NonZeroExitCode`, `Resources`), or `nil` for none.
    package var reason: String?
    /// The batch script's exit status, when it exited.
    package var exitCode: Int?
    /// The signal that ended the batch script, when one did.
    package var signal: Int?
    /// How many times SLURM started the job again (requeued or preempted and requeued).
    package var restarts: Int

    /// A job's record.
    package init(
        id: SlurmJobID,
        rawID: Int64,
        state: String,
        reason: String? = nil,
        exitCode: Int? = nil,
        signal: Int? = nil,
        restarts: Int = 0
    ) {
        self.id = id
        self.rawID = rawID
        self.state = state
        self.reason = reason
        self.exitCode = exitCode
        self.signal = signal
        self.restarts = restarts
    }

    /// Where the job is, in Quill's terms; CANCELLED counts as a preemption when the policy says so (clusters
    /// that cancel on preemption).
    package func phase(_ policy: SlurmPreemptionPolicy = SlurmPreemptionPolicy()) -> SlurmPhase {
        let because = reason.map { " (\($0))" } ?? ""
        switch state {
        case "PENDING", "CONFIGURING", "REQUEUE_HOLD", "RESV_DEL_HOLD":
            return .queued
        case "RUNNING", "COMPLETING", "SUSPENDED", "STOPPED", "SIGNALING", "STAGE_OUT", "RESIZING":
            return .running
        case "COMPLETED":
            if let exitCode, exitCode != 0 {
                return .failed("SLURM job \(id) exited with status \(exitCode)")
            }
            return .completed
        case "FAILED":
            if let signal {
                return .failed("SLURM job \(id) FAILED: killed by signal \(signal)\(because)")
            }
            return .failed("SLURM job \(id) FAILED: exited with status \(exitCode ?? 1)\(because)")
        case "TIMEOUT":
            return .failed("SLURM job \(id) TIMEOUT: stopped at its time limit")
        case "OUT_OF_MEMORY":
            return .failed("SLURM job \(id) OUT_OF_MEMORY: ran out of memory")
        case "NODE_FAIL":
            return .failed("SLURM job \(id) NODE_FAIL: its node failed\(because)")
        case "BOOT_FAIL":
            return .failed("SLURM job \(id) BOOT_FAIL: its node did not boot\(because)")
        case "DEADLINE":
            return .failed("SLURM job \(id) DEADLINE: it could not end before its deadline")
        case "SPECIAL_EXIT":
            return .failed("SLURM job \(id) SPECIAL_EXIT\(because)")
        case "CANCELLED", "REVOKED":
            if policy.cancelledIsPreempted {
                return .preempted(
                    "SLURM job \(id) CANCELLED, counted as preempted (QUILL_CANCELLED_IS_PREEMPTED)",
                    requeued: false
                )
            }
            return .cancelled("SLURM job \(id) was cancelled in SLURM\(because)")
        case "PREEMPTED":
            return .preempted("SLURM job \(id) PREEMPTED", requeued: false)
        case "REQUEUED", "REQUEUE_FED":
            return .preempted("SLURM job \(id) REQUEUED", requeued: true)
        default:
            // A state this version does not know is not an end: the job exists, keep following it.
            return .running
        }
    }
}

/// Where a SLURM job is, in Quill's terms.
package enum SlurmPhase: Sendable, Hashable {
    /// Waiting in SLURM's queue (PENDING).
    case queued
    /// Running (RUNNING, COMPLETING, SUSPENDED, …).
    case running
    /// Ended well (COMPLETED with status 0).
    case completed
    /// Ended badly (FAILED, TIMEOUT, OUT_OF_MEMORY, NODE_FAIL, …), with the reason.
    case failed(String)
    /// Cancelled in SLURM (CANCELLED), with the reason.
    case cancelled(String)
    /// Preempted: `requeued` when SLURM queued it again itself under the same id (REQUEUED); otherwise it ended
    /// (PREEMPTED, or CANCELLED under `QUILL_CANCELLED_IS_PREEMPTED`) and is submitted again to run again.
    case preempted(String, requeued: Bool)

    /// Whether the SLURM job ended (it runs no more under this id).
    package var isFinal: Bool {
        switch self {
        case .queued, .running: false
        case .completed, .failed, .cancelled: true
        case .preempted(_, let requeued): !requeued
        }
    }
}

extension SlurmJobInfo {
    /// The exit status and signal of a raw `waitpid` status (`squeue -O exit_code`).
    static func split(waitStatus raw: Int) -> (exitCode: Int?, signal: Int?) {
        let signal = raw & 0x7f
        return signal != 0 ? (nil, signal) : (raw >> 8 & 0xff, nil)
    }

    /// The exit status and signal of `ExitCode=3:0` (`scontrol show job`, `sacct`).
    static func split(exitCode text: String) -> (exitCode: Int?, signal: Int?) {
        let parts = text.split(separator: ":").compactMap { Int($0) }
        guard parts.count == 2 else { return (nil, nil) }
        return parts[1] != 0 ? (nil, parts[1]) : (parts[0], nil)
    }

    /// SLURM's reason, `nil` for `None` and `(null)`.
    static func reason(_ text: Substring) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty || trimmed == "None" || trimmed == "(null)" ? nil : trimmed
    }

    /// The state name of `CANCELLED by 0` (`sacct`) or `CANCELLED+` (truncated).
    static func stateName(_ text: Substring) -> String {
        String(text.split(separator: " ").first ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "+"))
    }
}
