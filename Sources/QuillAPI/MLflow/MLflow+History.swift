// MLflow's metric-history endpoints and the small endpoints the client calls around logging (`logged-models/
// search`, `runs/outputs`), as MLflow 3's server writes them (`mlflow/protos/service.proto`). Requests of GET
// endpoints come from the query string and are read by the server's routes; the bodies of POST endpoints and
// every response are here. See Docs/MLflow.md.

/// The answer of `GET metrics/get-history`: one page of a metric's points, in MLflow's order (time, then step,
/// then value), and the token of the next page when there is one. An empty page is written `{}`.
package struct MLflowMetricHistory: Codable, Sendable, Hashable {
    /// The points of this page; left out when there are none.
    @OmittedWhenNil package var metrics: [MLflowMetric]?
    /// The token that asks for the next page; left out on the last page.
    @OmittedWhenNil package var nextPageToken: String?

    enum CodingKeys: String, CodingKey {
        case metrics
        case nextPageToken = "next_page_token"
    }

    /// A page.
    package init(metrics: [MLflowMetric], nextPageToken: String?) {
        self.metrics = metrics.isEmpty ? nil : metrics
        self.nextPageToken = nextPageToken
    }
}

/// A metric's point with the run it belongs to, as `metrics/get-history-bulk-interval` writes it.
package struct MLflowMetricWithRunID: Codable, Sendable, Hashable {
    /// The metric's name.
    package var key: String
    /// The value; NaN and infinities travel as `"NaN"`, `"Infinity"`, `"-Infinity"`.
    package var value: Double
    /// Milliseconds since 1970.
    package var timestamp: MLflowInt64
    /// The step (0 when none was given).
    package var step: MLflowInt64
    /// The run.
    package var runID: String

    enum CodingKeys: String, CodingKey {
        case key, value, timestamp, step
        case runID = "run_id"
    }

    /// A point of a run.
    package init(key: String, value: Double, timestamp: MLflowInt64, step: MLflowInt64, runID: String) {
        self.key = key
        self.value = value
        self.timestamp = timestamp
        self.step = step
        self.runID = runID
    }
}

/// The answer of `GET metrics/get-history-bulk-interval`: a sample of each run's points, run after run, each
/// run's in step order. No point at all is written `{}`.
package struct MLflowMetricHistoryBulkInterval: Codable, Sendable, Hashable {
    /// The points; left out when there are none.
    @OmittedWhenNil package var metrics: [MLflowMetricWithRunID]?

    enum CodingKeys: String, CodingKey {
        case metrics
    }

    /// An answer.
    package init(metrics: [MLflowMetricWithRunID]) {
        self.metrics = metrics.isEmpty ? nil : metrics
    }
}

/// The body of `POST logged-models/search`. Quill keeps no logged models, so the answer is always `{}`; the
/// body is still checked as MLflow checks it (`experiment_ids` is required).
package struct MLflowSearchLoggedModels: Codable, Sendable, Hashable {
    /// The experiments to search; required.
    package var experimentIDs: [String]?
    /// MLflow's filter (read past).
    package var filter: String?
    /// The page size (read past).
    package var maxResults: MLflowInt64?
    /// The page token (read past).
    package var pageToken: String?

    enum CodingKeys: String, CodingKey {
        case experimentIDs = "experiment_ids"
        case filter
        case maxResults = "max_results"
        case pageToken = "page_token"
    }

    /// A search.
    package init(experimentIDs: [String]?) {
        self.experimentIDs = experimentIDs
    }
}

/// The body of `POST runs/outputs`: models a run produced. Quill keeps no logged models, so the request is
/// accepted (for a run the caller may write) and answered `{}`.
package struct MLflowLogOutputs: Codable, Sendable, Hashable {
    /// The run; required.
    package var runID: String?
    /// The models (read past); required, as MLflow requires it.
    package var models: [MLflowModelOutput]?

    enum CodingKeys: String, CodingKey {
        case runID = "run_id"
        case models
    }

    /// A request.
    package init(runID: String?, models: [MLflowModelOutput]?) {
        self.runID = runID
        self.models = models
    }
}

/// A model a run produced, in `runs/outputs`.
package struct MLflowModelOutput: Codable, Sendable, Hashable {
    /// The logged model's id.
    package var modelID: String?
    /// The step it was produced at.
    package var step: MLflowInt64?

    enum CodingKeys: String, CodingKey {
        case modelID = "model_id"
        case step
    }

    /// An output.
    package init(modelID: String?, step: MLflowInt64?) {
        self.modelID = modelID
        self.step = step
    }
}
