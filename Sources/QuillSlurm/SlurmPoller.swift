import Synchronization

/// Follows many SLURM jobs with one ``SlurmClient/poll(_:)`` call per interval for all of them (one `squeue`,
/// not one per job): each follower gets its job's record from every poll as an `AsyncStream`.
///
/// The polling task runs while someone follows a job and ends when the last stream ends. A poll that fails
/// (the controller is briefly unreachable) is skipped: the followers hear nothing and the next poll tries again.
///
/// ```swift
/// let poller = SlurmPoller(client: slurm)
/// for await info in poller.updates(for: id) {   // nil: SLURM no longer knows the job
///     if info?.phase().isFinal ?? true { break }
/// }
/// ```
package final class SlurmPoller: Sendable {
    private struct State {
        var followers: [Int: (id: SlurmJobID, continuation: AsyncStream<SlurmJobInfo?>.Continuation)] = [:]
        var next = 0
        var polling = false
        var polls = 0
    }

    /// The client it polls with.
    package let client: SlurmClient
    /// How long it waits between polls.
    package let interval: Duration
    private let state = Mutex(State())

    /// A poller; nothing runs until a job is followed.
    package init(client: SlurmClient, interval: Duration = .seconds(1)) {
        self.client = client
        self.interval = interval
    }

    /// How many polls (each one call for every followed job) it made so far.
    package var polls: Int { state.withLock { $0.polls } }

    /// The records of `id` from each poll from now on (`nil` when a poll found no such job), until the
    /// consumer stops iterating.
    package func updates(for id: SlurmJobID) -> AsyncStream<SlurmJobInfo?> {
        let (stream, continuation) = AsyncStream<SlurmJobInfo?>.makeStream(bufferingPolicy: .bufferingNewest(16))
        let (key, start) = state.withLock { state -> (Int, Bool) in
            state.next += 1
            state.followers[state.next] = (id, continuation)
            defer { state.polling = true }
            return (state.next, !state.polling)
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.followers.removeValue(forKey: key) }
        }
        if start {
            Task { await self.loop() }
        }
        return stream
    }

    private func loop() async {
        while true {
            try? await Task.sleep(for: interval)
            let followed = state.withLock { state -> [SlurmJobID]? in
                if state.followers.isEmpty {
                    state.polling = false
                    return nil
                }
                return state.followers.values.map(\.id)
            }
            guard let followed else { return }
            guard let infos = try? await client.poll(followed) else { continue }
            let followers = state.withLock { state in
                state.polls += 1
                return Array(state.followers.values)
            }
            let asked = Set(followed)
            // A job followed since this poll started was not asked about: it hears from the next poll.
            for (id, continuation) in followers where asked.contains(id) {
                continuation.yield(infos[id])
            }
        }
    }
}
