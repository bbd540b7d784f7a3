import Foundation
import HTTPTypes
import Hummingbird
import QuillAPI
import QuillCore
import QuillStore

/// MLflow's tracking REST API over Quill's stores, so MLflow's Python client (`MLFLOW_TRACKING_URI` pointed at
/// `quill serve`) logs and reads unchanged. An MLflow experiment is a Quill project and an MLflow run a Quill
/// run: what is logged either way shows both ways. Shapes, codes and statuses are MLflow 3's; see
/// Docs/MLflow.md.
///
/// Paths: `/api/2.0/mlflow/…` and its alias `/ajax-api/2.0/mlflow/…` (tracking), `/api/2.0/mlflow-artifacts/…`
/// (proxied artifacts) and `/api/3.0/mlflow/server-info`. Each concern registers its routes in its own file
/// (`MLflowRoutes+Experiments.swift`, `+Runs.swift`, `+Search.swift`, `+History.swift`, `+Artifacts.swift`).
struct MLflowRoutes: Sendable {
    let api: APIContext
    /// Artifact records.
    let artifacts: any ArtifactStore
    /// Artifact bytes.
    let blobs: any BlobStore
    /// The one artifact upload path (streams a body into the blob store, checking limits and quotas).
    let uploads: ArtifactUploads

    func register(_ router: Router<QuillRequestContext>) {
        let authentication = PeerClientAuthMiddleware(authenticator: api.authorization.authenticator)
        func group(_ prefix: String) -> RouterGroup<QuillRequestContext> {
            router.group(RouterPath(prefix)).add(middleware: MLflowErrorMiddleware()).add(middleware: authentication)
        }
        let tracking = MLflowRouteTable(groups: [group("api/2.0/mlflow"), group("ajax-api/2.0/mlflow")])
        registerExperiments(tracking)
        registerRuns(tracking)
        registerSearch(tracking)
        registerHistory(tracking)
        registerArtifactListing(tracking)
        tracking.finish()

        let proxied = MLflowRouteTable(groups: [
            group("api/2.0/mlflow-artifacts"), group("ajax-api/2.0/mlflow-artifacts"),
        ])
        registerProxiedArtifacts(proxied)
        proxied.finish()

        let version3 = MLflowRouteTable(groups: [group("api/3.0/mlflow"), group("ajax-api/3.0/mlflow")])
        version3.add("server-info", .get) { _, _ in try JSONResponse.make(MLflowServerInfo()) }
        version3.finish()
    }
}
