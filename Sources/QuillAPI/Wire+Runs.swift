public import Foundation
public import QuillCore

/// A run as the API writes it: `POST /api/v1/runs` (201, with ``dashboardURL``), `PATCH /api/v1/runs/{id}`,
/// and the first part of ``APIRunDetails``.
public struct APIRun: Codable, Sendable, Hashable {
    /// The run's id.
    public var id: String
    /// The id of its project.
    public var projectID: Int64
    /// Its name.
    public var name: String
    /// Its description, or `null`.
    public var description: String?
    /// Its kind's label (`training`, …).
    public var kind: String
    /// `queued` (a job's run waiting for a worker), `running`, `completed`, `failed`, `crashed` or `killed`.
    public var status: String
    /// The id of its parent run, or `null`.
    public var parent: String?
    /// When the server created the record.
    public var createdAt: Date
    /// When the record last changed.
    public var updatedAt: Date
    /// When the run started.
    public var startedAt: Date
    /// When it ended, or `null` while it runs.
    public var endedAt: Date?
    /// Seconds from start to end, or `null` while it runs.
    public var durationSeconds: Double?
    /// When it was moved to the trash (MLflow's `delete-run`), or `null` while active. Listings and searches
    /// show active runs only; `GET /api/v1/runs/{id}` still answers for a run in the trash.
    public var deletedAt: Date?
    /// Who ran it, or `null`.
    public var user: String?
    /// Where it ran, or `null`.
    public var host: String?
    /// Its git state, or `null`.
    public var git: JSONValue?
    /// Its environment, or `null`.
    public var environment: JSONValue?
    /// Its configuration.
    public var config: [String: JSONValue]
    /// Its summary values.
    public var summary: [String: JSONValue]
    /// Its path on the server, `/runs/{id}`.
    public var url: String
    /// Its page on the dashboard: in the answers to `POST /api/v1/runs` and `GET /api/v1/runs/{id}` only.
    @OmittedWhenNil public var dashboardURL: String?

    enum CodingKeys: String, CodingKey {
        case id, name, description, kind, status, parent, user, host, git, environment, config, summary, url
        case projectID = "project_id"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case startedAt = "started_at"
        case endedAt = "ended_at"
        case durationSeconds = "duration_seconds"
        case deletedAt = "deleted_at"
        case dashboardURL = "dashboard_url"
    }

    /// Creates a run record.
    public init(
        id: String,
        projectID: Int64,
        name: String,
        description: String? = nil,
        kind: String,
        status: String,
        parent: String? = nil,
        createdAt: Date,
        updatedAt: Date,
        startedAt: Date,
        endedAt: Date? = nil,
        durationSeconds: Double? = nil,
        user: String? = nil,
        host: String? = nil,
        git: JSONValue? = nil,
        environment: JSONValue? = nil,
        config: [String: JSONValue] = [:],
        summary: [String: JSONValue] = [:],
        deletedAt: Date? = nil,
        url: String,
        dashboardURL: String? = nil
    ) {
        self.id = id
        self.projectID = projectID
        self.name = name
        self.description = description
        self.kind = kind
        self.status = status
        self.parent = parent
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.durationSeconds = durationSeconds
        self.user = user
        self.host = host
        self.git = git
        self.environment = environment
        self.config = config
        self.summary = summary
        self.deletedAt = deletedAt
        self.url = url
        self.dashboardURL = dashboardURL
    }
}

/// A link of a run as the API writes it.
public struct APIRunLink: Codable, Sendable, Hashable {
    /// What the link is.
    public var label: String
    /// Where it leads.
    public var url: String
    /// When it was added.
    public var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case label, url
        case createdAt = "created_at"
    }

    /// Creates a link.
    public init(label: String, url: String, createdAt: Date) {
        self.label = label
        self.url = url
        self.createdAt = createdAt
    }
}

/// A metric's statistics: count, latest value and step, minimum and maximum.
public struct APIMetricStatistics: Codable, Sendable, Hashable {
    /// Points logged.
    public var count: Int
    /// The latest value (by index).
    public var latest: Double
    /// The latest value's step, or `null`.
    public var latestStep: Int?
    /// The smallest value.
    public var min: Double
    /// The largest value.
    public var max: Double

    enum CodingKeys: String, CodingKey {
        case count, latest, min, max
        case latestStep = "latest_step"
    }

    /// Creates statistics.
    public init(count: Int, latest: Double, latestStep: Int?, min: Double, max: Double) {
        self.count = count
        self.latest = latest
        self.latestStep = latestStep
        self.min = min
        self.max = max
    }
}

/// A run with its params, tags, links and metric statistics: `GET /api/v1/runs/{id}` and the runs of
/// ``APIRunPage``. On the wire the run's fields and these are members of one object.
public struct APIRunDetails: Codable, Sendable, Hashable {
    /// The run.
    public var run: APIRun
    /// Its project's display name (left out when the project is gone).
    @OmittedWhenNil public var project: String?
    /// Its project's `namespace/slug` (left out when the project is gone).
    @OmittedWhenNil public var projectPath: String?
    /// Its params.
    public var params: [String: JSONValue]
    /// Its tags.
    public var tags: [String: String]
    /// Its links, oldest first.
    public var links: [APIRunLink]
    /// Its metrics' statistics, by key.
    public var metrics: [String: APIMetricStatistics]

    enum CodingKeys: String, CodingKey {
        case project, params, tags, links, metrics
        case projectPath = "project_path"
    }

    /// Creates details.
    public init(
        run: APIRun,
        project: String? = nil,
        projectPath: String? = nil,
        params: [String: JSONValue] = [:],
        tags: [String: String] = [:],
        links: [APIRunLink] = [],
        metrics: [String: APIMetricStatistics] = [:]
    ) {
        self.run = run
        self.project = project
        self.projectPath = projectPath
        self.params = params
        self.tags = tags
        self.links = links
        self.metrics = metrics
    }

    /// Reads the run's fields and the details from one object.
    public init(from decoder: any Decoder) throws {
        run = try APIRun(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        _project = try container.decode(OmittedWhenNil<String>.self, forKey: .project)
        _projectPath = try container.decode(OmittedWhenNil<String>.self, forKey: .projectPath)
        params = try container.decode([String: JSONValue].self, forKey: .params)
        tags = try container.decode([String: String].self, forKey: .tags)
        links = try container.decode([APIRunLink].self, forKey: .links)
        metrics = try container.decode([String: APIMetricStatistics].self, forKey: .metrics)
    }

    /// Writes the run's fields and the details into one object.
    public func encode(to encoder: any Encoder) throws {
        try run.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(_project, forKey: .project)
        try container.encode(_projectPath, forKey: .projectPath)
        try container.encode(params, forKey: .params)
        try container.encode(tags, forKey: .tags)
        try container.encode(links, forKey: .links)
        try container.encode(metrics, forKey: .metrics)
    }
}

/// A page of runs: `GET /api/v1/runs`.
public struct APIRunPage: Codable, Sendable, Hashable {
    /// The runs.
    public var runs: [APIRunDetails]
    /// The `cursor` of the next page, or `null` after the last.
    public var nextCursor: String?

    enum CodingKeys: String, CodingKey {
        case runs
        case nextCursor = "next_cursor"
    }

    /// Creates a page.
    public init(runs: [APIRunDetails], nextCursor: String?) {
        self.runs = runs
        self.nextCursor = nextCursor
    }
}

/// The body of `POST /api/v1/runs`. `project` (a name, or `namespace/slug`) or `project_id` is required.
public struct APIRunCreate: Codable, Sendable, Hashable {
    /// An id of the client's choosing (the server makes one when `nil`).
    @OmittedWhenNil public var id: String?
    /// The project: a display name (in the caller's namespace, created when missing) or `namespace/slug`.
    @OmittedWhenNil public var project: String?
    /// The project's numeric id, instead of `project`.
    @OmittedWhenNil public var projectID: Int?
    /// The run's name.
    @OmittedWhenNil public var name: String?
    /// Its description.
    @OmittedWhenNil public var description: String?
    /// Its kind's label.
    @OmittedWhenNil public var kind: String?
    /// The id of a run the caller can read.
    @OmittedWhenNil public var parent: String?
    /// Its status (`running` when `nil`).
    @OmittedWhenNil public var status: String?
    /// When it started (now when `nil`).
    @OmittedWhenNil public var startedAt: Date?
    /// When it ended.
    @OmittedWhenNil public var endedAt: Date?
    /// Who ran it.
    @OmittedWhenNil public var user: String?
    /// Where it ran.
    @OmittedWhenNil public var host: String?
    /// Its git state.
    @OmittedWhenNil public var git: [String: JSONValue]?
    /// Its environment.
    @OmittedWhenNil public var environment: [String: JSONValue]?
    /// Its configuration.
    @OmittedWhenNil public var config: [String: JSONValue]?
    /// Its tags.
    @OmittedWhenNil public var tags: [String: String]?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, project, name, description, kind, parent, status, user, host, git, environment, config, tags
        case projectID = "project_id"
        case startedAt = "started_at"
        case endedAt = "ended_at"
    }

    /// Creates a body.
    public init(
        id: String? = nil,
        project: String? = nil,
        projectID: Int? = nil,
        name: String? = nil,
        description: String? = nil,
        kind: String? = nil,
        parent: String? = nil,
        status: String? = nil,
        startedAt: Date? = nil,
        endedAt: Date? = nil,
        user: String? = nil,
        host: String? = nil,
        git: [String: JSONValue]? = nil,
        environment: [String: JSONValue]? = nil,
        config: [String: JSONValue]? = nil,
        tags: [String: String]? = nil
    ) {
        self.id = id
        self.project = project
        self.projectID = projectID
        self.name = name
        self.description = description
        self.kind = kind
        self.parent = parent
        self.status = status
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.user = user
        self.host = host
        self.git = git
        self.environment = environment
        self.config = config
        self.tags = tags
    }
}

/// The body of `PATCH /api/v1/runs/{id}`: only the fields given change; `summary` is merged.
public struct APIRunUpdate: Codable, Sendable, Hashable {
    /// The new status.
    public var status: String?
    /// When the run ended.
    public var endedAt: Date?
    /// A new name.
    public var name: String?
    /// A new description.
    public var description: String?
    /// `nil`: unchanged; `.some(nil)` (`"parent": null`): no parent; `.some(id)`: that run.
    public var parent: String??
    /// Summary values to merge.
    public var summary: [String: JSONValue]?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case status, name, description, parent, summary
        case endedAt = "ended_at"
    }

    /// Creates a body.
    public init(
        status: String? = nil,
        endedAt: Date? = nil,
        name: String? = nil,
        description: String? = nil,
        parent: String?? = nil,
        summary: [String: JSONValue]? = nil
    ) {
        self.status = status
        self.endedAt = endedAt
        self.name = name
        self.description = description
        self.parent = parent
        self.summary = summary
    }

    /// Reads a body; `"parent": null` is kept apart from a missing `parent`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        status = try container.decodeIfPresent(String.self, forKey: .status)
        endedAt = try container.decodeIfPresent(Date.self, forKey: .endedAt)
        name = try container.decodeIfPresent(String.self, forKey: .name)
        description = try container.decodeIfPresent(String.self, forKey: .description)
        summary = try container.decodeIfPresent([String: JSONValue].self, forKey: .summary)
        parent = nil
        if container.contains(.parent) {
            if try container.decodeNil(forKey: .parent) {
                parent = .some(nil)
            } else {
                do {
                    parent = .some(try container.decode(String.self, forKey: .parent))
                } catch {
                    throw APIDecoder.mismatch(container.codingPath + [CodingKeys.parent], "a run id or null")
                }
            }
        }
    }

    /// Writes the fields that are set; `parent` as `null` when it is `.some(nil)`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        if let status { try container.encode(status, forKey: .status) }
        if let endedAt { try container.encode(endedAt, forKey: .endedAt) }
        if let name { try container.encode(name, forKey: .name) }
        if let description { try container.encode(description, forKey: .description) }
        if let parent { try container.encode(parent, forKey: .parent) }
        if let summary { try container.encode(summary, forKey: .summary) }
    }
}
