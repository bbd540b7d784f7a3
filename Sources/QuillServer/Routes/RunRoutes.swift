import Foundation
import Hummingbird
import QuillAPI
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
            let dashboardURL = api.dashboardURL(request, project, details.run.id)
            return try JSONResponse.make(DTO.details(details, project: project, dashboardURL: dashboardURL))
        }
        group.patch(":id") { request, context in try await update(request, context) }
        group.delete(":id") { _, context in
            let id = try await api.authorization.deleteRun(context)
            api.runChanges.publish(id)
            return Response(status: .noContent)
        }
        group.post(":id/batch") { request, context in
            let id = try await api.authorization.writableRunID(context)
            let batch = try LogBatchReader.batch(from: try await api.bodyBytes(request))
            let result = try await api.store.logBatch(id, batch)
            api.runChanges.publish(id)
            api.metrics.recordIngest(points: result.metricsWritten)
            return try JSONResponse.make(
                APIBatchResult(metricsWritten: result.metricsWritten, metricsIgnored: result.metricsIgnored)
            )
        }
        group.post(":id/metrics") { request, context in
            let id = try await api.authorization.writableRunID(context)
            let body = try await api.body(APIMetric.self, request)
            var batch = LogBatch()
            batch.metrics = [LogBatchReader.metric(body)]
            let result = try await api.store.logBatch(id, batch)
            api.runChanges.publish(id)
            api.metrics.recordIngest(points: result.metricsWritten)
            return try JSONResponse.make(
                APIBatchResult(metricsWritten: result.metricsWritten, metricsIgnored: result.metricsIgnored)
            )
        }
        group.post(":id/params") { request, context in
            let id = try await api.authorization.writableRunID(context)
            let body = try await api.body(APIParam.self, request)
            try RequestRules.checkKey(body.key, "body.key")
            var batch = LogBatch()
            batch.params = try RequestRules.params([body.key: body.value ?? .null], field: "body")
            _ = try await api.store.logBatch(id, batch)
            api.runChanges.publish(id)
            return Response(status: .noContent)
        }
        group.post(":id/tags") { request, context in
            let id = try await api.authorization.writableRunID(context)
            let body = try await api.body(APITag.self, request)
            try RequestRules.checkKey(body.key, "body.key")
            var batch = LogBatch()
            batch.tags = [MetricBounds.normalizedKey(body.key): body.value ?? ""]
            _ = try await api.store.logBatch(id, batch)
            api.runChanges.publish(id)
            return Response(status: .noContent)
        }
        group.post(":id/links") { request, context in
            let id = try await api.authorization.writableRunID(context)
            let body = try await api.body(APILink.self, request)
            var batch = LogBatch()
            batch.links = [RunLink(label: body.label, url: body.url)]
            _ = try await api.store.logBatch(id, batch)
            api.runChanges.publish(id)
            return Response(status: .noContent)
        }
        group.post(":id/logs") { request, context in
            let id = try await api.authorization.writableRunID(context)
            let body = try await api.body(APILogLine.self, request)
            var batch = LogBatch()
            batch.logs = [try LogBatchReader.logLine(body)]
            _ = try await api.store.logBatch(id, batch)
            api.runChanges.publish(id)
            return Response(status: .noContent)
        }
        group.get(":id/metrics") { request, context in try await history(request, context) }
        group.get(":id/histories") { request, context in try await histories(request, context) }
        group.get(":id/logs") { request, context in
            let parameters = QueryParameters(request)
            let limit = min(try parameters.int("limit", in: Self.limits) ?? 1000, 100_000)
            let after = try parameters.int("after", in: 0...Int(Int32.max))
            let tail = try parameters.int("tail", in: 0...100_000)
            let id = try await api.authorization.readableRunID(context)
            if let tail, after == nil {
                // The last `tail` lines (at most `limit` of them, from the first), counted once with the page.
                let page = try await api.store.logTail(id, count: tail)
                let lines = page.lines.prefix(limit)
                return try JSONResponse.make(
                    APILogList(logs: lines.map(DTO.logLine), next: page.offset + lines.count, total: page.total)
                )
            }
            let offset = after ?? 0
            let page = try await api.store.logLines(id, offset: offset, limit: limit)
            return try JSONResponse.make(
                APILogList(logs: page.lines.map(DTO.logLine), next: offset + page.lines.count, total: page.total)
            )
        }
    }

    private func create(_ request: Request, _ context: QuillRequestContext) async throws -> Response {
        let caller = context.caller
        // The project is named in the body, so only the anonymous caller can be refused before it is read.
        try api.authorization.requireWriter(caller)
        let body = try await api.body(APIRunCreate.self, request)
        guard body.projectID != nil || body.project != nil else {
            throw QuillError(
                .invalidArgument,
                "body.project (a name, or namespace/slug) or body.project_id is required"
            )
        }
        let project = try await api.projectForWriting(id: body.projectID, reference: body.project ?? "", caller)
        var run = NewRun(projectID: project.id)
        if let id = body.id {
            guard let runID = RunID(id) else {
                throw QuillError(.invalidArgument, "body.id '\(id)' is not a valid run id")
            }
            // One answer for a taken id, whoever's run holds it and whether the caller may read it.
            if try await api.store.run(runID) != nil { throw Self.idTaken(runID) }
            run.id = runID
        }
        run.name = body.name
        run.description = body.description
        if let kind = body.kind { run.kind = RunKind(kind) }
        if let parent = body.parent {
            run.parent = try await api.authorization.readableParent(parent, caller)
        }
        if let status = body.status { run.status = try Self.status(status) }
        run.startedAt = body.startedAt
        run.endedAt = body.endedAt
        if run.endedAt == nil, run.status.isTerminal { run.endedAt = max(run.startedAt ?? Date(), Date()) }
        run.user = body.user
        run.host = body.host
        run.git = body.git.map(JSONValue.object)
        run.environment = body.environment.map(JSONValue.object)
        run.config = body.config ?? [:]
        try RequestRules.refuseNUL(in: .object(run.config), "body.config")
        run.tags = try RequestRules.stringMap(body.tags ?? [:], field: "body.tags")
        let created: StoredRun
        do {
            created = try await api.store.createRun(run)
        } catch let error as QuillError where error.code == .conflict {
            // Another request took the id since the check above: the one answer for a taken id.
            if let id = run.id, try await api.store.run(id) != nil { throw Self.idTaken(id) }
            throw error
        }
        return try JSONResponse.make(
            DTO.run(created, dashboardURL: api.dashboardURL(request, project, created.id)),
            status: .created
        )
    }

    private func update(_ request: Request, _ context: QuillRequestContext) async throws -> Response {
        let run = try await api.authorization.writeRun(context).run
        let id = run.id
        let body = try await api.body(APIRunUpdate.self, request)
        var update = RunUpdate()
        if let status = body.status { update.status = try Self.status(status) }
        update.endedAt = body.endedAt
        // A final status without an end time ends the run now, so its duration is known.
        if update.endedAt == nil, run.endedAt == nil, update.status?.isTerminal == true { update.endedAt = Date() }
        update.name = body.name
        update.description = body.description
        switch body.parent {
        case .none: break
        case .some(.none): update.parent = .some(nil)
        case .some(.some(let text)):
            update.parent = .some(try await api.authorization.readableParent(text, context.caller))
        }
        update.summary = body.summary
        try RequestRules.refuseNUL(in: .object(update.summary ?? [:]), "body.summary")
        let updated = try await api.store.updateRun(id, update)
        api.runChanges.publish(id)
        return try JSONResponse.make(DTO.run(updated))
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
        var runs: [APIRunDetails] = []
        for details in page.runs {
            let projectID = details.run.projectID
            if projects[projectID] == nil { projects[projectID] = try await api.store.project(id: projectID) }
            runs.append(DTO.details(details, project: projects[projectID]))
        }
        return try JSONResponse.make(APIRunPage(runs: runs, nextCursor: page.nextCursor))
    }

    private func history(_ request: Request, _ context: QuillRequestContext) async throws -> Response {
        let id = try await api.authorization.readableRunID(context)
        let parameters = QueryParameters(request)
        // Parameters are checked even when the answer does not use them, so a mistake never goes unnoticed.
        let steps = try Self.stepRange(parameters)
        let maxPoints = try parameters.int("max_points", in: 4...1_000_000)
        guard let key = try parameters.string("key").map(MetricBounds.normalizedKey) else {
            guard let details = try await api.store.runDetails(id) else {
                throw QuillError(.notFound, "run '\(id)' not found")
            }
            return try JSONResponse.make(APIMetricSummaries(metrics: details.metrics.mapValues(DTO.statistics)))
        }
        return Self.json(try await historyBytes(id, key: key, steps: steps, maxPoints: maxPoints))
    }

    /// `GET /runs/{id}/histories?key=a&key=b…`: several metrics' histories in one answer (the dashboard draws
    /// a run's charts from one request), each as `GET /runs/{id}/metrics?key=` writes it, in the order asked.
    private func histories(_ request: Request, _ context: QuillRequestContext) async throws -> Response {
        let id = try await api.authorization.readableRunID(context)
        let parameters = QueryParameters(request)
        let steps = try Self.stepRange(parameters)
        let maxPoints = try parameters.int("max_points", in: 4...1_000_000)
        let keys = try parameters.all("key").map { key in
            guard !key.isEmpty else { throw QuillError(.invalidArgument, "query parameter key must not be empty") }
            return MetricBounds.normalizedKey(key)
        }
        guard (1...Self.maxHistories).contains(keys.count) else {
            throw QuillError(
                .invalidArgument,
                "give 1 to \(Self.maxHistories) key parameters (?key=train/loss&key=val/loss), got \(keys.count)"
            )
        }
        var out = Array(#"{"histories":["#.utf8)
        for (offset, key) in keys.enumerated() {
            if offset > 0 { out.append(UInt8(ascii: ",")) }
            var bytes = try await historyBytes(id, key: key, steps: steps, maxPoints: maxPoints)
            if bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
            out.append(contentsOf: bytes)
        }
        out.append(contentsOf: "]}\n".utf8)
        return Self.json(out)
    }

    /// The most keys one `histories` request may ask for.
    static let maxHistories = 50

    /// The `from`/`to` step range of a history request: `nil` for every step, an empty range for none.
    private static func stepRange(_ parameters: QueryParameters) throws -> StepSelection {
        let from = try parameters.int("from", in: MetricBounds.steps)
        let to = try parameters.int("to", in: MetricBounds.steps)
        guard from != nil || to != nil else { return .all }
        let lower = from ?? Int.min
        let upper = to ?? Int.max
        // An empty range (from after to) selects nothing, as a filter should.
        return lower <= upper ? .range(lower...upper) : .none
    }

    private enum StepSelection {
        case all, none
        case range(ClosedRange<Int>)
    }

    /// One metric's history as `HistoryEncoder` writes it; long histories are downsampled by the store from
    /// its block summaries, without reading every point.
    private func historyBytes(
        _ id: RunID,
        key: String,
        steps selection: StepSelection,
        maxPoints: Int?
    ) async throws -> [UInt8] {
        let steps: ClosedRange<Int>?
        switch selection {
        case .none: return HistoryEncoder.encode(key: key, points: [], totalPoints: 0, downsampled: false)
        case .all: steps = nil
        case .range(let range): steps = range
        }
        let shown: [MetricPoint]
        let total: Int
        if let maxPoints {
            let history = try await api.store.downsampledHistory(id, key: key, steps: steps, maxPoints: maxPoints)
            shown = history.points
            total = history.totalPoints
        } else {
            shown = try await api.store.metricHistory(id, key: key, steps: steps)
            total = shown.count
        }
        return HistoryEncoder.encode(key: key, points: shown, totalPoints: total, downsampled: shown.count < total)
    }

    private static func json(_ bytes: [UInt8]) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes))
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
