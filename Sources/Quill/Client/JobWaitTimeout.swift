public import QuillAPI

/// A wait for jobs ran out of time: what ``Quill/Client/wait(for:pollInterval:timeout:)`` and its
/// siblings throw, with the last state the client saw.
///
/// The jobs keep running; cancel them with ``Quill/Client/cancel(_:)`` when they should stop.
///
/// ```swift
/// do {
///     _ = try await client.wait(for: job.id, timeout: .seconds(60))
/// } catch let timeout as JobWaitTimeout {
///     print("job \(timeout.job.id) is still \(timeout.job.status)")
/// }
/// ```
public struct JobWaitTimeout: Error, Sendable, Hashable, CustomStringConvertible {
    /// The last state of the first job that had not ended (`queued` or `running`).
    public var job: APIJob
    /// The last state of every job waited for, in the order they were asked for.
    public var jobs: [APIJob]
    /// The timeout that passed.
    public var timeout: Duration

    /// An error for a wait that timed out.
    public init(job: APIJob, jobs: [APIJob], timeout: Duration) {
        self.job = job
        self.jobs = jobs
        self.timeout = timeout
    }

    /// One line: which job, its state, and what to do.
    public var description: String {
        let others = jobs.filter { $0.id != job.id && !["completed", "failed", "cancelled"].contains($0.status) }
        let more = others.isEmpty ? "" : " (and \(others.count) other job(s))"
        return
            "job \(job.id) (\(job.name)) is still \(job.status)\(more) after \(timeout); it keeps running (cancel it with `quill cancel \(job.id)`)"
    }
}
