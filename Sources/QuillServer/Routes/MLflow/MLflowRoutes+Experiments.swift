import Hummingbird

extension MLflowRoutes {
    /// `experiments/…`: get-by-name, create, get, search, delete, restore, update, set-experiment-tag.
    func registerExperiments(_ table: MLflowRouteTable) {}
}
