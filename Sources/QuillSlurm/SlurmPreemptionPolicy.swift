import Foundation
import QuillCore

/// How Quill treats preemption on SLURM: how many preemptions a job survives (`QUILL_PREEMPT_MAX`, default 5)
/// and whether SLURM's CANCELLED counts as a preemption (`QUILL_CANCELLED_IS_PREEMPTED`, for clusters that
/// cancel preempted jobs instead of requeueing them).
///
/// A preempted attempt is recorded as `preempted` and the work runs again while it was preempted at most
/// ``maximum`` times; one preemption more fails it.
package struct SlurmPreemptionPolicy: Sendable, Hashable {
    /// The variable that sets ``maximum``.
    package static let maximumVariable = "QUILL_PREEMPT_MAX"
    /// The variable that sets ``cancelledIsPreempted``.
    package static let cancelledVariable = "QUILL_CANCELLED_IS_PREEMPTED"

    /// Preemptions after which the work still runs again.
    package var maximum: Int
    /// Whether CANCELLED counts as preempted.
    package var cancelledIsPreempted: Bool

    /// A policy; by default 5 preemptions, CANCELLED is a cancel.
    package init(maximum: Int = 5, cancelledIsPreempted: Bool = false) {
        self.maximum = maximum
        self.cancelledIsPreempted = cancelledIsPreempted
    }

    /// The policy the environment sets (unset variables keep the defaults).
    ///
    /// - Throws: ``QuillCore/QuillError`` with code `invalidArgument` for a value that is not a whole number of
    ///   at least 0 (`QUILL_PREEMPT_MAX`) or not a switch (`QUILL_CANCELLED_IS_PREEMPTED`: 1/0, true/false,
    ///   yes/no, on/off).
    package init(environment: [String: String]) throws {
        self.init()
        if let text = environment[Self.maximumVariable], !text.isEmpty {
            guard let value = Int(text.trimmingCharacters(in: .whitespaces)), value >= 0 else {
                throw QuillError(
                    .invalidArgument,
                    "\(Self.maximumVariable) takes a whole number of at least 0 (default 5), not '\(text)'"
                )
            }
            maximum = value
        }
        if let text = environment[Self.cancelledVariable], !text.isEmpty {
            switch text.lowercased() {
            case "1", "true", "yes", "on": cancelledIsPreempted = true
            case "0", "false", "no", "off": cancelledIsPreempted = false
            default:
                throw QuillError(
                    .invalidArgument,
                    "\(Self.cancelledVariable) takes 1 or 0 (true/false, yes/no, on/off), not '\(text)'"
                )
            }
        }
    }

    /// Whether work preempted `preemptions` times (this one included) runs again.
    package func runsAgain(afterPreemptions preemptions: Int) -> Bool { preemptions <= maximum }

    /// Why work preempted `preemptions` times does not run again.
    package func exhaustedReason(preemptions: Int) -> String {
        "preempted \(preemptions) times, more than \(Self.maximumVariable) (\(maximum)) allows"
    }
}

/// Follows one SLURM job through successive polls and says what happened since the last one: the one place
/// where a requeue SLURM did by itself (its restart count rose, whether or not a poll saw REQUEUED) becomes a
/// preempted attempt.
package struct SlurmJobFollower: Sendable {
    /// What happened to the job since the previous observation, oldest first.
    package enum Event: Sendable, Hashable {
        /// It started running.
        case started
        /// An attempt was preempted and SLURM queued the job again under the same id.
        case requeued(String)
        /// The SLURM job ended in this phase (completed, failed, cancelled, or preempted and not requeued).
        case ended(SlurmPhase)
        /// SLURM no longer knows the job (purged, and no accounting to ask).
        case vanished
    }

    /// The policy mapping CANCELLED.
    package let policy: SlurmPreemptionPolicy
    /// The restart count last seen.
    package private(set) var restarts = 0
    /// Whether it was seen running in the current attempt.
    package private(set) var running = false
    /// Whether it ended.
    package private(set) var ended = false

    /// A follower of a job just submitted.
    package init(policy: SlurmPreemptionPolicy) {
        self.policy = policy
    }

    /// Takes the job's record from a poll (`nil` when the poll did not find it) and returns what happened.
    package mutating func observe(_ info: SlurmJobInfo?) -> [Event] {
        guard !ended else { return [] }
        guard let info else {
            ended = true
            return [.vanished]
        }
        var events: [Event] = []
        if info.restarts > restarts {
            for _ in restarts..<info.restarts {
                events.append(.requeued("SLURM job \(info.id) was requeued (preempted)"))
            }
            restarts = info.restarts
            running = false
        }
        let phase = info.phase(policy)
        switch phase {
        case .queued:
            break
        case .running:
            if !running {
                running = true
                events.append(.started)
            }
        case .preempted(let reason, requeued: true):
            // Seen in REQUEUED before the restart count rose: the count's rise is what is recorded.
            if info.restarts == restarts, running {
                running = false
                restarts += 1
                events.append(.requeued(reason))
            }
        case .completed, .failed, .cancelled, .preempted:
            ended = true
            events.append(.ended(phase))
        }
        return events
    }
}
