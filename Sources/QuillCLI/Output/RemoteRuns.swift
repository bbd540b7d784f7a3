import Foundation
import Quill
import QuillCore

/// Reads runs from a server for `quill runs`, `show`, `compare` and `metrics` with `--server` (or
/// `QUILL_TRACKING_URI`), as the same values the local commands show.
struct RemoteRuns {
    /// A run as the server returned it, in the shapes the local commands print.
    struct Run {
        var meta: RunMeta
        var config: JSONValue
        var statistics: [String: MetricStatistics]
        var json: JSONValue
    }

    let client: BlockingHTTPClient

    /// The server named by `--server`, else `QUILL_TRACKING_URI`; `nil` reads local run directories.
    init?(server: String?, local: Bool) {
        let environment = ProcessInfo.processInfo.environment
        guard !local, let url = server ?? environment["QUILL_TRACKING_URI"].flatMap({ $0.isEmpty ? nil : $0 }) else {
            return nil
        }
        client = BlockingHTTPClient(baseURL: url, apiKey: Credentials.apiKey(server: url, environment: environment))
    }

    private func get(_ path: String) throws -> JSONValue {
        let response = try client.send("GET", path)
        guard response.status == 200, let body = response.body else {
            let message = response.body?["error"]?["message"]?.stringValue ?? "HTTP \(response.status)"
            throw QuillError(response.status == 404 ? .notFound : .io, "\(client.baseURL): \(message)")
        }
        return body
    }

    static func encode(_ text: String) -> String {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+?#")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// Runs matching a query, in the server's order.
    func list(project: String?, query: String?, sort: String?, limit: Int) throws -> [Run] {
        try page(project: project, query: query, sort: sort, limit: limit, cursor: nil).runs
    }

    /// One page of runs matching a query, and the cursor of the next page when there are more.
    func page(
        project: String?,
        query: String?,
        sort: String?,
        limit: Int,
        cursor: String?
    ) throws -> (runs: [Run], nextCursor: String?) {
        var parameters = ["limit=\(limit)"]
        if let project { parameters.append("project=\(Self.encode(project))") }
        if let query { parameters.append("q=\(Self.encode(query))") }
        if let sort { parameters.append("sort=\(Self.encode(sort))") }
        if let cursor { parameters.append("cursor=\(Self.encode(cursor))") }
        let body = try get("/api/v1/runs?" + parameters.joined(separator: "&"))
        let runs = try (body["runs"]?.arrayValue ?? []).map(Self.run(from:))
        return (runs, body["next_cursor"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 })
    }

    /// A run by id, or by name when no run has that id.
    func find(_ reference: String) throws -> Run {
        if RunID(reference) != nil, let body = try? get("/api/v1/runs/\(reference)") {
            return try Self.run(from: body)
        }
        let matches = try list(
            project: nil,
            query: "name = \"\(reference.replacingOccurrences(of: "\"", with: "\\\""))\"",
            sort: nil,
            limit: 10
        )
        guard let first = matches.first else {
            throw QuillError(
                .notFound,
                "run '\(reference)' not found on \(client.baseURL); list runs with `quill runs --server \(client.baseURL)`"
            )
        }
        guard matches.count == 1 else {
            throw QuillError(.ambiguous, "several runs on \(client.baseURL) are named '\(reference)'; pass an id")
        }
        return first
    }

    /// One metric's points, optionally downsampled by the server.
    func history(_ id: RunID, key: String, maxPoints: Int?) throws -> [MetricPoint] {
        var path = "/api/v1/runs/\(id)/metrics?key=\(Self.encode(key))"
        if let maxPoints { path += "&max_points=\(maxPoints)" }
        return (try get(path)["points"]?.arrayValue ?? []).compactMap { point in
            guard let index = point["idx"]?.intValue, let value = point["value"]?.doubleValue else { return nil }
            let time = point["timestamp"]?.stringValue.flatMap(Timestamp.parse) ?? Date(timeIntervalSince1970: 0)
            return MetricPoint(index: index, step: point["step"]?.intValue, timestamp: time, value: value)
        }
    }

    static func run(from json: JSONValue) throws -> Run {
        guard let idText = json["id"]?.stringValue, let id = RunID(idText),
            let started = json["started_at"]?.stringValue.flatMap(Timestamp.parse)
        else { throw QuillError(.malformed, "the server returned a run without an id or start time") }
        var meta = RunMeta(
            id: id,
            name: json["name"]?.stringValue ?? idText,
            project: Project(displayName: json["project"]?.stringValue ?? "-"),
            kind: RunKind(json["kind"]?.stringValue ?? "training"),
            parent: json["parent"]?.stringValue.flatMap(RunID.init),
            startedAt: started
        )
        meta.status = json["status"]?.stringValue.flatMap(RunStatus.init(rawValue:)) ?? .running
        meta.finishedAt = json["ended_at"]?.stringValue.flatMap(Timestamp.parse)
        meta.summary = json["summary"]?.objectValue ?? [:]
        meta.params = json["params"]?.objectValue ?? [:]
        meta.description = json["description"]?.stringValue
        for (key, value) in (json["tags"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            meta.setTag(key, value.stringValue ?? "")
        }
        meta.links = (json["links"]?.arrayValue ?? []).compactMap { link in
            guard let label = link["label"]?.stringValue, let url = link["url"]?.stringValue else { return nil }
            return RunLink(label: label, url: url, timestamp: started)
        }
        meta.git = GitInfo(json: json["git"])
        meta.host = HostInfo(json: json["environment"])
        var statistics: [String: MetricStatistics] = [:]
        for (key, stats) in json["metrics"]?.objectValue ?? [:] {
            statistics[key] = MetricStatistics(
                count: stats["count"]?.intValue ?? 0,
                last: stats["latest"]?.doubleValue ?? .nan,
                lastStep: stats["latest_step"]?.intValue,
                min: stats["min"]?.doubleValue ?? .nan,
                max: stats["max"]?.doubleValue ?? .nan
            )
        }
        return Run(meta: meta, config: json["config"] ?? .object([:]), statistics: statistics, json: json)
    }
}
