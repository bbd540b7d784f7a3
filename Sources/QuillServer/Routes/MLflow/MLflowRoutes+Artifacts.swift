import Hummingbird

extension MLflowRoutes {
    /// `artifacts/list` under the tracking prefix.
    func registerArtifactListing(_ table: MLflowRouteTable) {}

    /// The proxied-artifact API under `/api/2.0/mlflow-artifacts`: `artifacts/{path}` upload (PUT) and
    /// download (GET), and `artifacts?path=` listing.
    func registerProxiedArtifacts(_ table: MLflowRouteTable) {}
}
