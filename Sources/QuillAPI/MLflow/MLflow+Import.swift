// The requests and pages `quill import mlflow http://…` uses to read a running MLflow server (MLflow 3's
// `service.proto`): experiment and run searches over every lifecycle stage, metric history pages and artifact
// listings. Written for the import before the routes' own request types landed; where those cover the same
// endpoint, one of the two should go.

/// `POST /api/2.0/mlflow/experiments/search`, as the import sends it: every experiment, a page at a time.
package struct MLflowImportExperimentSearch: Codable, Sendable, Hashable {
    /// The largest page.
    package var maxResults: MLflowInt64
    /// `ACTIVE_ONLY`, `DELETED_ONLY` or `ALL`.
    package var viewType: String
    /// Where the previous page ended.
    @OmittedWhenNil package var pageToken: String?

    enum CodingKeys: String, CodingKey {
        case maxResults = "max_results"
        case viewType = "view_type"
        case pageToken = "page_token"
    }

    /// A search of every experiment.
    package init(maxResults: Int64, viewType: String = "ALL", pageToken: String?) {
        self.maxResults = MLflowInt64(maxResults)
        self.viewType = viewType
        self.pageToken = pageToken
    }
}

/// A page of experiments.
package struct MLflowImportExperimentPage: Codable, Sendable, Hashable {
    /// The experiments (left out when none).
    @OmittedWhenNil package var experiments: [MLflowExperiment]?
    /// The next page, or `nil` on the last.
    @OmittedWhenNil package var nextPageToken: String?

    enum CodingKeys: String, CodingKey {
        case experiments
        case nextPageToken = "next_page_token"
    }
}

/// `POST /api/2.0/mlflow/runs/search`, as the import sends it: every run of some experiments, a page at a time.
package struct MLflowImportRunSearch: Codable, Sendable, Hashable {
    /// The experiments.
    package var experimentIDs: [String]
    /// `ACTIVE_ONLY`, `DELETED_ONLY` or `ALL`.
    package var runViewType: String
    /// The largest page.
    package var maxResults: MLflowInt64
    /// Where the previous page ended.
    @OmittedWhenNil package var pageToken: String?

    enum CodingKeys: String, CodingKey {
        case experimentIDs = "experiment_ids"
        case runViewType = "run_view_type"
        case maxResults = "max_results"
        case pageToken = "page_token"
    }

    /// A search of every run of `experimentIDs`.
    package init(experimentIDs: [String], maxResults: Int64, runViewType: String = "ALL", pageToken: String?) {
        self.experimentIDs = experimentIDs
        self.runViewType = runViewType
        self.maxResults = MLflowInt64(maxResults)
        self.pageToken = pageToken
    }
}

/// A page of runs.
package struct MLflowImportRunPage: Codable, Sendable, Hashable {
    /// The runs (left out when none).
    @OmittedWhenNil package var runs: [MLflowRun]?
    /// The next page, or `nil` on the last.
    @OmittedWhenNil package var nextPageToken: String?

    enum CodingKeys: String, CodingKey {
        case runs
        case nextPageToken = "next_page_token"
    }
}

/// A page of `GET /api/2.0/mlflow/metrics/get-history`.
package struct MLflowImportHistoryPage: Codable, Sendable, Hashable {
    /// The points (left out when none).
    @OmittedWhenNil package var metrics: [MLflowMetric]?
    /// The next page, or `nil` on the last.
    @OmittedWhenNil package var nextPageToken: String?

    enum CodingKeys: String, CodingKey {
        case metrics
        case nextPageToken = "next_page_token"
    }
}

/// A page of `GET /api/2.0/mlflow/artifacts/list`.
package struct MLflowImportArtifactPage: Codable, Sendable, Hashable {
    /// The run's artifact root.
    @OmittedWhenNil package var rootURI: String?
    /// The folder's entries (left out when none).
    @OmittedWhenNil package var files: [MLflowImportFileInfo]?
    /// The next page, or `nil` on the last.
    @OmittedWhenNil package var nextPageToken: String?

    enum CodingKeys: String, CodingKey {
        case rootURI = "root_uri"
        case files
        case nextPageToken = "next_page_token"
    }
}

/// An entry of an artifact listing as MLflow's server writes it (`is_dir` and `file_size` may be left out).
package struct MLflowImportFileInfo: Codable, Sendable, Hashable {
    /// The path, relative to the run's artifact root.
    package var path: String
    /// Whether it is a folder (`false` when left out).
    @OmittedWhenNil package var isDir: Bool?
    /// Its size in bytes.
    @OmittedWhenNil package var fileSize: MLflowInt64?

    enum CodingKeys: String, CodingKey {
        case path
        case isDir = "is_dir"
        case fileSize = "file_size"
    }
}
