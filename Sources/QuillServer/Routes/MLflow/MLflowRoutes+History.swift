import Foundation
import Hummingbird
import NIOCore
import QuillAPI
import QuillCore
import QuillStore

extension MLflowRoutes {
    /// `metrics/get-history` (with pages), `metrics/get-history-bulk-interval`, `logged-models/search` and
    /// `runs/outputs` (see `MLflowRoutes+LoggedModels.swift`).
    func registerHistory(_ table: MLflowRouteTable) {
        table.add("metrics/get-history", .get) { request, context in
            try await metricHistory(request, context)
        }
        table.add("metrics/get-history-bulk-interval", .get) { request, context in
            try await bulkInterval(request, context)
        }
        registerLoggedModels(table)
    }

    /// The most points one `get-history-bulk-interval` answer samples per run, and the default.
    static let maxSampledPointsPerRun = 2500
    /// The most runs one `get-history-bulk-interval` request names.
    static let maxRunsPerBulkInterval = 100

    /// Every point of a metric in MLflow's order (time, step, value), in pages when `max_results` is given.
    ///
    /// MLflow's client asks pages of 25,000. When the metric's index order is already MLflow's order (points
    /// logged in time order, the usual case), the first page reads the history once to find that out, and each
    /// further page reads only its own points from the store, by index; otherwise every page reads and sorts
    /// the history.
    func metricHistory(_ request: Request, _ context: QuillRequestContext) async throws -> Response {
        let query = MLflowFormQuery(request.uri.query)
        let runText = try required(query.first("run_id") ?? query.first("run_uuid"), "run_id")
        let key = try required(query.first("metric_key"), "metric_key")
        let limit = try Self.historyPageSize(query.first("max_results"))
        let token = try query.first("page_token").flatMap { $0.isEmpty ? nil : try MLflowHistoryPageToken.parse($0) }
        // MLflow's server does not check the run: an unknown run's history is empty. So is one the caller may
        // not read, which therefore looks exactly like a run that does not exist.
        let run: RunID
        do {
            run = try await readableRunID(runText, context)
        } catch let error as MLflowHTTPError where error.code == .resourceDoesNotExist {
            return Self.historyResponse(key: key, [], nextPageToken: nil)
        }

        let page: (points: [MLflowMetricOrder.Keyed], nextToken: String?)
        do {
            page = try await historyPage(run, key: key, limit: limit, token: token)
        } catch let error as QuillError where error.code == .notFound {
            return Self.historyResponse(key: key, [], nextPageToken: nil)
        }
        return Self.historyResponse(key: key, page.points, nextPageToken: page.nextToken)
    }

    /// A `get-history` answer, written directly (a page has up to 25,000 points): what
    /// ``MLflowMetricHistory`` writes, in its member order, `{}` for no point.
    static func historyResponse(key: String, _ points: [MLflowMetricOrder.Keyed], nextPageToken: String?) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(
                byteBuffer: ByteBuffer(bytes: historyBytes(key: key, points, nextPageToken: nextPageToken))
            )
        )
    }

    /// The bytes of a `get-history` answer (see ``historyResponse(key:_:nextPageToken:)``).
    static func historyBytes(key: String, _ points: [MLflowMetricOrder.Keyed], nextPageToken: String?) -> [UInt8] {
        var prefix: [UInt8] = Array("{\"key\":".utf8)
        JSONWriter.appendString(key, into: &prefix)
        prefix.append(contentsOf: ",\"value\":".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(points.count * (prefix.count + 60) + 100)
        out.append(UInt8(ascii: "{"))
        if !points.isEmpty {
            out.append(contentsOf: "\"metrics\":[".utf8)
            for (position, keyed) in points.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: prefix)
                JSONWriter.appendDouble(keyed.point.value, into: &out)
                out.append(contentsOf: ",\"timestamp\":".utf8)
                out.append(contentsOf: String(keyed.milliseconds).utf8)
                out.append(contentsOf: ",\"step\":".utf8)
                out.append(contentsOf: String(keyed.step).utf8)
                out.append(UInt8(ascii: "}"))
            }
            out.append(UInt8(ascii: "]"))
        }
        if let nextPageToken {
            if !points.isEmpty { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: "\"next_page_token\":".utf8)
            JSONWriter.appendString(nextPageToken, into: &out)
        }
        out.append(contentsOf: "}\n".utf8)
        return out
    }

    /// One page of a metric's history in MLflow's order, and the token of the next page.
    private func historyPage(
        _ run: RunID,
        key: String,
        limit: Int?,
        token: MLflowHistoryPageToken?
    ) async throws -> (points: [MLflowMetricOrder.Keyed], nextToken: String?) {
        if let token, let lastIndex = token.lastIndex, let limit {
            // A later page of a history whose index order is MLflow's: read this page only.
            let tail = try await api.store.metricTail(run, key: key, after: lastIndex, limit: limit + 1)
            var points = tail.points.map(MLflowMetricOrder.Keyed.init)
            guard points.count > limit else { return (points, nil) }
            points.removeLast(points.count - limit)
            let (offset, overflow) = token.offset.addingReportingOverflow(limit)
            let next = MLflowHistoryPageToken(offset: overflow ? Int.max : offset, lastIndex: points.last?.point.index)
            return (points, next.text)
        }
        let ordered = MLflowMetricOrder.historyOrder(try await api.store.metricHistory(run, key: key, steps: nil))
        let start = min(token?.offset ?? 0, ordered.points.count)
        let end = limit.map { start + min($0, ordered.points.count - start) } ?? ordered.points.count
        let points = Array(ordered.points[start..<end])
        guard let limit, end < ordered.points.count else { return (points, nil) }
        let lastIndex = ordered.wasInOrder ? points.last?.point.index : nil
        return (points, MLflowHistoryPageToken(offset: start + limit, lastIndex: lastIndex).text)
    }

    /// A sample of at most `max_results` points (default 2,500) of a metric per run, for the MLflow UI's charts,
    /// as MLflow's SQL store samples it (``MLflowMetricOrder/sample(_:maxResults:)``), optionally within a step
    /// range.
    func bulkInterval(_ request: Request, _ context: QuillRequestContext) async throws -> Response {
        let query = MLflowFormQuery(request.uri.query)
        let runTexts = query.all("run_ids")
        guard !runTexts.isEmpty else { throw MLflowHTTPError.missing("run_ids") }
        guard runTexts.count <= Self.maxRunsPerBulkInterval else {
            throw MLflowHTTPError(
                .invalidParameterValue,
                "GetMetricHistoryBulkInterval request must specify at most \(Self.maxRunsPerBulkInterval) run_ids. Received \(runTexts.count) run_ids."
            )
        }
        let key = try required(query.first("metric_key"), "metric_key")
        let start = try Self.intParameter(query.first("start_step"), "start_step")
        let end = try Self.intParameter(query.first("end_step"), "end_step")
        var maxResults = Self.maxSampledPointsPerRun
        if let text = query.first("max_results") {
            let value = try Self.intParameter(text, "max_results") ?? 0
            guard value >= 1, value <= Self.maxSampledPointsPerRun else {
                throw MLflowHTTPError(
                    .invalidParameterValue,
                    "max_results must be between 1 and \(Self.maxSampledPointsPerRun). See the API docs for more information about request parameters."
                )
            }
            maxResults = Int(value)
        }
        var steps: ClosedRange<Int>?
        switch (start, end) {
        case (nil, nil):
            steps = nil
        case (let start?, let end?):
            guard start <= end else {
                throw MLflowHTTPError(
                    .invalidParameterValue,
                    "end_step must be greater than start_step. Found start_step=\(start) and end_step=\(end)."
                )
            }
            steps = Int(start)...Int(end)
        default:
            throw MLflowHTTPError(
                .invalidParameterValue,
                "If either start step or end step are specified, both must be specified."
            )
        }
        var runs: [RunID] = []
        for text in runTexts { runs.append(try await readableRunID(text, context)) }
        var metrics: [MLflowMetricWithRunID] = []
        for run in runs {
            let points: [MetricPoint]
            do {
                points = try await api.store.metricHistory(run, key: key, steps: steps)
            } catch let error as QuillError where error.code == .notFound {
                throw Self.runNotFound(run.rawValue)
            }
            for point in MLflowMetricOrder.sample(points, maxResults: maxResults) {
                metrics.append(
                    MLflowMetricWithRunID(
                        key: key,
                        value: point.value,
                        timestamp: MLflowInt64(MLflowMetricOrder.milliseconds(point.timestamp)),
                        step: MLflowInt64(Int64(point.step ?? 0)),
                        runID: run.rawValue
                    )
                )
            }
        }
        return try JSONResponse.make(MLflowMetricHistoryBulkInterval(metrics: metrics))
    }

    // MARK: Parameters

    /// `max_results` of `get-history`: absent is every point; 0 or less is refused as MLflow refuses it; text
    /// that is no 32-bit integer is ignored, as MLflow's server ignores it (the field is an `int32`).
    static func historyPageSize(_ text: String?) throws -> Int? {
        guard let text, let value = Int64(text.trimmingCharacters(in: .whitespaces)) else { return nil }
        guard value > 0 else {
            throw MLflowHTTPError(
                .invalidParameterValue,
                "Invalid value \(value) for parameter 'max_results' supplied. It must be a positive integer."
            )
        }
        guard value <= Int64(Int32.max) else { return nil }
        return Int(value)
    }

    /// An integer parameter, or `nil` when absent; anything else is `INVALID_PARAMETER_VALUE` in MLflow's words.
    static func intParameter(_ text: String?, _ name: String) throws -> Int64? {
        guard let text else { return nil }
        guard let value = Int64(text.trimmingCharacters(in: .whitespaces)) else {
            throw MLflowHTTPError(
                .invalidParameterValue,
                "Invalid value \"\(text)\" for parameter '\(name)' supplied: Hint: Value was of type 'str'. See the API docs for more information about request parameters."
            )
        }
        return value
    }

    /// A run the caller may read, by its id's text; any other is `RESOURCE_DOES_NOT_EXIST`, as MLflow says it.
    func readableRunID(_ text: String, _ context: QuillRequestContext) async throws -> RunID {
        guard let id = RunID(text) else { throw Self.runNotFound(text) }
        do {
            return try await api.authorization.readableRunID(id, context.caller)
        } catch let error as QuillError where error.code == .notFound {
            throw Self.runNotFound(text)
        }
    }
}
