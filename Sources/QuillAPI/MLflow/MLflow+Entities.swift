// MLflow's entities as its REST API writes them (`mlflow/protos/service.proto`, MLflow 3): snake_case members,
// int64 times in milliseconds, unset members left out. Requests and responses of each endpoint are in the
// `MLflow+<Concern>.swift` files beside this one; every type here is used by the server's routes, the import
// from an MLflow server and the tests alike. See Docs/MLflow.md.

/// A run's status.
package enum MLflowRunStatus: String, Codable, Sendable, Hashable, CaseIterable {
    /// Logging.
    case running = "RUNNING"
    /// Waiting to start (a queued Quill job).
    case scheduled = "SCHEDULED"
    /// Ended well.
    case finished = "FINISHED"
    /// Ended badly (a Quill run that failed or crashed).
    case failed = "FAILED"
    /// Stopped.
    case killed = "KILLED"
}

/// A key and value (experiment tags, run tags, params).
package struct MLflowKeyValue: Codable, Sendable, Hashable {
    /// The key.
    package var key: String
    /// The value (MLflow's client sends a missing value as absent: read as empty).
    package var value: String

    enum CodingKeys: String, CodingKey {
        case key, value
    }

    /// A pair.
    package init(key: String, value: String) {
        self.key = key
        self.value = value
    }

    /// Reads a pair; a missing `value` is the empty string, as protobuf reads it.
    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        key = try container.decode(String.self, forKey: .key)
        value = try container.decodeIfPresent(String.self, forKey: .value) ?? ""
    }
}

/// An experiment: a Quill project.
package struct MLflowExperiment: Codable, Sendable, Hashable {
    /// The id, a decimal string (`"0"` is the `Default` experiment).
    package var experimentID: String
    /// The name.
    package var name: String
    /// Where its runs' artifacts go, e.g. `mlflow-artifacts:/1`.
    package var artifactLocation: String
    /// `active` or `deleted`.
    package var lifecycleStage: String
    /// Milliseconds since 1970.
    @OmittedWhenNil package var lastUpdateTime: MLflowInt64?
    /// Milliseconds since 1970.
    @OmittedWhenNil package var creationTime: MLflowInt64?
    /// Its tags; left out when there are none.
    @OmittedWhenNil package var tags: [MLflowKeyValue]?

    enum CodingKeys: String, CodingKey {
        case experimentID = "experiment_id"
        case name
        case artifactLocation = "artifact_location"
        case lifecycleStage = "lifecycle_stage"
        case lastUpdateTime = "last_update_time"
        case creationTime = "creation_time"
        case tags
    }

    /// An experiment.
    package init(
        experimentID: String,
        name: String,
        artifactLocation: String,
        lifecycleStage: String,
        lastUpdateTime: MLflowInt64?,
        creationTime: MLflowInt64?,
        tags: [MLflowKeyValue]?
    ) {
        self.experimentID = experimentID
        self.name = name
        self.artifactLocation = artifactLocation
        self.lifecycleStage = lifecycleStage
        self.lastUpdateTime = lastUpdateTime
        self.creationTime = creationTime
        self.tags = tags
    }
}

/// One value of a metric.
package struct MLflowMetric: Codable, Sendable, Hashable {
    /// The metric's name.
    package var key: String
    /// The value; NaN and infinities travel as `"NaN"`, `"Infinity"`, `"-Infinity"`.
    package var value: Double
    /// Milliseconds since 1970.
    package var timestamp: MLflowInt64
    /// The step (0 when none was given).
    package var step: MLflowInt64

    enum CodingKeys: String, CodingKey {
        case key, value, timestamp, step
    }

    /// A value.
    package init(key: String, value: Double, timestamp: MLflowInt64, step: MLflowInt64) {
        self.key = key
        self.value = value
        self.timestamp = timestamp
        self.step = step
    }
}

/// What a run is and where it stands.
package struct MLflowRunInfo: Codable, Sendable, Hashable {
    /// The run's id.
    package var runID: String
    /// The same id (MLflow's older name for it).
    package var runUUID: String
    /// The run's name (also its `mlflow.runName` tag).
    package var runName: String
    /// Its experiment.
    package var experimentID: String
    /// Who ran it.
    @OmittedWhenNil package var userID: String?
    /// Its status.
    package var status: MLflowRunStatus
    /// Milliseconds since 1970.
    @OmittedWhenNil package var startTime: MLflowInt64?
    /// Milliseconds since 1970, once ended.
    @OmittedWhenNil package var endTime: MLflowInt64?
    /// Where its artifacts are, e.g. `mlflow-artifacts:/1/<run id>/artifacts`.
    package var artifactURI: String
    /// `active` or `deleted`.
    package var lifecycleStage: String

    enum CodingKeys: String, CodingKey {
        case runID = "run_id"
        case runUUID = "run_uuid"
        case runName = "run_name"
        case experimentID = "experiment_id"
        case userID = "user_id"
        case status
        case startTime = "start_time"
        case endTime = "end_time"
        case artifactURI = "artifact_uri"
        case lifecycleStage = "lifecycle_stage"
    }

    /// A run's information.
    package init(
        runID: String,
        runName: String,
        experimentID: String,
        userID: String?,
        status: MLflowRunStatus,
        startTime: MLflowInt64?,
        endTime: MLflowInt64?,
        artifactURI: String,
        lifecycleStage: String
    ) {
        self.runID = runID
        self.runUUID = runID
        self.runName = runName
        self.experimentID = experimentID
        self.userID = userID
        self.status = status
        self.startTime = startTime
        self.endTime = endTime
        self.artifactURI = artifactURI
        self.lifecycleStage = lifecycleStage
    }
}

/// What a run logged: each metric's latest value, params and tags; each left out when empty.
package struct MLflowRunData: Codable, Sendable, Hashable {
    /// The latest value of each metric.
    @OmittedWhenNil package var metrics: [MLflowMetric]?
    /// Params.
    @OmittedWhenNil package var params: [MLflowKeyValue]?
    /// Tags.
    @OmittedWhenNil package var tags: [MLflowKeyValue]?

    enum CodingKeys: String, CodingKey {
        case metrics, params, tags
    }

    /// A run's data.
    package init(metrics: [MLflowMetric]?, params: [MLflowKeyValue]?, tags: [MLflowKeyValue]?) {
        self.metrics = metrics
        self.params = params
        self.tags = tags
    }
}

/// A run: its information and data (`inputs` is written empty: Quill records no datasets).
package struct MLflowRun: Codable, Sendable, Hashable {
    /// What the run is.
    package var info: MLflowRunInfo
    /// What it logged.
    package var data: MLflowRunData
    /// Its inputs: always `{}`.
    package var inputs: MLflowEmpty = MLflowEmpty()

    enum CodingKeys: String, CodingKey {
        case info, data, inputs
    }

    /// A run.
    package init(info: MLflowRunInfo, data: MLflowRunData) {
        self.info = info
        self.data = data
    }

    /// Reads a run; `inputs` may be missing or hold datasets (read past).
    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        info = try container.decode(MLflowRunInfo.self, forKey: .info)
        data =
            try container.decodeIfPresent(MLflowRunData.self, forKey: .data)
            ?? MLflowRunData(metrics: nil, params: nil, tags: nil)
    }
}

/// A file or folder in an artifact listing.
package struct MLflowFileInfo: Codable, Sendable, Hashable {
    /// The path, relative to the run's artifact root.
    package var path: String
    /// Whether it is a folder.
    package var isDir: Bool
    /// Its size in bytes; left out for a folder.
    @OmittedWhenNil package var fileSize: MLflowInt64?

    enum CodingKeys: String, CodingKey {
        case path
        case isDir = "is_dir"
        case fileSize = "file_size"
    }

    /// An entry.
    package init(path: String, isDir: Bool, fileSize: MLflowInt64?) {
        self.path = path
        self.isDir = isDir
        self.fileSize = fileSize
    }
}

/// An empty object, `{}`: the answer of MLflow's write endpoints.
package struct MLflowEmpty: Codable, Sendable, Hashable {
    /// `{}`.
    package init() {}

    /// Reads any object (unknown members are ignored).
    package init(from decoder: any Decoder) throws {}

    /// Writes `{}`.
    package func encode(to encoder: any Encoder) throws {
        _ = encoder.container(keyedBy: EmptyKeys.self)
    }

    private enum EmptyKeys: CodingKey {}
}
