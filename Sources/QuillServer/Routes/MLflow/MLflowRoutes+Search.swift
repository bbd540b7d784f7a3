import Hummingbird

extension MLflowRoutes {
    /// `runs/search`: MLflow's filter grammar, `order_by`, page tokens and run view types.
    func registerSearch(_ table: MLflowRouteTable) {}
}
