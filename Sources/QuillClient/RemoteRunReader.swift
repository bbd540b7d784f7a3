package import Foundation
package import QuillCore

/// Reads runs from a Quill server's REST API, as the same values the CLI shows for local runs.
///
/// Every response the CLI reads is decoded in this file.
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
        var clauses: [String] = []
        if let text = query.query { clauses.append("(\(text))") }
        if !query.statuses.isEmpty {
            clauses.append("status in (\(query.statuses.map(\.rawValue).joined(separator: ", ")))")
        }
        for filter in query.tags {
            let key = "tags.`" + filter.key.replacingOccurrences(of: "`", with: "``") + "`"
            clauses.append("\(key) ~ \(Self.quoted(filter.value ?? "*"))")
        }
        let body = try client.call(
            "GET",
            ServerPaths.query(
                ServerPaths.runs,
                [
                    ("limit", String(query.limit)), ("project", query.project),
                    ("q", clauses.isEmpty ? nil : clauses.joined(separator: " and ")), ("sort", query.sort),
                    ("cursor", query.cursor),
                ]
            )
        )
        let runs = try (body["runs"]?.arrayValue ?? []).map { json in RunEntry(meta: try Self.meta(json), json: json) }
        var listing = RunListing(
            runs: runs,
            nextCursor: body["next_cursor"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        )
        if runs.isEmpty, client.apiKey == nil,
            (try? client.send("GET", ServerPaths.whoami))?.body?["mode"]?.stringValue == "anonymous"
        {
            listing.warnings.append(
                "no API key was sent, so only public projects are visible; set QUILL_API_KEY or run `quill login --server \(client.baseURL)`"
            )
        }
        return listing
    }

    /// A run by id, or by name when no run has that id (within `project` when given).
    package func run(_ reference: String, project: String?, metadataOnly: Bool) throws -> RunDetails {
        if let id = RunID(reference), let json = try? client.call("GET", ServerPaths.run(id)) {
            return try details(json)
        }
        var query = RunListQuery(limit: 10)
        query.project = project
        query.query = "name = \(Self.quoted(reference))"
        let body = try client.call(
            "GET",
            ServerPaths.query(
                ServerPaths.runs,
                [("limit", String(query.limit)), ("project", query.project), ("q", query.query)]
            )
        )
        let matches = body["runs"]?.arrayValue ?? []
        guard let first = matches.first else {
            throw QuillError(
                .notFound,
                "run '\(reference)' not found on \(client.baseURL); list runs with `quill runs --server \(client.baseURL)`"
            )
        }
        guard matches.count == 1 else {
            throw QuillError(.ambiguous, "several runs on \(client.baseURL) are named '\(reference)'; pass an id")
        }
        return try details(first)
    }

    /// Each wanted metric's history (every metric's when none is named), merged into rows by index.
    package func metricRows(of run: RunDetails, keys: [String], maxPoints: Int?) throws -> [MetricRow] {
        var byIndex: [Int: MetricRow] = [:]
        for key in keys.isEmpty ? run.statistics.keys.sorted() : keys {
            let body = try client.call(
                "GET",
                ServerPaths.query(
                    ServerPaths.metrics(run.meta.id),
                    [("key", key), ("max_points", maxPoints.map(String.init))]
                )
            )
            for point in body["points"]?.arrayValue ?? [] {
                guard let index = point["idx"]?.intValue, let value = point["value"]?.doubleValue else { continue }
                let time = point["timestamp"]?.stringValue.flatMap(Timestamp.parse) ?? Date(timeIntervalSince1970: 0)
                var row =
                    byIndex[index]
                    ?? MetricRow(index: index, timestamp: time, step: point["step"]?.intValue, values: [:])
                row.values[key] = value
                byIndex[index] = row
            }
        }
        return byIndex.values.sorted { $0.index < $1.index }
    }

    /// The run's log lines, as the server keeps them.
    package func logLines(of run: RunDetails, limit: Int) throws -> [LogLine] {
        let body = try client.call("GET", ServerPaths.query(ServerPaths.logs(run.meta.id), [("limit", String(limit))]))
        return (body["logs"]?.arrayValue ?? []).map { line in
            LogLine(
                timestamp: line["timestamp"]?.stringValue.flatMap(Timestamp.parse),
                level: line["level"]?.stringValue.flatMap(LogLevel.init(rawValue:)),
                message: line["message"]?.stringValue ?? ""
            )
        }
    }

    /// The run's artifact records: path, size, upload status, last change and SHA-256.
    package func artifacts(of run: RunDetails) throws -> [ArtifactEntry] {
        let body = try client.call("GET", ServerPaths.artifacts(run.meta.id))
        return (body["artifacts"]?.arrayValue ?? []).map { json in
            ArtifactEntry(
                path: json["path"]?.stringValue ?? "-",
                size: json["size"]?.intValue.map(Int64.init),
                modified: json["modified_at"]?.stringValue.flatMap(Timestamp.parse),
                status: json["status"]?.stringValue,
                sha256: json["sha256"]?.stringValue,
                json: json
            )
        }
    }

    /// Downloads an artifact's bytes into `destination`, streamed to disk.
    package func fetchArtifact(of run: RunDetails, path: String, to destination: String) throws {
        let response = try client.download(
            ServerPaths.query(ServerPaths.artifactContent(run.meta.id), [("path", path)]),
            to: destination
        )
        guard response.status == 200 else { throw client.failure(response) }
    }

    /// A string literal of the query language.
    static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// A run's details from the server's run object.
    func details(_ json: JSONValue) throws -> RunDetails {
        let meta = try Self.meta(json)
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
        return RunDetails(
            meta: meta,
            config: json["config"] ?? .object([:]),
            statistics: statistics,
            location: client.baseURL + "/runs/\(meta.id)",
            json: json
        )
    }

    /// A run's metadata from the server's run object; each link keeps its own `created_at`.
    static func meta(_ json: JSONValue) throws -> RunMeta {
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
            let created = link["created_at"]?.stringValue.flatMap(Timestamp.parse) ?? started
            return RunLink(label: label, url: url, timestamp: created)
        }
        meta.git = GitInfo(json: json["git"])
        meta.host = HostInfo(json: json["environment"])
        return meta
    }
}
