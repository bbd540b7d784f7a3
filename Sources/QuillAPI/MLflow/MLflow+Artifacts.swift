// The listings of MLflow's artifact endpoints, as MLflow 3's server writes them: the proxied-artifact API
// (`GET /api/2.0/mlflow-artifacts/artifacts?path=`) and the tracking API (`GET /api/2.0/mlflow/artifacts/
// list`). Uploads and downloads are raw bytes, with no wire type. See Docs/MLflow.md.

/// The answer of `GET mlflow-artifacts/artifacts?path=<experiment_id>/<run_id>/artifacts/<folder>`: one level
/// of a folder, each entry named by its last component. A file, or a folder that does not exist, is `{}`.
package struct MLflowArtifactListing: Codable, Sendable, Hashable {
    /// The entries, ordered by name; left out when there are none.
    @OmittedWhenNil package var files: [MLflowFileInfo]?

    enum CodingKeys: String, CodingKey {
        case files
    }

    /// A listing.
    package init(files: [MLflowFileInfo]) {
        self.files = files.isEmpty ? nil : files
    }
}

/// The answer of `GET artifacts/list?run_id=&path=`: where the run's artifacts are, and one level of a folder
/// with each entry's path relative to the run's artifact root. A file, or a folder that does not exist, lists
/// nothing (`{"root_uri": …}`).
package struct MLflowRunArtifactListing: Codable, Sendable, Hashable {
    /// The run's artifact root, e.g. `mlflow-artifacts:/1/<run id>/artifacts`.
    package var rootURI: String
    /// The entries, ordered by path; left out when there are none.
    @OmittedWhenNil package var files: [MLflowFileInfo]?
    /// Never set: a listing is one page.
    @OmittedWhenNil package var nextPageToken: String?

    enum CodingKeys: String, CodingKey {
        case rootURI = "root_uri"
        case files
        case nextPageToken = "next_page_token"
    }

    /// A listing.
    package init(rootURI: String, files: [MLflowFileInfo]) {
        self.rootURI = rootURI
        self.files = files.isEmpty ? nil : files
        self.nextPageToken = nil
    }
}
