/// The server's status: `GET /api/v1/status`.
public struct APIStatus: Codable, Sendable, Hashable {
    /// The server's version.
    public var version: String
    /// The server's identity, kept in its store (left out by servers that have none).
    @OmittedWhenNil public var serverID: String?
    /// Seconds since the server started.
    public var uptimeSeconds: Double
    /// Global counts: for administrators (or in single-user mode) only, left out otherwise.
    @OmittedWhenNil public var counts: APIServerCounts?

    enum CodingKeys: String, CodingKey {
        case version, counts
        case serverID = "server_id"
        case uptimeSeconds = "uptime_seconds"
    }

    /// Creates a status.
    public init(version: String, serverID: String?, uptimeSeconds: Double, counts: APIServerCounts? = nil) {
        self.version = version
        self.serverID = serverID
        self.uptimeSeconds = uptimeSeconds
        self.counts = counts
    }
}

/// What a server holds.
public struct APIServerCounts: Codable, Sendable, Hashable {
    /// Projects.
    public var projects: Int
    /// Runs.
    public var runs: Int
    /// Metric points.
    public var metricPoints: Int

    enum CodingKeys: String, CodingKey {
        case projects, runs
        case metricPoints = "metric_points"
    }

    /// Creates counts.
    public init(projects: Int, runs: Int, metricPoints: Int) {
        self.projects = projects
        self.runs = runs
        self.metricPoints = metricPoints
    }
}

/// The answer to `GET /healthz`: 200 with `ok` while the server and its database answer, 503 with `unavailable`
/// and a message while the database cannot be reached.
public struct APIHealth: Codable, Sendable, Hashable {
    /// `ok` or `unavailable`.
    public var status: String
    /// The database: `ok` or `unreachable`; absent from servers that do not report it.
    public var database: String?
    /// Why the server is unavailable, in one line.
    public var message: String?

    /// Creates the answer.
    public init(status: String, database: String? = nil, message: String? = nil) {
        self.status = status
        self.database = database
        self.message = message
    }
}

/// Every error's body: `{"error": {"code", "message"}}`.
public struct APIErrorBody: Codable, Sendable, Hashable {
    /// The error.
    public var error: APIErrorDetail

    /// Creates a body.
    public init(code: String, message: String) {
        self.error = APIErrorDetail(code: code, message: message)
    }
}

/// An error: its code (`not_found`, `invalid_argument`, …) and a sentence that says what to do.
public struct APIErrorDetail: Codable, Sendable, Hashable {
    /// The code.
    public var code: String
    /// What happened and what to do.
    public var message: String

    /// Creates an error.
    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }
}
