// whirr 0.5.3's worker bodies (`whirr/models/api.py`); see Docs/Whirr.md.

/// `POST /api/v1/workers/register`.
package struct WhirrWorkerRegistration: Codable, Sendable, Hashable {
    /// The worker's id (`<host>:default`, `<host>:gpu<n>`).
    package var workerID: String
    /// The host it runs on.
    package var hostname: String
    /// Its GPU indices (empty without `--gpu`).
    package var gpuIDs: [Int]

    enum CodingKeys: String, CodingKey {
        case hostname
        case workerID = "worker_id"
        case gpuIDs = "gpu_ids"
    }

    /// A registration.
    package init(workerID: String, hostname: String, gpuIDs: [Int] = []) {
        self.workerID = workerID
        self.hostname = hostname
        self.gpuIDs = gpuIDs
    }

    /// Reads a registration; missing `gpu_ids` are none.
    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        workerID = try c.decode(String.self, forKey: .workerID)
        hostname = try c.decode(String.self, forKey: .hostname)
        gpuIDs = try c.decodeIfPresent([Int].self, forKey: .gpuIDs) ?? []
    }
}

/// `POST /api/v1/workers/unregister`.
package struct WhirrWorkerUnregister: Codable, Sendable, Hashable {
    /// The worker's id.
    package var workerID: String

    enum CodingKeys: String, CodingKey {
        case workerID = "worker_id"
    }

    /// A request.
    package init(workerID: String) {
        self.workerID = workerID
    }
}

/// A worker as `GET /api/v1/workers` lists it.
package struct WhirrWorker: Codable, Sendable, Hashable {
    /// Its id.
    package var id: String
    /// Its host.
    package var hostname: String?
    /// Its GPU, when it registered one per GPU.
    package var gpuID: Int?
    /// `idle`, `busy` or `offline`.
    package var status: String
    /// The job it runs.
    package var currentJobID: Int64?
    /// When it was last heard from.
    package var heartbeatAt: String?

    enum CodingKeys: String, CodingKey {
        case id, hostname, status
        case gpuID = "gpu_id"
        case currentJobID = "current_job_id"
        case heartbeatAt = "heartbeat_at"
    }

    /// A worker.
    package init(
        id: String,
        hostname: String?,
        gpuID: Int?,
        status: String,
        currentJobID: Int64?,
        heartbeatAt: String?
    ) {
        self.id = id
        self.hostname = hostname
        self.gpuID = gpuID
        self.status = status
        self.currentJobID = currentJobID
        self.heartbeatAt = heartbeatAt
    }
}

/// `GET /api/v1/workers`: `{"workers": [...]}`.
package struct WhirrWorkerList: Codable, Sendable, Hashable {
    /// The workers, by id.
    package var workers: [WhirrWorker]

    /// A list.
    package init(workers: [WhirrWorker]) {
        self.workers = workers
    }
}
