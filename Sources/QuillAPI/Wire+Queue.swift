/// The queue at a glance: `GET /api/v1/queue`.
///
/// Job counts cover the projects the caller may read; worker counts cover every registered device.
public struct APIQueueStatus: Codable, Sendable, Hashable {
    /// Jobs waiting for a worker (the queue's depth).
    public var queued: Int
    /// Jobs a worker runs now.
    public var running: Int
    /// Jobs by status: every status of a job (`queued`, `running`, `completed`, `failed`, `cancelled`,
    /// `lost`), zeros included.
    public var counts: [String: Int]
    /// The registered workers.
    public var workers: APIQueueWorkers

    enum CodingKeys: String, CodingKey, CaseIterable {
        case queued, running, counts, workers
    }

    /// A status.
    public init(queued: Int, running: Int, counts: [String: Int], workers: APIQueueWorkers) {
        self.queued = queued
        self.running = running
        self.counts = counts
        self.workers = workers
    }
}

/// The workers (devices) of a queue, by status.
public struct APIQueueWorkers: Codable, Sendable, Hashable {
    /// Workers that heartbeat and run no job.
    public var online: Int
    /// Workers that heartbeat and run at least one job.
    public var busy: Int
    /// Workers past their lease or unregistered.
    public var offline: Int
    /// Every registered worker.
    public var total: Int
    /// Job slots of the workers that heartbeat (online or busy).
    public var slots: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case online, busy, offline, total, slots
    }

    /// Counts.
    public init(online: Int, busy: Int, offline: Int, total: Int, slots: Int) {
        self.online = online
        self.busy = busy
        self.offline = offline
        self.total = total
        self.slots = slots
    }
}
