import Foundation
import Hummingbird
import QuillCore
import QuillStore

/// `/api/v1/runs`: create, get, update, delete, search; logging (the batch endpoint and single items);
/// metric history and log lines.
struct RunRoutes {
    let api: APIContext

    func register(_ group: RouterGroup<QuillRequestContext>) {
        group.post { request, context in try await create(request, context) }
        group.get { request, context in try await search(request, context) }
        group.get(":id") { request, context in
            let (details, project) = try await api.authorization.readRunDetails(context)
            var json = DTO.details(details, project: project)
            json["dashboard_url"] = .string(api.dashboardURL(request, project, details.run.id))
            return JSONResponse.make(json)
        }
        group.patch(":id") { request, context in try await update(request, context) }
        group.delete(":id") { _, context in
            try await api.authorization.deleteRun(context)
            return Response(status: .noContent)
        }
        group.post(":id/batch") { request, context in
            let id = try await api.authorization.writableRunID(context)
            let batch = try LogBatchReader.batch(from: try await api.bodyBytes(request))
            let result = try await api.store.logBatch(id, batch)
            api.metrics.recordIngest(points: result.metricsWritten)
            return JSONResponse.make([
                "metrics_written": .int(result.metricsWritten), "metrics_ignored": .int(result.metricsIgnored),
            ])
        }
        group.post(":id/metrics") { request, context in
            let id = try await api.authorization.writableRunID(context)
            let body = try JSONObjectReader(try await api.json(request))
            try body.allowOnly(["key", "value", "step", "timestamp", "idx"])
            var batch = LogBatch()
            batch.metrics = [try LogBatchReader.metric(body)]
            let result = try await api.store.logBatch(id, batch)
            api.metrics.recordIngest(points: result.metricsWritten)
            return JSONResponse.make([
                "metrics_written": .int(result.metricsWritten), "metrics_ignored": .int(result.metricsIgnored),
            ])
        }
        group.post(":id/params") { request, context in
            let id = try await api.authorization.writableRunID(context)
            let body = try JSONObjectReader(try await api.json(request))
            try body.allowOnly(["key", "value"])
            var batch = LogBatch()
            batch.params = try LogBatchReader.params(
                [try body.requiredKey("key"): body.members["value"] ?? .null],
                field: "body"
            )
            _ = try await api.store.logBatch(id, batch)
            return Response(status: .noContent)
        }
        group.post(":id/tags") { request, context in
            let id = try await api.authorization.writableRunID(context)
            let body = try JSONObjectReader(try await api.json(request))
            try body.allowOnly(["key", "value"])
            var batch = LogBatch()
            batch.tags = [MetricBounds.normalizedKey(try body.requiredKey("key")): try body.string("value") ?? ""]
            _ = try await api.store.logBatch(id, batch)
            return Response(status: .noContent)
        }
        group.post(":id/links") { request, context in
            let id = try await api.authorization.writableRunID(context)
            let body = try JSONObjectReader(try await api.json(request))
            try body.allowOnly(["label", "url"])
            var batch = LogBatch()
            batch.links = [RunLink(label: try body.requiredString("label"), url: try body.requiredString("url"))]
            _ = try await api.store.logBatch(id, batch)
            return Response(status: .noContent)
        }
        group.post(":id/logs") { request, context in
            let id = try await api.authorization.writableRunID(context)
            let body = try JSONObjectReader(try await api.json(request))
            var batch = LogBatch()
            batch.logs = [try LogBatchReader.logLine(body)]
            _ = try await api.store.logBatch(id, batch)
            return Response(status: .noContent)
        }
        group.get(":id/metrics") { request, context in try await history(request, context) }
        group.get(":id/logs") { request, context in
            let limit = try QueryParameters(request).int("limit", in: Self.limits) ?? 1000
            let id = try await api.authorization.readableRunID(context)
            let lines = try await api.store.logLines(id, limit: min(limit, 100_000))
            return JSONResponse.make(["logs": .array(lines.map(DTO.logLine))])
        }
    }

    private func create(_ request: Request, _ context: QuillRequestContext) async throws -> Response {
        let caller = context.caller
        // The project is named in the body, so only the anonymous caller can be refused before it is read.
        try api.authorization.requireWriter(caller)
        let body = try JSONObjectReader(try await api.json(request))
        try body.allowOnly([
            "id", "project", "project_id", "name", "description", "kind", "parent", "status", "started_at", "ended_at",
            "user", "host", "git", "environment", "config", "tags",
        ])
        let project: StoredProject
        if let id = try body.int("project_id") {
            project = try await api.authorization.writeProject(id: Int64(id), caller)
        } else if let reference = try body.string("project") {
            let parts = reference.split(separator: "/", maxSplits: 1).map(String.init)
            if parts.count == 2 {
                project = try await api.authorization.writeProject(namespace: parts[0], slug: parts[1], caller)
            } else {
                project = try await api.authorization.createProject(
                    in: api.defaultNamespace(caller),
                    displayName: reference,
                    caller
                )
            }
        } else {
            throw QuillError(
                .invalidArgument,
                "body.project (a name, or namespace/slug) or body.project_id is required"
            )
        }
        var run = NewRun(projectID: project.id)
        if let id = try body.string("id") {
            guard let runID = RunID(id) else {
                throw QuillError(.invalidArgument, "body.id '\(id)' is not a valid run id")
            }
            // One answer for a taken id, whoever's run holds it and whether the caller may read it.
            if try await api.store.run(runID) != nil { throw Self.idTaken(runID) }
            run.id = runID
        }
        run.name = try body.string("name")
        run.description = try body.string("description")
        if let kind = try body.string("kind") { run.kind = RunKind(kind) }
        if let parent = try body.string("parent") {
            run.parent = try await api.authorization.readableParent(parent, caller)
        }
        if let status = try body.string("status") { run.status = try Self.status(status) }
        run.startedAt = try body.time("started_at")
        run.endedAt = try body.time("ended_at")
        if run.endedAt == nil, run.status.isTerminal { run.endedAt = max(run.startedAt ?? Date(), Date()) }
        run.user = try body.string("user")
        run.host = try body.string("host")
        run.git = try body.object("git").map(JSONValue.object)
        run.environment = try body.object("environment").map(JSONValue.object)
        run.config = try body.object("config") ?? [:]
        try LogBatchReader.refuseNUL(in: .object(run.config), "body.config")
        run.tags = try JSONObjectReader.stringMap(try body.object("tags") ?? [:], field: "body.tags")
        let created: StoredRun
        do {
            created = try await api.store.createRun(run)
        } catch let error as QuillError where error.code == .invalidArgument {
            // Another request took the id since the check above.
            if let id = run.id, try await api.store.run(id) != nil { throw Self.idTaken(id) }
            throw error
        }
        var json = DTO.run(created)
        json["dashboard_url"] = .string(api.dashboardURL(request, project, created.id))
        return JSONResponse.make(json, status: .created)
    }

    private func update(_ request: Request, _ context: QuillRequestContext) async throws -> Response {
        let run = try await api.authorization.writeRun(context).run
        let id = run.id
        let body = try JSONObjectReader(try await api.json(request))
        try body.allowOnly(["status", "ended_at", "name", "description", "parent", "summary"])
        var update = RunUpdate()
        if let status = try body.string("status") { update.status = try Self.status(status) }
        update.endedAt = try body.time("ended_at")
        // A final status without an end time ends the run now, so its duration is known.
        if update.endedAt == nil, run.endedAt == nil, update.status?.isTerminal == true { update.endedAt = Date() }
        update.name = try body.string("name")
        update.description = try body.string("description")
        if let parent = body.members["parent"] {
            switch parent {
            case .null: update.parent = .some(nil)
            case .string(let text):
                update.parent = .some(try await api.authorization.readableParent(text, context.caller))
            default: throw QuillError(.invalidArgument, "body.parent must be a run id or null")
            }
        }
        update.summary = try body.object("summary")
        try LogBatchReader.refuseNUL(in: .object(update.summary ?? [:]), "body.summary")
        return JSONResponse.make(DTO.run(try await api.store.updateRun(id, update)))
    }

    private func search(_ request: Request, _ context: QuillRequestContext) async throws -> Response {
        let parameters = QueryParameters(request)
        var projectIDs: [Int64]
        if let reference = try parameters.string("project") {
            let parts = reference.split(separator: "/", maxSplits: 1).map(String.init)
            let namespace = parts.count == 2 ? parts[0] : api.defaultNamespace(context.caller)
            let slug = parts.count == 2 ? parts[1] : Project.slug(for: reference)
            projectIDs = [try await api.authorization.readProject(namespace: namespace, slug: slug, context.caller).id]
        } else {
            projectIDs = try await api.authorization.readableProjects(context.caller).map(\.id)
        }
        var search = RunSearch(projectIDs: projectIDs)
        search.query = try parameters.string("q").map { try RunQuery(parsing: $0) }
        search.sort = try parameters.string("sort").map { try RunSort(parsing: $0) }
        search.limit = try parameters.int("limit", in: Self.limits) ?? 100
        search.cursor = try parameters.string("cursor")
        let page = try await api.store.searchRuns(search)
        var projects: [Int64: StoredProject] = [:]
        var runs: [JSONValue] = []
        for details in page.runs {
            let projectID = details.run.projectID
            if projects[projectID] == nil { projects[projectID] = try await api.store.project(id: projectID) }
            runs.append(DTO.details(details, project: projects[projectID]))
        }
        return JSONResponse.make(["runs": .array(runs), "next_cursor": page.nextCursor.map(JSONValue.string) ?? .null])
    }

    private func history(_ request: Request, _ context: QuillRequestContext) async throws -> Response {
        let id = try await api.authorization.readableRunID(context)
        let parameters = QueryParameters(request)
        // Parameters are checked even when the answer does not use them, so a mistake never goes unnoticed.
        let from = try parameters.int("from", in: MetricBounds.steps)
        let to = try parameters.int("to", in: MetricBounds.steps)
        let maxPoints = try parameters.int("max_points", in: 4...1_000_000)
        guard let key = try parameters.string("key").map(MetricBounds.normalizedKey) else {
            guard let details = try await api.store.runDetails(id) else {
                throw QuillError(.notFound, "run '\(id)' not found")
            }
            return JSONResponse.make(["metrics": .object(details.metrics.mapValues(DTO.statistics))])
        }
        var steps: ClosedRange<Int>?
        if from != nil || to != nil {
            let lower = from ?? Int.min
            let upper = to ?? Int.max
            // An empty range (from after to) selects nothing, as a filter should.
            guard lower <= upper else {
                return Response(
                    status: .ok,
                    headers: [.contentType: "application/json; charset=utf-8"],
                    body: ResponseBody(
                        byteBuffer: ByteBuffer(
                            bytes: HistoryEncoder.encode(key: key, points: [], totalPoints: 0, downsampled: false)
                        )
                    )
                )
            }
            steps = lower...upper
        }
        let shown: [MetricPoint]
        let total: Int
        if let maxPoints {
            // Long histories are downsampled by the store from its block summaries, without reading every point.
            let history = try await api.store.downsampledHistory(id, key: key, steps: steps, maxPoints: maxPoints)
            shown = history.points
            total = history.totalPoints
        } else {
            shown = try await api.store.metricHistory(id, key: key, steps: steps)
            total = shown.count
        }
        return Response(
            status: .ok,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(
                byteBuffer: ByteBuffer(
                    bytes: HistoryEncoder.encode(
                        key: key,
                        points: shown,
                        totalPoints: total,
                        downsampled: shown.count < total
                    )
                )
            )
        )
    }

    /// The one answer to a client-chosen run id that is taken: the same status and text whether the caller
    /// may read the run holding it or not, so it says only that the id is in use, never whose run it is,
    /// in which project or anything in it (run ids carry no access; every other route answers 404 for a
    /// run the caller may not read).
    static func idTaken(_ id: RunID) -> QuillError {
        QuillError(
            .conflict,
            "run id '\(id)' is taken on this server; omit body.id to get a fresh id, or choose another"
        )
    }

    /// What `limit` may be on listings; the store returns at most its own page size (1,000 runs, 100,000
    /// log lines) whatever is asked.
    static let limits = 0...1_000_000

    static func status(_ text: String) throws -> RunStatus {
        guard let status = RunStatus(rawValue: text) else {
            throw QuillError(
                .invalidArgument,
                "status must be one of \(RunStatus.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        return status
    }
}

/// Reads the batch endpoint's body.
///
/// ```json
/// {"metrics": [{"key": "loss", "value": 0.5, "step": 1, "timestamp": "…", "idx": 0}],
///  "rows": [{"_idx": 0, "_timestamp": "…", "step": 1, "loss": 0.5, "acc": 0.9}],
///  "params": {"lr": 0.01}, "tags": {"team": "vision"}, "links": [{"label": "…", "url": "…"}],
///  "logs": [{"level": "info", "message": "…", "timestamp": "…"}]}
/// ```
/// `rows` takes `metrics.jsonl` lines as they are, so a run directory syncs without rewriting.
enum LogBatchReader {
    static let batchFields: Set<String> = ["metrics", "rows", "params", "tags", "links", "logs"]
    static let metricFields: Set<String> = ["key", "value", "step", "timestamp", "idx"]
    static let linkFields: Set<String> = ["label", "url"]
    static let logFields: Set<String> = ["message", "level", "timestamp"]
    static func batch(from value: JSONValue) throws -> LogBatch {
        let body = try JSONObjectReader(value)
        try body.allowOnly(batchFields)
        var batch = LogBatch()
        for (offset, item) in (try body.array("metrics") ?? []).enumerated() {
            let reader = try JSONObjectReader(item, path: "body.metrics", index: offset)
            try reader.allowOnly(metricFields)
            batch.metrics.append(try metric(reader))
        }
        for (offset, item) in (try body.array("rows") ?? []).enumerated() {
            let reader = try JSONObjectReader(item, path: "body.rows", index: offset)
            let index = try reader.int("_idx", in: MetricBounds.indexes)
            let step = try reader.int("step", in: MetricBounds.steps)
            let time = try reader.time("_timestamp") ?? Date()
            for key in reader.members.keys where !MetricsFile.reservedKeys.contains(key) {
                try JSONObjectReader.refuseNUL(key, "a metric name in body.rows[\(offset)]")
                guard let number = try reader.double(key) else { continue }
                batch.metrics.append(
                    MetricValue(
                        key: MetricBounds.normalizedKey(key),
                        value: number,
                        step: step,
                        timestamp: time,
                        index: index
                    )
                )
            }
        }
        batch.params = try params(try body.object("params") ?? [:], field: "body.params")
        batch.tags = try JSONObjectReader.stringMap(try body.object("tags") ?? [:], field: "body.tags")
        for (offset, item) in (try body.array("links") ?? []).enumerated() {
            let reader = try JSONObjectReader(item, path: "body.links", index: offset)
            try reader.allowOnly(linkFields)
            batch.links.append(
                RunLink(label: try reader.requiredString("label"), url: try reader.requiredString("url"))
            )
        }
        for (offset, item) in (try body.array("logs") ?? []).enumerated() {
            batch.logs.append(try logLine(try JSONObjectReader(item, path: "body.logs", index: offset)))
        }
        return batch
    }

    static func metric(_ reader: JSONObjectReader) throws -> MetricValue {
        let key = try reader.requiredString("key")
        guard !key.isEmpty else { throw QuillError(.invalidArgument, "\(reader.path).key must not be empty") }
        guard let value = try reader.double("value") else {
            throw QuillError(
                .invalidArgument,
                "\(reader.path).value is required (a number, or \"NaN\", \"Infinity\", \"-Infinity\")"
            )
        }
        return MetricValue(
            key: MetricBounds.normalizedKey(key),
            value: value,
            step: try reader.int("step", in: MetricBounds.steps),
            timestamp: try reader.time("timestamp") ?? Date(),
            index: try reader.int("idx", in: MetricBounds.indexes)
        )
    }

    /// Params as the store takes them: keys in NFC, and no NUL byte in a key or in any string of a value
    /// (the search index keeps param text, where a NUL would cut it short).
    static func params(_ object: [String: JSONValue], field: String) throws -> [String: JSONValue] {
        var params: [String: JSONValue] = [:]
        params.reserveCapacity(object.count)
        for (key, value) in object {
            try JSONObjectReader.checkKey(key, "a key of \(field)")
            try refuseNUL(in: value, "\(field).\(key)")
            params[MetricBounds.normalizedKey(key)] = value
        }
        return params
    }

    /// Refuses a NUL byte in any string or member name inside a JSON value.
    static func refuseNUL(in value: JSONValue, _ what: String) throws {
        switch value {
        case .string(let text): try JSONObjectReader.refuseNUL(text, what)
        case .array(let items): for item in items { try refuseNUL(in: item, what) }
        case .object(let members):
            for (key, member) in members {
                try JSONObjectReader.refuseNUL(key, "a key in \(what)")
                try refuseNUL(in: member, what)
            }
        default: break
        }
    }

    static func logLine(_ reader: JSONObjectReader) throws -> LogLine {
        try reader.allowOnly(logFields)
        let level = try reader.string("level").map { text in
            guard let level = LogLevel(rawValue: text) else {
                throw QuillError(.invalidArgument, "\(reader.path).level must be debug, info, warning or error")
            }
            return level
        }
        return LogLine(
            timestamp: try reader.time("timestamp") ?? Date(),
            level: level ?? .info,
            message: try reader.requiredString("message")
        )
    }
}
