public import Foundation

/// The body of `POST /api/v1/runs/{id}/artifacts/remote`: a file on a device to record as an artifact of the run.
public struct APIRemoteArtifactCreate: Codable, Sendable, Hashable {
    /// The device (worker name) the file is on.
    public var device: String
    /// The file's absolute path on the device.
    public var path: String
    /// The artifact's name (the file's name when `nil`); it is stored as `remote_<device>__<name>`.
    @OmittedWhenNil public var name: String?
    /// Whether the device's worker sends the bytes (default `true`); `false` only records where the file is.
    @OmittedWhenNil public var transfer: Bool?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case device, path, name, transfer
    }

    /// A body.
    public init(device: String, path: String, name: String? = nil, transfer: Bool? = nil) {
        self.device = device
        self.path = path
        self.name = name
        self.transfer = transfer
    }
}

/// A request for a remote artifact, as the API shows it.
public struct APIRemoteArtifact: Codable, Sendable, Hashable {
    /// Its id.
    public var id: Int64
    /// The run that asked.
    public var runID: String
    /// The device the file is on.
    public var device: String
    /// The file's path on the device.
    public var sourcePath: String
    /// The artifact path the bytes get (`remote_<device>__<name>`).
    public var artifactPath: String
    /// Whether the bytes are sent.
    public var transfer: Bool
    /// `pending`, `sending`, `done`, `failed` or `recorded` (no transfer asked).
    public var status: String
    /// Why it failed.
    public var reason: String?
    /// The stored bytes' size, once done.
    public var size: Int64?
    /// The stored bytes' SHA-256, once done.
    public var sha256: String?
    /// When it was asked for.
    public var createdAt: Date
    /// When it last changed.
    public var updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case id, device, transfer, status, reason, size, sha256
        case runID = "run_id"
        case sourcePath = "source_path"
        case artifactPath = "artifact_path"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    /// A request.
    public init(
        id: Int64,
        runID: String,
        device: String,
        sourcePath: String,
        artifactPath: String,
        transfer: Bool,
        status: String,
        reason: String?,
        size: Int64?,
        sha256: String?,
        createdAt: Date,
        updatedAt: Date
    ) {
        self.id = id
        self.runID = runID
        self.device = device
        self.sourcePath = sourcePath
        self.artifactPath = artifactPath
        self.transfer = transfer
        self.status = status
        self.reason = reason
        self.size = size
        self.sha256 = sha256
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// Remote artifact requests: `GET /api/v1/runs/{id}/artifacts/remote` (a run's, oldest first) and
/// `POST /api/v1/devices/{name}/artifact-requests/claim` (those a worker should send now).
public struct APIRemoteArtifactList: Codable, Sendable, Hashable {
    /// The requests.
    public var requests: [APIRemoteArtifact]

    /// A list.
    public init(requests: [APIRemoteArtifact]) {
        self.requests = requests
    }
}

/// The body of `POST /api/v1/devices/{name}/artifact-requests/claim`: a worker asks for the files it should send,
/// waiting up to `wait_seconds` for one (long-poll).
public struct APIRemoteArtifactClaim: Codable, Sendable, Hashable {
    /// How long the worker holds the requests it gets before they are handed out again.
    public var leaseSeconds: Double
    /// How long to wait for a request when none is waiting (0 to 5 seconds; 0 by default).
    @OmittedWhenNil public var waitSeconds: Double?
    /// At most this many requests (1 to 100; 10 by default).
    @OmittedWhenNil public var limit: Int?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case limit
        case leaseSeconds = "lease_seconds"
        case waitSeconds = "wait_seconds"
    }

    /// A body.
    public init(leaseSeconds: Double, waitSeconds: Double? = nil, limit: Int? = nil) {
        self.leaseSeconds = leaseSeconds
        self.waitSeconds = waitSeconds
        self.limit = limit
    }
}

/// The body of `POST /api/v1/devices/{name}/artifact-requests/{id}/finish`: how the worker ended a request.
public struct APIRemoteArtifactFinish: Codable, Sendable, Hashable {
    /// `done` (the bytes are uploaded as the request's artifact) or `failed`.
    public var status: String
    /// Why it failed (one line).
    @OmittedWhenNil public var reason: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case status, reason
    }

    /// A body.
    public init(status: String, reason: String? = nil) {
        self.status = status
        self.reason = reason
    }
}
