import Foundation
import QuillCore
package import QuillStore
import Testing

extension TrackingStoreConformance {
    /// Queries that cover every operator and every kind of field, with the awkward values (numeric text,
    /// NaN, infinities, booleans, null, non-NFC text, nested config, params over config).
    static let differentialQueries: [String] = [
        "params.lr = 0.01", "params.lr != 0.01", "params.lr in (0.01, 0.001)", "params.lr not in (0.01, 0.001)",
        "params.lr < 0.05", "params.lr <= 0.01", "params.lr > 0.001", "params.lr >= 0.01", "params.lr > '0.005'",
        "params.lr = '0.01'", "params.lr = nan", "params.lr != nan", "params.lr < inf", "params.lr = inf",
        "params.lr = 'NaN'", "params.lr < 'b'", "params.lr ~ '0.0*'", "params.lr in ('0.1', nan, null)",
        "params.optimizer.name = adam", "params.optimizer.name != 'adam'", "params.optimizer.name < 'b'",
        "params.optimizer.name >= 'Adam'", "params.optimizer.name ~ 'a*'", "params.optimizer.name !~ '*m'",
        "params.optimizer.name ~ '?d*'", "params.optimizer.name ~ '[as]*'", "params.optimizer.name = 'été'",
        "params.optimizer.name < 'f'", "config.optimizer.momentum > 0.5", "params.layers = 3", "params.layers = '3'",
        "params.layers > 2.5", "params.layers in (3, 4.0)", "params.flag = true", "params.flag = false",
        "params.flag != true", "params.flag = null", "params.flag ~ 't*'", "params.mixed = '10'", "params.mixed = 10",
        "params.mixed < 5", "params.mixed > 'abc'", "params.mixed = '[1,2]'", "params.mixed ~ '{*'",
        "params.mixed = abc", "params.mixed < 'Zz'", "params.missing = 1", "not params.missing = 1",
        "params.missing != 1", "params.seed > 10", "params.seed = '42'",
        "metrics.loss.min < 0.5", "metrics.loss < 0.5", "metrics.loss.latest > 0.2", "metrics.loss.max >= 1",
        "metrics.loss.count > 2", "metrics.loss.count = 1", "metrics.loss.latest = nan", "metrics.loss.min != 0.3",
        "metrics.loss.max = inf", "metrics.loss.min = -inf", "metrics.loss.max > '0.5'", "metrics.loss.max > 'abc'",
        "metrics.loss = null", "metrics.loss != true", "metrics.acc.max in (1, 2)", "metrics.acc.max not in (1, 2)",
        "metrics.loss ~ '0.*'", "metrics.loss !~ '*5'", "metrics.loss = '\"NaN\"'", "metrics.loss in ('x', 0.25)",
        "metrics.`val loss`.min < 0.4", "not metrics.loss.min < 0.5",
        "tags.team = vision", "tags.team != vision", "tags.team in (vision, nlp)", "tags.team not in (vision)",
        "tags.team ~ 'v*'", "tags.stage = 2", "tags.stage > 1", "tags.stage < '10'", "tags.stage = '02'",
        "tags.label = ''", "tags.label != ''",
        "summary.acc > 0.9", "summary.acc <= 0.5", "summary.best.epoch = 3", "summary.note ~ '*é*'",
        "summary.note = 'café'", "summary.note > 'c'", "summary.note = null",
        "status = completed", "status != running", "status in (failed, crashed)", "kind = training",
        "kind ~ 'dist*'", "name ~ 'run-1*'", "name < 'run-2'", "name = 'run-7'", "name > 100",
        "user = ada", "user = ''", "host ~ 'gpu*'", "host != 'gpu-1'",
        "created > '2023-11-14T22:13:25Z'", "created <= '2023-11-14T22:13:30.000000Z'",
        "created = '2023-11-14T22:13:21Z'", "created ~ '2023-*'", "created > 5", "created < 'z'", "created != 1",
        "created in ('2023-11-14T22:13:21Z', '2023-11-14T22:13:22Z')", "created = null",
        "duration > 10", "duration <= 30", "duration = null", "duration != 20", "project = p", "not project = p",
        "not (params.lr = 0.01 or tags.team = nlp)", "(status = completed or status = failed) and not tags.team = nlp",
        "params.lr in (0.01, 0.001) and metrics.loss.min < 0.5 or tags.team = \"vision\"",
        "params.optimizer.name like 'a%'", "params.optimizer.name ilike 'A_A%'", "params.optimizer.name like '%M'",
        "params.optimizer.name ilike '%M'", "params.optimizer.name ilike 'ÉTÉ'", "params.optimizer.name like '_t_'",
        "params.lr like '0.0%'", "params.lr ilike '%1'", "params.mixed like '[%'", "params.mixed like '%\\\\_%'",
        "params.flag like 't%'", "params.flag ilike 'TRUE'", "params.missing like '%'", "not params.lr like '%'",
        "tags.team ilike 'VIS%'", "tags.label like ''", "tags.stage like '0%'", "name like 'run-1_'",
        "name ilike 'RUN-%7'", "metrics.loss like '0.%'", "metrics.loss.count like '1'", "created like '2023-%'",
        "summary.note ilike '%É%'", "status like 'compl_ted'", "user ilike 'ADA'",
        "not tags.team like 'v%' and params.optimizer.name ilike 'a%'",
        // `or` of comparisons an index answers (narrowed by a union), nested in `and`, and with one that is not.
        "tags.team = nlp or metrics.loss.max >= 1 or params.lr = 0.01",
        "(params.lr = 0.01 and tags.team = vision) or (status = failed and metrics.loss.min < 0.3)",
        "status = completed and (params.optimizer.name in (adam, sgd) or metrics.loss.latest = nan)",
        "tags.team = vision or params.lr < 0.05",
    ]

    /// Sorts the differential check uses, each with a few of the queries.
    static let differentialSorts: [String] = [
        "params.lr", "-params.lr", "params.mixed", "params.mixed desc", "params.optimizer.name", "metrics.loss.min",
        "metrics.loss desc", "metrics.loss.count", "tags.stage desc", "summary.note", "summary.acc desc", "name",
        "created desc", "duration", "status",
    ]

    func searchMatchesInMemoryEvaluation(_ store: any TrackingStore) async throws {
        let project = try await store.project(namespace: "ada", displayName: "differential")
        let other = try await store.project(namespace: "ada", displayName: "other")
        var random = SeededGenerator(seed: 20_261_124)
        var ids: [RunID] = []
        for index in 0..<300 {
            let run = try await Self.randomRun(store, index: index, projectID: project.id, using: &random)
            ids.append(run)
        }
        // A run of another project never shows up.
        var foreign = NewRun(projectID: other.id)
        foreign.config = ["lr": 0.01]
        _ = try await store.createRun(foreign)

        var all: [RunDetails] = []
        for id in ids { all.append(try #require(try await store.runDetails(id))) }
        try await Self.compareWithInMemory(store, projectID: project.id, runs: all, pageSize: 37)
    }

    /// Checks every differential query and sort (each walked in pages of `pageSize`) on the runs of a project
    /// against their in-memory evaluation: `runs` are the project's runs as the store reads them.
    package static func compareWithInMemory(
        _ store: any TrackingStore,
        projectID: Int64,
        runs all: [RunDetails],
        pageSize: Int
    ) async throws {
        let queries = try Self.differentialQueries.map { try RunQuery(parsing: $0) }
        for (text, query) in zip(Self.differentialQueries, queries) {
            var search = RunSearch(projectIDs: [projectID])
            search.query = query
            search.limit = 1000
            let page = try await store.searchRuns(search)
            let expected = Self.expected(all, query: query, sort: nil)
            #expect(page.runs.map(\.run.id) == expected, "query: \(text)")
            #expect(page.nextCursor == nil)
            if let first = page.runs.first, let details = all.first(where: { $0.run.id == first.run.id }) {
                // Compared field by field: NaN statistics are never equal to themselves.
                #expect(first.run == details.run && first.params == details.params && first.tags == details.tags)
                #expect(
                    first.links == details.links
                        && first.metrics.mapValues(\.count) == details.metrics.mapValues(\.count)
                )
            }
        }
        for (index, sortText) in Self.differentialSorts.enumerated() {
            let sort = try RunSort(parsing: sortText)
            for query in [nil, queries[index % queries.count], queries[(index * 7 + 3) % queries.count]] {
                var search = RunSearch(projectIDs: [projectID])
                search.query = query
                search.sort = sort
                search.limit = pageSize
                let walked = try await Self.walk(store, search)
                #expect(
                    walked == Self.expected(all, query: query, sort: sort),
                    "sort \(sortText), query \(query.map(String.init(describing:)) ?? "-")"
                )
            }
        }
    }

    private static func randomRun(
        _ store: any TrackingStore,
        index: Int,
        projectID: Int64,
        using random: inout SeededGenerator
    ) async throws -> RunID {
        func pick<T>(_ values: [T]) -> T {
            values[Int.random(in: 0..<values.count, using: &random)]
        }
        var request = NewRun(projectID: projectID)
        request.name = "run-\(index)"
        request.kind = pick([.training, .training, .custom("distill"), .custom("42")])
        request.status = pick([.running, .completed, .completed, .failed, .crashed])
        request.startedAt = Date(timeIntervalSince1970: 1_700_000_000 + Double(Int.random(in: 0..<40, using: &random)))
        if Int.random(in: 0..<3, using: &random) > 0 {
            request.user = pick(["ada", "grace", ""])
            request.host = pick(["gpu-1", "gpu-2", "cpu"])
        }
        let lr = pick([0.1, 0.01, 0.01, 0.001, "0.01", "NaN", .double(.infinity), "fast", nil] as [JSONValue?])
        if let lr { request.config["lr"] = lr }
        if Bool.random(using: &random) {
            var optimizer: [String: JSONValue] = [
                "name": pick(["adam", "sgd", "Adam", "e\u{301}te\u{301}", "été", "zeta"])
            ]
            if Bool.random(using: &random) { optimizer["momentum"] = pick([0.9, 0.5, 0.95]) }
            request.config["optimizer"] = .object(optimizer)
        }
        if let layers = pick([3, 4, .double(3.0), "3", "three", nil] as [JSONValue?]) {
            request.config["layers"] = layers
        }
        if let flag = pick([true, false, .null, nil] as [JSONValue?]) { request.config["flag"] = flag }
        if let mixed = pick([10, "10", "abc", "Zed", true, .null, [1, 2], ["a": 1], 2.5, "-3", nil] as [JSONValue?]) {
            request.config["mixed"] = mixed
        }
        if Bool.random(using: &random) { request.tags["team"] = pick(["vision", "nlp", "Vision"]) }
        if Bool.random(using: &random) { request.tags["stage"] = pick(["1", "2", "10", "02", "x"]) }
        if Int.random(in: 0..<4, using: &random) == 0 { request.tags["label"] = "" }
        let run = try await store.createRun(request)

        var batch = LogBatch()
        // Params logged after the start win over the config.
        if Int.random(in: 0..<4, using: &random) == 0 { batch.params["lr"] = pick([0.001, "0.001", 0.5]) }
        if Bool.random(using: &random) { batch.params["seed"] = pick([42, "42", 7]) }
        let losses: [Double] = [0.9, 0.5, 0.3, 0.25, 0.1, .nan, .infinity, -.infinity, 1.0]
        for step in 0..<Int.random(in: 0..<4, using: &random) {
            batch.metrics.append(MetricValue(key: "loss", value: pick(losses), step: step))
        }
        if Bool.random(using: &random) {
            batch.metrics.append(MetricValue(key: "acc", value: pick([1, 2, 0.5]), step: 0))
        }
        if Int.random(in: 0..<3, using: &random) == 0 {
            batch.metrics.append(MetricValue(key: "val loss", value: pick([0.3, 0.5]), step: 0))
        }
        if !batch.isEmpty { _ = try await store.logBatch(run.id, batch) }

        var update = RunUpdate()
        var summary: [String: JSONValue] = [:]
        if let acc = pick([0.95, 0.5, 0.91, "n/a", nil] as [JSONValue?]) { summary["acc"] = acc }
        if Bool.random(using: &random) { summary["best"] = ["epoch": pick([3, 4, "3"])] }
        if let note = pick(["café", "cafe\u{301}", "baseline", .null, nil] as [JSONValue?]) { summary["note"] = note }
        if !summary.isEmpty { update.summary = summary }
        if Bool.random(using: &random) {
            update.endedAt = request.startedAt.map { $0.addingTimeInterval(pick([5, 20, 30, 45.5])) }
        }
        if update.summary != nil || update.endedAt != nil { _ = try await store.updateRun(run.id, update) }
        return run.id
    }
}
