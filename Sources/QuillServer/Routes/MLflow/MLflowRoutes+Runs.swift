import Hummingbird

extension MLflowRoutes {
    /// `runs/…` except search: create, get, update, delete, restore, log-parameter, log-metric, log-batch,
    /// set-tag, delete-tag, log-inputs.
    func registerRuns(_ table: MLflowRouteTable) {}
}
