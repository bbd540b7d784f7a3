import Hummingbird

extension MLflowRoutes {
    /// `metrics/get-history` (with pages), `metrics/get-history-bulk-interval`, `logged-models/search`.
    func registerHistory(_ table: MLflowRouteTable) {}
}
