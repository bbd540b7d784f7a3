package import QuillCore

extension RunDetails {
    /// The details of runs, in their order, from the rows of their tables by run id: both stores read the
    /// tables in one query each for a whole page, and put the page together here.
    package static func page(
        _ runs: [StoredRun],
        params: [String: [String: JSONValue]],
        tags: [String: [String: String]],
        links: [String: [RunLink]],
        metrics: [String: [String: MetricStatistics]]
    ) -> [RunDetails] {
        runs.map { run in
            let id = run.id.rawValue
            return RunDetails(
                run: run,
                params: params[id] ?? [:],
                tags: tags[id] ?? [:],
                links: links[id] ?? [],
                metrics: metrics[id] ?? [:]
            )
        }
    }
}
