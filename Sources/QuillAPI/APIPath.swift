import Foundation

/// The REST API's paths: the one place a client spells `/api/v1/…`, and the one place path parameters
/// and query values are percent-encoded.
public enum APIPath: Sendable {
    /// The prefix of every versioned route.
    public static let prefix = "/api/v1"
    /// `GET`: liveness.
    public static let health = "/healthz"
    /// `GET`: Prometheus metrics.
    public static let prometheus = "/metrics"
    /// `GET`: version, uptime, the server's id (``APIStatus``).
    public static let status = "/api/v1/status"
    /// `GET`: the OpenAPI document.
    public static let openAPI = "/api/v1/openapi.json"
    /// `POST` ``APIProjectCreate``, `GET` ``APIProjectList``.
    public static let projects = "/api/v1/projects"
    /// `POST` ``APIRunCreate``, `GET` ``APIRunPage`` (see ``runs(project:query:sort:limit:cursor:)``).
    public static let runs = "/api/v1/runs"
    /// `GET` ``APIWhoAmI``.
    public static let whoami = "/api/v1/whoami"
    /// `GET` ``APIUserList``, `POST` ``APIUserCreate``.
    public static let users = "/api/v1/users"
    /// `GET` ``APIKeyList``, `POST` ``APIKeyCreate``.
    public static let keys = "/api/v1/keys"
    /// `POST` ``APIOrganizationCreate``.
    public static let organizations = "/api/v1/orgs"
    /// The dashboard's session: `POST` signs in with an API key, `DELETE` signs out.
    public static let session = "/api/v1/session"
    /// Cached step results under the server's steps root.
    public static let steps = "/api/v1/steps"
    /// Totals over the projects the caller may read.
    public static let stats = "/api/v1/stats"
    /// The steps' dependency graph.
    public static let stepGraph = "/api/v1/steps/graph"
    /// `GET`/`POST /api/v1/jobs`.
    public static let jobs = "/api/v1/jobs"
    /// `POST /api/v1/jobs/claim`.
    public static let jobClaim = "/api/v1/jobs/claim"
    /// `GET /api/v1/devices`.
    public static let devices = "/api/v1/devices"
    /// `GET` ``APIQueueStatus``: the queue's depth, running jobs, jobs by status, workers.
    public static let queue = "/api/v1/queue"
    /// `/api/v1/jobs/{id}`, and its `cancel`, `retry`, `heartbeat`, `output` and `finish` actions with `action`.
    public static func job(_ id: Int64, _ action: String? = nil) -> String {
        "\(jobs)/\(id)" + (action.map { "/" + $0 } ?? "")
    }
    /// `/api/v1/devices/{name}`, and its `heartbeat` or `unregister` with `action`.
    public static func device(_ name: String, _ action: String? = nil) -> String {
        "\(devices)/\(segment(name))" + (action.map { "/" + $0 } ?? "")
    }

    /// `GET` ``APIProject``, `PATCH` ``APIProjectUpdate``.
    public static func project(namespace: String, slug: String) -> String {
        "\(projects)/\(segment(namespace))/\(segment(slug))"
    }

    /// A page of runs: `GET` ``APIRunPage``.
    public static func runs(
        project: String? = nil,
        query: String? = nil,
        sort: String? = nil,
        limit: Int? = nil,
        cursor: String? = nil
    ) -> String {
        runs
            + self.query([
                ("project", project), ("q", query), ("sort", sort), ("limit", limit.map(String.init)),
                ("cursor", cursor),
            ])
    }

    /// `GET` ``APIRunDetails``, `PATCH` ``APIRunUpdate`` (answers ``APIRun``), `DELETE`.
    public static func run(_ id: String) -> String { "\(runs)/\(segment(id))" }
    /// `POST` ``APIBatch``: answers ``APIBatchResult``.
    public static func runBatch(_ id: String) -> String { run(id) + "/batch" }
    /// `POST` ``APIMetric``: answers ``APIBatchResult``.
    public static func runMetrics(_ id: String) -> String { run(id) + "/metrics" }
    /// Several metrics' histories of a run in one answer (`?key=a&key=b`).
    public static func runHistories(_ id: String) -> String { run(id) + "/histories" }
    /// `POST` ``APIParam``.
    public static func runParams(_ id: String) -> String { run(id) + "/params" }
    /// `POST` ``APITag``.
    public static func runTags(_ id: String) -> String { run(id) + "/tags" }
    /// `POST` ``APILink``.
    public static func runLinks(_ id: String) -> String { run(id) + "/links" }
    /// `POST` ``APILogLine``; `GET` ``APILogList`` (see ``runLogs(_:limit:)``).
    public static func runLogs(_ id: String) -> String { run(id) + "/logs" }
    /// `POST` ``APIArtifactCreate``, `GET` ``APIArtifactList``.
    public static func runArtifacts(_ id: String) -> String { run(id) + "/artifacts" }
    /// `POST` ``APIRemoteArtifactCreate``, `GET` ``APIRemoteArtifactList``: a run's remote artifact requests.
    public static func runRemoteArtifacts(_ id: String) -> String { run(id) + "/artifacts/remote" }

    /// Log lines, oldest first: `GET` ``APILogList``.
    public static func runLogs(_ id: String, limit: Int?) -> String {
        runLogs(id) + query([("limit", limit.map(String.init))])
    }

    /// A metric's history (`GET` ``APIMetricHistory``), or with no key every metric's statistics
    /// (``APIMetricSummaries``).
    public static func runMetrics(
        _ id: String,
        key: String?,
        from: Int? = nil,
        to: Int? = nil,
        maxPoints: Int? = nil
    ) -> String {
        runMetrics(id)
            + query([
                ("key", key), ("from", from.map(String.init)), ("to", to.map(String.init)),
                ("max_points", maxPoints.map(String.init)),
            ])
    }

    /// One artifact's record: `PATCH` ``APIArtifactUpdate`` (`?path=`).
    public static func runArtifact(_ id: String, path: String) -> String {
        runArtifacts(id) + query([("path", path)])
    }

    /// One artifact's bytes: `PUT` (raw body; answers ``APIArtifact``), `GET` (the bytes).
    public static func runArtifactContent(_ id: String, path: String) -> String {
        runArtifacts(id) + "/content" + query([("path", path)])
    }

    /// `DELETE` one of the caller's keys: answers ``APIKeyRecord``.
    public static func key(_ id: Int64) -> String { "\(keys)/\(id)" }
    /// `GET` ``APIOrganization``.
    public static func organization(_ name: String) -> String { "\(organizations)/\(segment(name))" }
    /// `PUT` ``APIMembershipUpdate``, `DELETE`: both answer ``APIOrganization``.
    public static func organizationMember(_ organization: String, user: String) -> String {
        "\(self.organization(organization))/members/\(segment(user))"
    }

    /// Text percent-encoded as one path segment (`/`, `?`, `#`, `%` and spaces included).
    public static func segment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: segmentAllowed) ?? text
    }

    /// `?name=value&…` for the items that have a value (empty when none has), percent-encoded.
    public static func query(_ items: [(String, String?)]) -> String {
        let pairs = items.compactMap { name, value in value.map { "\(queryValue(name))=\(queryValue($0))" } }
        return pairs.isEmpty ? "" : "?" + pairs.joined(separator: "&")
    }

    /// Text percent-encoded for a query parameter value (`&`, `=`, `+`, `?` and `#` included).
    public static func queryValue(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: queryAllowed) ?? text
    }

    private static let segmentAllowed: CharacterSet = {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/?#%;")
        return allowed
    }()

    private static let queryAllowed: CharacterSet = {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+?#")
        return allowed
    }()
}
