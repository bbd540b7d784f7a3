// The requests and answers of MLflow's `experiments/…` endpoints (`mlflow/protos/service.proto`, MLflow 3). Every
// request member is optional here, so the server answers a missing one in MLflow's words (`Missing value for
// required parameter 'name'.`) instead of a decoding error; unknown members are ignored (no `CaseIterable`
// coding keys). See Docs/MLflow.md.

/// Which experiments or runs a search sees, by lifecycle stage: `ACTIVE_ONLY` (1), `DELETED_ONLY` (2) or `ALL`
/// (3), read from the name or the number as protobuf's JSON parser reads an enum.
package enum MLflowViewType: String, Codable, Sendable, Hashable, CaseIterable {
    /// Active ones only (the default).
    case activeOnly = "ACTIVE_ONLY"
    /// Deleted ones only.
    case deletedOnly = "DELETED_ONLY"
    /// Both.
    case all = "ALL"

    /// Reads the name or its number.
    package init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int.self) {
            guard let known = Self(number: number) else {
                throw DecodingError.dataCorruptedError(
                    in: container,
                    debugDescription: "expected ACTIVE_ONLY, DELETED_ONLY or ALL"
                )
            }
            self = known
            return
        }
        let text = try container.decode(String.self)
        guard let known = MLflowViewType(rawValue: text) ?? Int(text).flatMap(Self.init(number:)) else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "expected ACTIVE_ONLY, DELETED_ONLY or ALL"
            )
        }
        self = known
    }

    /// The stage of a protobuf enum number, or `nil`.
    package init?(number: Int) {
        switch number {
        case 1: self = .activeOnly
        case 2: self = .deletedOnly
        case 3: self = .all
        default: return nil
        }
    }
}

/// `POST experiments/create`.
package struct MLflowCreateExperiment: Codable, Sendable, Hashable {
    /// The name (required).
    package var name: String?
    /// Where its runs' artifacts go; Quill keeps it and shows it back (see Docs/MLflow.md).
    package var artifactLocation: String?
    /// Tags to set.
    package var tags: [MLflowKeyValue]?

    enum CodingKeys: String, CodingKey {
        case name
        case artifactLocation = "artifact_location"
        case tags
    }

    /// A request.
    package init(name: String?, artifactLocation: String? = nil, tags: [MLflowKeyValue]? = nil) {
        self.name = name
        self.artifactLocation = artifactLocation
        self.tags = tags
    }
}

/// The answer of `experiments/create`: the new experiment's id.
package struct MLflowCreateExperimentResponse: Codable, Sendable, Hashable {
    /// The id, a decimal string.
    package var experimentID: String

    enum CodingKeys: String, CodingKey {
        case experimentID = "experiment_id"
    }

    /// An answer.
    package init(experimentID: String) {
        self.experimentID = experimentID
    }
}

/// The answer of `experiments/get` and `experiments/get-by-name`.
package struct MLflowExperimentResponse: Codable, Sendable, Hashable {
    /// The experiment.
    package var experiment: MLflowExperiment

    enum CodingKeys: String, CodingKey {
        case experiment
    }

    /// An answer.
    package init(experiment: MLflowExperiment) {
        self.experiment = experiment
    }
}

/// `POST experiments/search` (also `GET` with the same members in the query string).
package struct MLflowSearchExperiments: Codable, Sendable, Hashable {
    /// The most experiments in one page (default 1,000, at most 50,000).
    package var maxResults: MLflowInt64?
    /// MLflow's experiment filter (`name LIKE 'a%' AND tags.team = 'x'`).
    package var filter: String?
    /// Orderings, e.g. `["name ASC", "creation_time DESC"]`.
    package var orderBy: [String]?
    /// Where the previous page ended.
    package var pageToken: String?
    /// Active, deleted or all experiments (active by default).
    package var viewType: MLflowViewType?

    enum CodingKeys: String, CodingKey {
        case maxResults = "max_results"
        case filter
        case orderBy = "order_by"
        case pageToken = "page_token"
        case viewType = "view_type"
    }

    /// A request.
    package init(
        maxResults: MLflowInt64? = nil,
        filter: String? = nil,
        orderBy: [String]? = nil,
        pageToken: String? = nil,
        viewType: MLflowViewType? = nil
    ) {
        self.maxResults = maxResults
        self.filter = filter
        self.orderBy = orderBy
        self.pageToken = pageToken
        self.viewType = viewType
    }
}

/// The answer of `experiments/search`: a page of experiments (`{}` when there are none) and the token of the next.
package struct MLflowSearchExperimentsResponse: Codable, Sendable, Hashable {
    /// The experiments of this page; left out when none.
    @OmittedWhenNil package var experiments: [MLflowExperiment]?
    /// The token of the next page; left out on the last page.
    @OmittedWhenNil package var nextPageToken: String?

    enum CodingKeys: String, CodingKey {
        case experiments
        case nextPageToken = "next_page_token"
    }

    /// An answer.
    package init(experiments: [MLflowExperiment]?, nextPageToken: String?) {
        self.experiments = experiments
        self.nextPageToken = nextPageToken
    }
}

/// A request that names only an experiment: `GET experiments/get` (its query), `POST experiments/delete` and
/// `experiments/restore`.
package struct MLflowExperimentIDRequest: Codable, Sendable, Hashable {
    /// The experiment's id (required).
    package var experimentID: String?

    enum CodingKeys: String, CodingKey {
        case experimentID = "experiment_id"
    }

    /// A request.
    package init(experimentID: String?) {
        self.experimentID = experimentID
    }
}

/// `POST experiments/update`: renames an experiment.
package struct MLflowUpdateExperiment: Codable, Sendable, Hashable {
    /// The experiment's id (required).
    package var experimentID: String?
    /// Its new name (required).
    package var newName: String?

    enum CodingKeys: String, CodingKey {
        case experimentID = "experiment_id"
        case newName = "new_name"
    }

    /// A request.
    package init(experimentID: String?, newName: String?) {
        self.experimentID = experimentID
        self.newName = newName
    }
}

/// `POST experiments/set-experiment-tag`.
package struct MLflowSetExperimentTag: Codable, Sendable, Hashable {
    /// The experiment's id (required).
    package var experimentID: String?
    /// The tag's key (required).
    package var key: String?
    /// The tag's value (empty when absent).
    package var value: String?

    enum CodingKeys: String, CodingKey {
        case experimentID = "experiment_id"
        case key, value
    }

    /// A request.
    package init(experimentID: String?, key: String?, value: String?) {
        self.experimentID = experimentID
        self.key = key
        self.value = value
    }
}

/// `POST experiments/delete-experiment-tag`.
package struct MLflowDeleteExperimentTag: Codable, Sendable, Hashable {
    /// The experiment's id (required).
    package var experimentID: String?
    /// The tag's key (required).
    package var key: String?

    enum CodingKeys: String, CodingKey {
        case experimentID = "experiment_id"
        case key
    }

    /// A request.
    package init(experimentID: String?, key: String?) {
        self.experimentID = experimentID
        self.key = key
    }
}

/// `GET experiments/get-by-name`.
package struct MLflowGetExperimentByName: Codable, Sendable, Hashable {
    /// The experiment's name (required).
    package var experimentName: String?

    enum CodingKeys: String, CodingKey {
        case experimentName = "experiment_name"
    }

    /// A request.
    package init(experimentName: String?) {
        self.experimentName = experimentName
    }
}
