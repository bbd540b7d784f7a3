import Foundation
import QuillAPI
package import QuillCore

/// Reads runs from a Quill server's REST API, as the same values the CLI shows for local runs.
///
/// Paths come from ``APIPath`` and answers are decoded into QuillAPI's wire types (``APIRunDetails``,
/// ``APIMetricHistory``, …); the JSON the server sent is kept as it is for `--json`.
package struct RemoteRunReader: RunReader {
    /// The connection, with the caller's API key.
    package let client: BlockingHTTPClient

    /// A reader over a client.
    package init(client: BlockingHTTPClient) {
        self.client = client
    }

    /// A reader for a server URL, sending the API key ``Credentials/apiKey(server:environment:)`` finds.
    package init(server url: String, environment: [String: String] = ProcessInfo.processInfo.environment) {
        client = BlockingHTTPClient(baseURL: url, apiKey: Credentials.apiKey(server: url, environment: environment))
    }

    package var source: RunSource { .server(url: client.baseURL) }

    /// Lists runs: the statuses and tags become clauses of the query the server evaluates.
    package func runs(_ query: RunListQuery) throws -> RunListing {
        let path = APIPath.runs(
            project: query.project,
            query: Self.serverQuery(query),
            sort: query.sort,
            limit: query.limit,
            cursor: query.cursor
        )
        let (page, json) = try get(APIRunPage.self, path)
        let runs = try zip(page.runs, json["runs"]?.arrayValue ?? []).map { run, json in
            RunEntry(meta: try Self.meta(run), json: json)
        }
        var listing = RunListing(runs: runs, nextCursor: page.nextCursor.flatMap { $0.isEmpty ? nil : $0 })
        if runs.isEmpty, client.apiKey == nil, (try? get(APIWhoAmI.self, APIPath.whoami))?.value.mode == "anonymous" {
            listing.warnings.append(
                "no API key was sent, so only public projects are visible; set QUILL_API_KEY or run `quill login --server \(client.baseURL)`"
            )
        }
        return listing
    }

    /// The query the server evaluates for a listing's filters (its query, statuses and tags, all of which
    /// apply), or `nil` when it has none.
    package static func serverQuery(_ query: RunListQuery) -> String? {
        var clauses: [String] = []
        if let text = query.query { clauses.append("(\(text))") }
        if !query.statuses.isEmpty {
            clauses.append("status in (\(query.statuses.map(\.rawValue).joined(separator: ", ")))")
        }
        for filter in query.tags {
            let key = "tags.`" + filter.key.replacingOccurrences(of: "`", with: "``") + "`"
            clauses.append("\(key) ~ \(Self.quoted(filter.value ?? "*"))")
        }
        return clauses.isEmpty ? nil : clauses.joined(separator: " and ")
    }

    /// A run by id, or by name when no run has that id (within `project` when given).
    package func run(_ reference: String, project: String?, metadataOnly: Bool) throws -> RunDetails {
        if let id = RunID(reference), let found = try? get(APIRunDetails.self, APIPath.run(id.rawValue)) {
            return try details(found.value, found.json)
        }
        let (page, json) = try get(
            APIRunPage.self,
            APIPath.runs(project: project, query: "name = \(Self.quoted(reference))", limit: 10)
        )
        guard let first = page.runs.first, let firstJSON = json["runs"]?.arrayValue?.first else {
            throw QuillError(
                .notFound,
                "run '\(reference)' not found on \(client.baseURL); list runs with `quill runs --server \(client.baseURL)`"
            )
        }
        guard page.runs.count == 1 else {
            throw QuillError(.ambiguous, "several runs on \(client.baseURL) are named '\(reference)'; pass an id")
        }
        return try details(first, firstJSON)
    }

    /// Each wanted metric's history (every metric's when none is named), merged into rows by index.
    package func metricRows(of run: RunDetails, keys: [String], maxPoints: Int?) throws -> [MetricRow] {
        var byIndex: [Int: MetricRow] = [:]
        for key in keys.isEmpty ? run.statistics.keys.sorted() : keys {
            let path = APIPath.runMetrics(run.meta.id.rawValue, key: key, maxPoints: maxPoints)
            for point in try get(APIMetricHistory.self, path).value.points {
                var row =
                    byIndex[point.idx]
                    ?? MetricRow(index: point.idx, timestamp: point.timestamp, step: point.step, values: [:])
                row.values[key] = point.value
                byIndex[point.idx] = row
            }
        }
        return byIndex.values.sorted { $0.index < $1.index }
    }

    /// The run's log lines, as the server keeps them.
    package func logLines(of run: RunDetails, limit: Int) throws -> [LogLine] {
        try get(APILogList.self, APIPath.runLogs(run.meta.id.rawValue, limit: limit)).value.logs.map { line in
            LogLine(
                timestamp: line.timestamp,
                level: line.level.flatMap(LogLevel.init(rawValue:)),
                message: line.message
            )
        }
    }

    /// The run's artifact records: path, size, upload status, last change and SHA-256.
    package func artifacts(of run: RunDetails) throws -> [ArtifactEntry] {
        let (list, json) = try get(APIArtifactList.self, APIPath.runArtifacts(run.meta.id.rawValue))
        return zip(list.artifacts, json["artifacts"]?.arrayValue ?? []).map { artifact, json in
            ArtifactEntry(
                path: artifact.path,
                size: artifact.size,
                modified: artifact.modifiedAt,
                status: artifact.status,
                sha256: artifact.sha256,
                json: json
            )
        }
    }

    /// Downloads an artifact's bytes into `destination`, streamed to disk.
    package func fetchArtifact(of run: RunDetails, path: String, to destination: String) throws {
        let response = try client.download(
            APIPath.runArtifactContent(run.meta.id.rawValue, path: path),
            to: destination
        )
        guard response.status == 200 else { throw client.failure(response) }
    }

    /// Sends `GET path` and decodes the answer (``BlockingHTTPClient/call(_:_:_:json:)``).
    func get<Value: Decodable>(_ type: Value.Type, _ path: String) throws -> (value: Value, json: JSONValue) {
        try client.call(type, "GET", path)
    }

    /// A string literal of the query language.
    static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// A run's details from the server's run object.
    func details(_ run: APIRunDetails, _ json: JSONValue) throws -> RunDetails {
        let meta = try Self.meta(run)
        return RunDetails(
            meta: meta,
            config: .object(run.run.config),
            statistics: run.metrics.mapValues { stats in
                MetricStatistics(
                    count: stats.count,
                    last: stats.latest,
                    lastStep: stats.latestStep,
                    min: stats.min,
                    max: stats.max
                )
            },
            // The run's dashboard page, as the server names it (`/<namespace>/<project>/runs/<id>`); listings
            // carry the project's path instead, which gives the same URL.
            location: run.run.dashboardURL
                ?? run.projectPath.map { "\(client.baseURL)/\($0)/runs/\(meta.id)" }
                ?? "\(client.baseURL)/runs/\(meta.id)",
            json: json
        )
    }

    /// A run's metadata from the server's run object; each link keeps its own `created_at`.
    static func meta(_ details: APIRunDetails) throws -> RunMeta {
        let run = details.run
        guard let id = RunID(run.id) else {
            throw QuillError(.malformed, "the server returned a run whose id '\(run.id)' is not a run id")
        }
        var meta = RunMeta(
            id: id,
            name: run.name,
            project: Project(displayName: details.project ?? "-"),
            kind: RunKind(run.kind),
            parent: run.parent.flatMap(RunID.init),
            startedAt: run.startedAt
        )
        meta.status = RunStatus(rawValue: run.status) ?? .running
        meta.finishedAt = run.endedAt
        meta.summary = run.summary
        meta.params = details.params
        meta.description = run.description
        for (key, value) in details.tags.sorted(by: { $0.key < $1.key }) {
            meta.setTag(key, value)
        }
        meta.links = details.links.map { RunLink(label: $0.label, url: $0.url, timestamp: $0.createdAt) }
        meta.git = GitInfo(json: run.git)
        meta.host = HostInfo(json: run.environment)
        return meta
    }
}
