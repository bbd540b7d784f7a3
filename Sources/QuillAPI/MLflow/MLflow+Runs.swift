import Foundation

// The requests and answers of MLflow's `runs/…` endpoints (`mlflow/protos/service.proto`, MLflow 3). Every
// request member is optional here, so the server answers a missing one in MLflow's words; unknown members are
// ignored (no `CaseIterable` coding keys). A run is named by `run_id` or by its older name `run_uuid`. See
// Docs/MLflow.md.

/// `POST runs/create`.
package struct MLflowCreateRun: Codable, Sendable, Hashable {
    /// The experiment (`"0"`, the `Default` experiment, when absent).
    package var experimentID: String?
    /// Who runs it (kept in single-user mode; a server with users records the caller).
    package var userID: String?
    /// When it started, in milliseconds since 1970 (now when absent).
    package var startTime: MLflowInt64?
    /// Tags to set (`mlflow.runName` names the run).
    package var tags: [MLflowKeyValue]?
    /// The run's name (a generated one when absent).
    package var runName: String?

    enum CodingKeys: String, CodingKey {
        case experimentID = "experiment_id"
        case userID = "user_id"
        case startTime = "start_time"
        case tags
        case runName = "run_name"
    }

    /// A request.
    package init(
        experimentID: String?,
        userID: String? = nil,
        startTime: MLflowInt64? = nil,
        tags: [MLflowKeyValue]? = nil,
        runName: String? = nil
    ) {
        self.experimentID = experimentID
        self.userID = userID
        self.startTime = startTime
        self.tags = tags
        self.runName = runName
    }
}

/// The answer of `runs/create` and `runs/get`.
package struct MLflowRunResponse: Codable, Sendable, Hashable {
    /// The run.
    package var run: MLflowRun

    enum CodingKeys: String, CodingKey {
        case run
    }

    /// An answer.
    package init(run: MLflowRun) {
        self.run = run
    }
}

/// A request that names a run: `runs/delete`, `runs/restore`, `runs/log-inputs` (whose datasets Quill does not
/// record), and the query of `GET runs/get`.
package struct MLflowRunIDRequest: Codable, Sendable, Hashable {
    /// The run's id.
    package var runID: String?
    /// The run's id, by its older name.
    package var runUUID: String?

    enum CodingKeys: String, CodingKey {
        case runID = "run_id"
        case runUUID = "run_uuid"
    }

    /// A request.
    package init(runID: String?, runUUID: String? = nil) {
        self.runID = runID
        self.runUUID = runUUID
    }
}

/// `POST runs/update`: status, end time, name.
package struct MLflowUpdateRun: Codable, Sendable, Hashable {
    /// The run's id.
    package var runID: String?
    /// The run's id, by its older name.
    package var runUUID: String?
    /// A new status.
    package var status: MLflowRunStatus?
    /// When it ended, in milliseconds since 1970.
    package var endTime: MLflowInt64?
    /// A new name (also its `mlflow.runName` tag).
    package var runName: String?

    enum CodingKeys: String, CodingKey {
        case runID = "run_id"
        case runUUID = "run_uuid"
        case status
        case endTime = "end_time"
        case runName = "run_name"
    }

    /// A request.
    package init(
        runID: String?,
        status: MLflowRunStatus? = nil,
        endTime: MLflowInt64? = nil,
        runName: String? = nil
    ) {
        self.runID = runID
        self.status = status
        self.endTime = endTime
        self.runName = runName
    }
}

/// The answer of `runs/update`: the run's information after the change.
package struct MLflowUpdateRunResponse: Codable, Sendable, Hashable {
    /// The run's information.
    package var runInfo: MLflowRunInfo

    enum CodingKeys: String, CodingKey {
        case runInfo = "run_info"
    }

    /// An answer.
    package init(runInfo: MLflowRunInfo) {
        self.runInfo = runInfo
    }
}

/// The body of `POST runs/log-parameter` and `POST runs/set-tag`: a key and a value for one run.
package struct MLflowRunKeyValue: Codable, Sendable, Hashable {
    /// The run's id.
    package var runID: String?
    /// The run's id, by its older name.
    package var runUUID: String?
    /// The param's or tag's name (required).
    package var key: String?
    /// Its value (empty when absent).
    package var value: String?

    enum CodingKeys: String, CodingKey {
        case runID = "run_id"
        case runUUID = "run_uuid"
        case key, value
    }

    /// A request.
    package init(runID: String?, key: String?, value: String?) {
        self.runID = runID
        self.key = key
        self.value = value
    }
}

/// `POST runs/log-parameter`.
package typealias MLflowLogParam = MLflowRunKeyValue

/// `POST runs/set-tag` (the key `mlflow.runName` renames the run).
package typealias MLflowSetTag = MLflowRunKeyValue

/// `POST runs/log-metric`: one value.
package struct MLflowLogMetric: Codable, Sendable, Hashable {
    /// The run's id.
    package var runID: String?
    /// The run's id, by its older name.
    package var runUUID: String?
    /// The metric's name (required).
    package var key: String?
    /// The value (required); NaN and infinities as `"NaN"`, `"Infinity"`, `"-Infinity"`.
    package var value: MLflowDouble?
    /// When it was logged, in milliseconds since 1970 (required).
    package var timestamp: MLflowInt64?
    /// The step (0 when absent).
    package var step: MLflowInt64?

    enum CodingKeys: String, CodingKey {
        case runID = "run_id"
        case runUUID = "run_uuid"
        case key, value, timestamp, step
    }

    /// A request.
    package init(
        runID: String?,
        key: String?,
        value: MLflowDouble?,
        timestamp: MLflowInt64?,
        step: MLflowInt64? = nil
    ) {
        self.runID = runID
        self.key = key
        self.value = value
        self.timestamp = timestamp
        self.step = step
    }
}

/// One metric value of a `runs/log-batch` request: `key`, `value` and `timestamp` are required, `step` is 0
/// when absent.
package struct MLflowBatchMetric: Codable, Sendable, Hashable {
    /// The metric's name.
    package var key: String?
    /// The value.
    package var value: MLflowDouble?
    /// When it was logged, in milliseconds since 1970.
    package var timestamp: MLflowInt64?
    /// The step.
    package var step: MLflowInt64?

    enum CodingKeys: String, CodingKey {
        case key, value, timestamp, step
    }

    /// A value.
    package init(key: String?, value: MLflowDouble?, timestamp: MLflowInt64?, step: MLflowInt64? = nil) {
        self.key = key
        self.value = value
        self.timestamp = timestamp
        self.step = step
    }
}

/// `POST runs/log-batch`: at most 1,000 metrics, 100 params and 100 tags, 1,000 items in all.
package struct MLflowLogBatch: Codable, Sendable, Hashable {
    /// The run's id (required).
    package var runID: String?
    /// Metric values.
    package var metrics: [MLflowBatchMetric]?
    /// Params (a param already logged with another value refuses the batch).
    package var params: [MLflowKeyValue]?
    /// Tags (`mlflow.runName` renames the run).
    package var tags: [MLflowKeyValue]?

    enum CodingKeys: String, CodingKey {
        case runID = "run_id"
        case metrics, params, tags
    }

    /// A request.
    package init(
        runID: String?,
        metrics: [MLflowBatchMetric]? = nil,
        params: [MLflowKeyValue]? = nil,
        tags: [MLflowKeyValue]? = nil
    ) {
        self.runID = runID
        self.metrics = metrics
        self.params = params
        self.tags = tags
    }
}

/// `POST runs/delete-tag`.
package struct MLflowDeleteTag: Codable, Sendable, Hashable {
    /// The run's id (required).
    package var runID: String?
    /// The tag's key (required).
    package var key: String?

    enum CodingKeys: String, CodingKey {
        case runID = "run_id"
        case key
    }

    /// A request.
    package init(runID: String?, key: String?) {
        self.runID = runID
        self.key = key
    }
}

/// `POST runs/search`.
package struct MLflowSearchRuns: Codable, Sendable, Hashable {
    /// The experiments to search in.
    package var experimentIDs: [String]?
    /// MLflow's run filter (`metrics.loss < 0.5 AND params.lr = '0.1'`).
    package var filter: String?
    /// Active, deleted or all runs (active by default).
    package var runViewType: MLflowViewType?
    /// The most runs in one page (default 1,000, at most 50,000).
    package var maxResults: MLflowInt64?
    /// Orderings, e.g. `["metrics.loss ASC", "attributes.start_time DESC"]`.
    package var orderBy: [String]?
    /// Where the previous page ended.
    package var pageToken: String?

    enum CodingKeys: String, CodingKey {
        case experimentIDs = "experiment_ids"
        case filter
        case runViewType = "run_view_type"
        case maxResults = "max_results"
        case orderBy = "order_by"
        case pageToken = "page_token"
    }

    /// A request.
    package init(
        experimentIDs: [String]?,
        filter: String? = nil,
        runViewType: MLflowViewType? = nil,
        maxResults: MLflowInt64? = nil,
        orderBy: [String]? = nil,
        pageToken: String? = nil
    ) {
        self.experimentIDs = experimentIDs
        self.filter = filter
        self.runViewType = runViewType
        self.maxResults = maxResults
        self.orderBy = orderBy
        self.pageToken = pageToken
    }
}

/// The answer of `runs/search`: a page of runs (`{}` when there are none) and the token of the next.
package struct MLflowSearchRunsResponse: Codable, Sendable, Hashable {
    /// The runs of this page; left out when none.
    @OmittedWhenNil package var runs: [MLflowRun]?
    /// The token of the next page; left out on the last page.
    @OmittedWhenNil package var nextPageToken: String?

    enum CodingKeys: String, CodingKey {
        case runs
        case nextPageToken = "next_page_token"
    }

    /// An answer.
    package init(runs: [MLflowRun]?, nextPageToken: String?) {
        self.runs = runs
        self.nextPageToken = nextPageToken
    }
}

/// An MLflow `double` request field: a JSON number, `"NaN"`, `"Infinity"`, `"-Infinity"`, or a number written
/// as a string, as protobuf's JSON parser reads it.
package struct MLflowDouble: Codable, Sendable, Hashable {
    /// The value.
    package var value: Double

    /// A value.
    package init(_ value: Double) {
        self.value = value
    }

    /// Reads a number or a string holding one.
    package init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Double.self) {
            value = number
            return
        }
        if let text = try? container.decode(String.self), let number = Double(text.trimmingCharacters(in: .whitespaces))
        {
            value = number
            return
        }
        throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected a number")
    }

    /// Writes a JSON number (NaN and infinities as the encoder writes them).
    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}
