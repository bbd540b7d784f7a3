import Foundation
import Hummingbird
import QuillAPI
import QuillCore
import QuillStore

extension MLflowRoutes {
    /// `runs/…` except search: create, get, update, delete, restore, log-parameter, log-metric, log-batch,
    /// set-tag, delete-tag, log-inputs. Every write goes through the store's one batch path
    /// (``TrackingStore/logBatch(_:_:)``) and wakes the run's followers (``APIContext/runChanges``).
    func registerRuns(_ table: MLflowRouteTable) {
        table.add("runs/create", .post) { request, context in try await createRun(request, context) }
        table.add("runs/get", .get) { request, context in
            let query = try query(MLflowRunIDRequest.self, request)
            let text = try required(query.runID ?? query.runUUID, "run_id")
            let (details, project) = try await readableRunDetails(text, context)
            let latest = try await latestPoints(details)
            let run = MLflowMapping.run(details, experimentID: experiments(context).id(project), latest: latest)
            return try JSONResponse.make(MLflowRunResponse(run: run))
        }
        table.add("runs/update", .post) { request, context in try await updateRun(request, context) }
        table.add("runs/delete", .post) { request, context in
            let body = try await body(MLflowRunIDRequest.self, request)
            try await setRunDeleted(try required(body.runID ?? body.runUUID, "run_id"), true, context)
            return try JSONResponse.make(MLflowEmpty())
        }
        table.add("runs/restore", .post) { request, context in
            let body = try await body(MLflowRunIDRequest.self, request)
            try await setRunDeleted(try required(body.runID ?? body.runUUID, "run_id"), false, context)
            return try JSONResponse.make(MLflowEmpty())
        }
        table.add("runs/log-parameter", .post) { request, context in try await logParam(request, context) }
        table.add("runs/log-metric", .post) { request, context in try await logMetric(request, context) }
        table.add("runs/log-batch", .post) { request, context in try await logBatch(request, context) }
        table.add("runs/set-tag", .post) { request, context in try await setTag(request, context) }
        table.add("runs/delete-tag", .post) { request, context in try await deleteTag(request, context) }
        table.add("runs/log-inputs", .post) { request, context in
            // Quill records no datasets: the request is checked and accepted, as MLflow's client expects.
            let body = try await body(MLflowRunIDRequest.self, request)
            _ = try await activeRun(try required(body.runID ?? body.runUUID, "run_id"), context)
            return try JSONResponse.make(MLflowEmpty())
        }
    }

    // MARK: Create, get, update

    private func createRun(_ request: Request, _ context: QuillRequestContext) async throws -> Response {
        try api.authorization.requireWriter(context.caller)
        let body = try await body(MLflowCreateRun.self, request)
        let resolver = experiments(context)
        let experimentID = body.experimentID.flatMap { $0.isEmpty ? nil : $0 } ?? MLflowExperimentResolver.defaultID
        let project = try await resolver.writable(experimentID)
        guard project.deletedAt == nil else {
            throw MLflowHTTPError(
                .invalidParameterValue,
                "The experiment \(experimentID) must be in the 'active' state. Current state is deleted."
            )
        }
        var tags: [String: String] = [:]
        for (index, tag) in (body.tags ?? []).enumerated() {
            let (key, value) = try Self.checkedTag(tag, path: "tags[\(index)]")
            tags[key] = value
        }
        let requested = body.runName.flatMap { $0.isEmpty ? nil : $0 }
        let tagged = tags[MLflowMapping.runNameTag].flatMap { $0.isEmpty ? nil : $0 }
        if let requested, let tagged, requested != tagged {
            throw MLflowHTTPError(
                .invalidParameterValue,
                "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values "
                    + "(run_name='\(requested)', mlflow.runName='\(tagged)')."
            )
        }
        let name = requested ?? tagged ?? MLflowRunNames.random()
        tags[MLflowMapping.runNameTag] = name
        var new = NewRun(projectID: project.id)
        new.id = RunID(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))
        new.name = name
        new.startedAt = try body.startTime.map { try MLflowMapping.date(milliseconds: $0.value, field: "start_time") }
        new.user =
            context.caller.userName ?? body.userID.flatMap { $0.isEmpty ? nil : $0 } ?? tags[MLflowMapping.userTag]
        new.tags = tags
        if let parent = tags[MLflowMapping.parentRunTag].flatMap(RunID.init),
            (try? await api.authorization.readRun(id: parent, context.caller)) != nil
        {
            new.parent = parent
        }
        let created = try await api.store.createRun(new)
        if created.name != name {
            // The store gave the name a suffix (run names are unique in a Quill project): keep the tag in step.
            tags[MLflowMapping.runNameTag] = created.name
            var batch = LogBatch()
            batch.tags = [MLflowMapping.runNameTag: created.name]
            _ = try await api.store.logBatch(created.id, batch)
        }
        api.runChanges.publish(created.id)
        let details = RunDetails(run: created, params: [:], tags: tags, links: [], metrics: [:])
        return try JSONResponse.make(
            MLflowRunResponse(run: MLflowMapping.run(details, experimentID: resolver.id(project)))
        )
    }

    private func updateRun(_ request: Request, _ context: QuillRequestContext) async throws -> Response {
        let body = try await body(MLflowUpdateRun.self, request)
        let text = try required(body.runID ?? body.runUUID, "run_id")
        let run = try await activeRun(text, context)
        var update = RunUpdate()
        update.status = body.status.map(MLflowMapping.status)
        update.endedAt = try body.endTime.map { try MLflowMapping.date(milliseconds: $0.value, field: "end_time") }
        let newName = body.runName.flatMap { $0.isEmpty ? nil : $0 }
        var stored = run.run
        if update.status != nil || update.endedAt != nil {
            stored = try await api.store.updateRun(run.id, update)
        }
        if let newName { stored = try await rename(run.id, to: newName) }
        api.runChanges.publish(run.id)
        let info = MLflowMapping.info(stored, experimentID: experiments(context).id(run.project))
        return try JSONResponse.make(MLflowUpdateRunResponse(runInfo: info))
    }

    private func setRunDeleted(_ text: String, _ deleted: Bool, _ context: QuillRequestContext) async throws {
        let id = try Self.runID(text)
        do {
            _ = try await api.authorization.writeRun(id: id, context.caller)
        } catch let error as QuillError where error.code == .notFound {
            throw Self.runNotFound(text)
        }
        _ = try await api.store.setRunDeleted(id, deleted)
        api.runChanges.publish(id)
    }

    // MARK: Logging

    private func logParam(_ request: Request, _ context: QuillRequestContext) async throws -> Response {
        let body = try await body(MLflowLogParam.self, request)
        let text = try required(body.runID ?? body.runUUID, "run_id")
        let key = try required(body.key, "key")
        let (key2, value) = try Self.checkedParam(MLflowKeyValue(key: key, value: body.value ?? ""), path: "")
        let run = try await activeRun(text, context)
        if let old = try await shownParams(run.id)[key2] {
            guard old == value else {
                throw MLflowHTTPError(
                    .invalidParameterValue,
                    "Changing param values is not allowed. Param with key='\(key2)' was already logged with "
                        + "value='\(old)' for run ID='\(text)'. Attempted logging new value '\(value)'."
                )
            }
            return try JSONResponse.make(MLflowEmpty())
        }
        var batch = LogBatch()
        batch.params = [key2: .string(value)]
        batch.paramChanges = .reject
        _ = try await api.store.logBatch(run.id, batch)
        api.runChanges.publish(run.id)
        return try JSONResponse.make(MLflowEmpty())
    }

    private func logMetric(_ request: Request, _ context: QuillRequestContext) async throws -> Response {
        let body = try await body(MLflowLogMetric.self, request)
        let text = try required(body.runID ?? body.runUUID, "run_id")
        let key = try required(body.key, "key")
        guard let value = body.value else { throw MLflowHTTPError.missing("value") }
        guard let timestamp = body.timestamp else { throw MLflowHTTPError.missing("timestamp") }
        var checkedNames = Set<String>()
        let metric = try Self.checkedMetric(
            MLflowBatchMetric(key: key, value: value, timestamp: timestamp, step: body.step),
            index: nil,
            checkedNames: &checkedNames
        )
        let run = try await activeRun(text, context)
        var batch = LogBatch()
        batch.metrics = [metric]
        _ = try await api.store.logBatch(run.id, batch)
        api.runChanges.publish(run.id)
        return try JSONResponse.make(MLflowEmpty())
    }

    private func logBatch(_ request: Request, _ context: QuillRequestContext) async throws -> Response {
        let body = try await body(MLflowLogBatch.self, request)
        let text = try required(body.runID, "run_id")
        let metrics = body.metrics ?? []
        let params = body.params ?? []
        let tags = body.tags ?? []
        // MLflow's order: members present, each item valid, the limits, params unique.
        for (index, metric) in metrics.enumerated() {
            if metric.key == nil || metric.key == "" { throw MLflowHTTPError.missing("metrics[\(index)].key") }
            if metric.value == nil { throw MLflowHTTPError.missing("metrics[\(index)].value") }
            if metric.timestamp == nil { throw MLflowHTTPError.missing("metrics[\(index)].timestamp") }
        }
        var batch = LogBatch()
        batch.paramChanges = .reject
        var checkedNames = Set<String>()
        batch.metrics.reserveCapacity(metrics.count)
        for (index, metric) in metrics.enumerated() {
            batch.metrics.append(try Self.checkedMetric(metric, index: index, checkedNames: &checkedNames))
        }
        var paramOrder: [String] = []
        for (index, param) in params.enumerated() {
            let (key, value) = try Self.checkedParam(param, path: "params[\(index)]")
            paramOrder.append(key)
            batch.params[key] = .string(value)
        }
        var newName: String?
        for (index, tag) in tags.enumerated() {
            let (key, value) = try Self.checkedTag(tag, path: "tags[\(index)]")
            if key == MLflowMapping.runNameTag {
                if !value.isEmpty { newName = value }
            } else {
                batch.tags[key] = value
            }
        }
        try Self.checkBatchLimits(metrics: metrics.count, params: params.count, tags: tags.count)
        let duplicates = paramOrder.enumerated().filter { paramOrder[..<$0.offset].contains($0.element) }.map(\.element)
        if !duplicates.isEmpty {
            throw MLflowHTTPError(
                .invalidParameterValue,
                "Duplicate parameter keys have been submitted: [\(duplicates.map { "'\($0)'" }.joined(separator: ", "))]. "
                    + "Please ensure the request contains only one param value per param key."
            )
        }
        let run = try await activeRun(text, context)
        if !batch.params.isEmpty {
            let shown = try await shownParams(run.id)
            var changed: [String] = []
            for key in paramOrder {
                guard let old = shown[key], let new = batch.params[key]?.stringValue else { continue }
                if old != new {
                    changed.append("{'key': '\(key)', 'old_value': '\(old)', 'new_value': '\(new)'}")
                } else {
                    batch.params[key] = nil
                }
            }
            if !changed.isEmpty {
                throw MLflowHTTPError(
                    .invalidParameterValue,
                    "Changing param values is not allowed. Params were already logged='[\(changed.joined(separator: ", "))]' "
                        + "for run ID='\(text)'."
                )
            }
        }
        if !batch.isEmpty { _ = try await api.store.logBatch(run.id, batch) }
        if let newName { _ = try await rename(run.id, to: newName) }
        api.runChanges.publish(run.id)
        return try JSONResponse.make(MLflowEmpty())
    }

    private func setTag(_ request: Request, _ context: QuillRequestContext) async throws -> Response {
        let body = try await body(MLflowSetTag.self, request)
        let text = try required(body.runID ?? body.runUUID, "run_id")
        let key = try required(body.key, "key")
        let (checkedKey, value) = try Self.checkedTag(MLflowKeyValue(key: key, value: body.value ?? ""), path: "")
        let run = try await activeRun(text, context)
        if checkedKey == MLflowMapping.runNameTag {
            if !value.isEmpty { _ = try await rename(run.id, to: value) }
        } else {
            var batch = LogBatch()
            batch.tags = [checkedKey: value]
            _ = try await api.store.logBatch(run.id, batch)
        }
        api.runChanges.publish(run.id)
        return try JSONResponse.make(MLflowEmpty())
    }

    private func deleteTag(_ request: Request, _ context: QuillRequestContext) async throws -> Response {
        let body = try await body(MLflowDeleteTag.self, request)
        let text = try required(body.runID, "run_id")
        let key = try required(body.key, "key")
        let run = try await activeRun(text, context)
        guard let details = try await api.store.runDetails(run.id) else { throw Self.runNotFound(text) }
        guard details.tags[key] != nil || key == MLflowMapping.runNameTag else {
            throw MLflowHTTPError(.resourceDoesNotExist, "No tag with name: \(key) in run with id \(text)")
        }
        var batch = LogBatch()
        batch.removedTags = [key]
        _ = try await api.store.logBatch(run.id, batch)
        api.runChanges.publish(run.id)
        return try JSONResponse.make(MLflowEmpty())
    }

    // MARK: Helpers

    /// Renames a run and sets its `mlflow.runName` tag to the name it got.
    private func rename(_ id: RunID, to name: String) async throws -> StoredRun {
        var update = RunUpdate()
        update.name = name
        let stored = try await api.store.updateRun(id, update)
        var batch = LogBatch()
        batch.tags = [MLflowMapping.runNameTag: stored.name]
        _ = try await api.store.logBatch(id, batch)
        return stored
    }

    /// The run `text` names with its details and project, when the caller may read it.
    func readableRunDetails(_ text: String, _ context: QuillRequestContext) async throws -> (RunDetails, StoredProject)
    {
        let id = try Self.runID(text)
        do {
            let (details, project) = try await api.authorization.readRunDetails(id: id, context.caller)
            return (details, project)
        } catch let error as QuillError where error.code == .notFound {
            throw Self.runNotFound(text)
        }
    }

    /// The run `text` names, when the caller may write it and it is not deleted (MLflow refuses writes to a
    /// deleted run with `INVALID_PARAMETER_VALUE`; a finished run takes writes).
    func activeRun(_ text: String, _ context: QuillRequestContext) async throws -> AuthorizedRun {
        let id = try Self.runID(text)
        let run: AuthorizedRun
        do {
            run = try await api.authorization.writeRun(id: id, context.caller)
        } catch let error as QuillError where error.code == .notFound {
            throw Self.runNotFound(text)
        }
        guard run.run.deletedAt == nil else {
            throw MLflowHTTPError(
                .invalidParameterValue,
                "The run \(text) must be in the 'active' state. Current state is deleted."
            )
        }
        return run
    }

    /// The last point of each metric of a run (for the time of `run.data.metrics`).
    func latestPoints(_ details: RunDetails) async throws -> [String: MetricPoint] {
        var result: [String: MetricPoint] = [:]
        for key in details.metrics.keys {
            let tail = try await api.store.metricTail(details.run.id, key: key, after: nil, limit: 0)
            guard let last = tail.lastIndex, last > Int.min else { continue }
            let point = try await api.store.metricTail(details.run.id, key: key, after: last - 1, limit: 1).points.first
            result[key] = point
        }
        return result
    }

    /// A run's params as MLflow shows them.
    private func shownParams(_ id: RunID) async throws -> [String: String] {
        guard let details = try await api.store.runDetails(id) else { return [:] }
        return MLflowMapping.params(details)
    }

    static func runID(_ text: String) throws -> RunID {
        guard let id = RunID(text) else { throw runNotFound(text) }
        return id
    }

    /// MLflow's answer for a run that does not exist (or that the caller may not read).
    static func runNotFound(_ text: String) -> MLflowHTTPError {
        MLflowHTTPError(.resourceDoesNotExist, "Run with id=\(text) not found")
    }

    // MARK: MLflow's checks

    /// A metric checked as MLflow checks it (name, non-negative time), as Quill's value (step 0 when absent).
    /// `index` is its place in a batch (for the messages); a name in `checkedNames` was checked already.
    static func checkedMetric(
        _ metric: MLflowBatchMetric,
        index: Int?,
        checkedNames: inout Set<String>
    ) throws -> MetricValue {
        func path(_ member: String) -> String { index.map { "metrics[\($0)].\(member)" } ?? member }
        let key = metric.key ?? ""
        if !checkedNames.contains(key) {
            try MLflowMapping.checkName(key, path: path("name"))
            try MLflowMapping.checkLength(key, MLflowMapping.maxEntityKeyLength, "Metric name")
            checkedNames.insert(key)
        }
        let value = metric.value?.value ?? .nan
        guard let timestamp = metric.timestamp?.value else { throw MLflowHTTPError.missing(path("timestamp")) }
        if timestamp < 0 {
            throw MLflowHTTPError(
                .invalidParameterValue,
                "Invalid value \(timestamp) for parameter '\(path("timestamp"))' supplied: metric '\(key)' "
                    + "(value=\(value)). Timestamp must be a nonnegative long (64-bit integer) "
            )
        }
        let date = try MLflowMapping.date(milliseconds: timestamp, field: path("timestamp"))
        return MetricValue(key: key, value: value, step: Int(metric.step?.value ?? 0), timestamp: date)
    }

    /// A param checked as MLflow checks it; a value over 6,000 characters is cut, as MLflow's server does.
    static func checkedParam(_ param: MLflowKeyValue, path: String) throws -> (String, String) {
        try MLflowMapping.checkName(param.key, path: path.isEmpty ? "key" : path + ".key")
        try MLflowMapping.checkLength(param.key, MLflowMapping.maxEntityKeyLength, "Param key")
        return (param.key, MLflowMapping.truncated(param.value, MLflowMapping.maxParamValueLength))
    }

    /// A tag checked as MLflow checks it; a value over 8,000 characters is cut, as MLflow's server does.
    static func checkedTag(_ tag: MLflowKeyValue, path: String) throws -> (String, String) {
        let keyPath = path.isEmpty ? "key" : path + ".key"
        try MLflowMapping.checkName(tag.key, path: keyPath)
        try MLflowMapping.checkLength(tag.key, MLflowMapping.maxEntityKeyLength, keyPath)
        return (tag.key, MLflowMapping.truncated(tag.value, MLflowMapping.maxTagValueLength))
    }

    /// MLflow's limits of one `log-batch` request.
    static func checkBatchLimits(metrics: Int, params: Int, tags: Int) throws {
        let limits: [(String, Int, Int)] = [
            ("metrics", MLflowMapping.maxMetricsPerBatch, metrics),
            ("params", MLflowMapping.maxParamsTagsPerBatch, params),
            ("tags", MLflowMapping.maxParamsTagsPerBatch, tags),
            ("metrics, params, and tags", MLflowMapping.maxEntitiesPerBatch, metrics + params + tags),
        ]
        for (name, limit, count) in limits where count > limit {
            throw MLflowHTTPError(
                .invalidParameterValue,
                "A batch logging request can contain at most \(limit) \(name). Got \(count) \(name). "
                    + "Please split up \(name) across multiple requests and try again."
            )
        }
    }
}
