public import Foundation

/// An artifact's record: the answers of the `/api/v1/runs/{id}/artifacts` routes.
public struct APIArtifact: Codable, Sendable, Hashable {
    /// The run.
    public var runID: String
    /// The path among the run's artifacts.
    public var path: String
    /// The path's last component.
    public var fileName: String
    /// `pending`, `uploaded` or `failed`; `remote` for a file recorded on a device without its bytes.
    public var status: String
    /// The stored version's size; the announced one while no version is stored; or `null`.
    public var size: Int64?
    /// The stored version's SHA-256; the announced one while no version is stored; or `null`.
    public var sha256: String?
    /// The size the next upload must have, or `null`.
    public var expectedSize: Int64?
    /// The SHA-256 the next upload must have, or `null`.
    public var expectedSHA256: String?
    /// When it was logged.
    public var loggedAt: Date
    /// When the record last changed.
    public var modifiedAt: Date
    /// Where its bytes are (see ``APIPath/runArtifactContent(_:path:)``).
    public var downloadURL: String
    /// The latest request that asked a device for this file, for a remote artifact; absent otherwise.
    @OmittedWhenNil public var remote: APIRemoteArtifact?

    enum CodingKeys: String, CodingKey {
        case path, status, size, sha256
        case runID = "run_id"
        case fileName = "file_name"
        case expectedSize = "expected_size"
        case expectedSHA256 = "expected_sha256"
        case loggedAt = "logged_at"
        case modifiedAt = "modified_at"
        case downloadURL = "download_url"
        case remote
    }

    /// Creates a record.
    public init(
        runID: String,
        path: String,
        fileName: String,
        status: String,
        size: Int64?,
        sha256: String?,
        expectedSize: Int64?,
        expectedSHA256: String?,
        loggedAt: Date,
        modifiedAt: Date,
        downloadURL: String,
        remote: APIRemoteArtifact? = nil
    ) {
        self.runID = runID
        self.path = path
        self.fileName = fileName
        self.status = status
        self.size = size
        self.sha256 = sha256
        self.expectedSize = expectedSize
        self.expectedSHA256 = expectedSHA256
        self.loggedAt = loggedAt
        self.modifiedAt = modifiedAt
        self.downloadURL = downloadURL
        self.remote = remote
    }
}

/// A run's artifacts, by path: `GET /api/v1/runs/{id}/artifacts`.
public struct APIArtifactList: Codable, Sendable, Hashable {
    /// The records.
    public var artifacts: [APIArtifact]

    /// Creates the list.
    public init(artifacts: [APIArtifact]) {
        self.artifacts = artifacts
    }
}

/// The body of `POST /api/v1/runs/{id}/artifacts`: the record of a path, with what its upload must be.
public struct APIArtifactCreate: Codable, Sendable, Hashable {
    /// The path among the run's artifacts.
    public var path: String
    /// The size the upload must have.
    @OmittedWhenNil public var size: Int64?
    /// The SHA-256 (64 hexadecimal digits) the upload must have.
    @OmittedWhenNil public var sha256: String?
    /// When it was logged (now when `nil`).
    @OmittedWhenNil public var loggedAt: Date?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case path, size, sha256
        case loggedAt = "logged_at"
    }

    /// Creates a body.
    public init(path: String, size: Int64? = nil, sha256: String? = nil, loggedAt: Date? = nil) {
        self.path = path
        self.size = size
        self.sha256 = sha256
        self.loggedAt = loggedAt
    }
}

/// The body of `PATCH /api/v1/runs/{id}/artifacts?path=…`: `{"status": "failed"}`.
public struct APIArtifactUpdate: Codable, Sendable, Hashable {
    /// `failed` (the only status a client sets).
    public var status: String

    enum CodingKeys: String, CodingKey, CaseIterable {
        case status
    }

    /// Creates a body.
    public init(status: String) {
        self.status = status
    }
}
