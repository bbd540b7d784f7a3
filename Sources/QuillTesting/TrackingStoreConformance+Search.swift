import Foundation
public import QuillCore
public import QuillStore
import Testing

extension TrackingStoreConformance {
    /// Every page of a search, walked with the cursors, as run ids in order.
    public static func walk(_ store: any TrackingStore, _ search: RunSearch) async throws -> [RunID] {
        var search = search
        var ids: [RunID] = []
        for _ in 0..<100_000 {
            let page = try await store.searchRuns(search)
            #expect(page.runs.count <= search.limit)
            ids += page.runs.map(\.run.id)
            guard let next = page.nextCursor else { return ids }
            #expect(!page.runs.isEmpty, "a page with a next cursor has runs")
            search.cursor = next
        }
        Issue.record("the search did not end")
        return ids
    }

    /// What a search must return: the runs that match in memory, newest first (then by id, descending),
    /// stably sorted with the sort.
    public static func expected(_ runs: [RunDetails], query: RunQuery?, sort: RunSort?) -> [RunID] {
        let base = runs.sorted { lhs, rhs in
            if lhs.run.startedAt != rhs.run.startedAt { return lhs.run.startedAt > rhs.run.startedAt }
            return lhs.run.id.rawValue > rhs.run.id.rawValue
        }
        let matches = base.map(\.queryable).enumerated().filter { query?.matches($0.element) ?? true }
        guard let sort else { return matches.map { base[$0.offset].run.id } }
        return matches.sorted { lhs, rhs in
            if sort.precedes(lhs.element, rhs.element) { return true }
            if sort.precedes(rhs.element, lhs.element) { return false }
            return lhs.offset < rhs.offset
        }.map { base[$0.offset].run.id }
    }

    func pagesNeitherSkipNorRepeat(_ store: any TrackingStore) async throws {
        let project = try await store.project(namespace: "ada", displayName: "paging")
        var random = SeededGenerator(seed: 7)
        var ids: [RunID] = []
        for index in 0..<45 {
            var request = NewRun(projectID: project.id)
            request.name = "run-\(index)"
            // Few distinct start times and values, so many runs tie.
            request.startedAt = Date(
                timeIntervalSince1970: 1_700_000_000 + Double(Int.random(in: 0..<4, using: &random))
            )
            let lrs: [JSONValue?] = [0.1, 0.01, 0.01, .double(.nan), "high", "low", nil]
            if let lr = lrs.randomElement(using: &random) ?? nil { request.config["lr"] = lr }
            if Bool.random(using: &random) { request.tags["team"] = ["vision", "nlp"].randomElement(using: &random) }
            if Int.random(in: 0..<4, using: &random) == 0 {
                request.endedAt = Date(timeIntervalSince1970: 1_700_000_100)
            }
            let run = try await store.createRun(request)
            ids.append(run.id)
            var batch = LogBatch()
            let losses: [Double] = [0.5, 0.25, .nan, 0.25, .infinity]
            for step in 0..<Int.random(in: 0..<3, using: &random) {
                batch.metrics.append(
                    MetricValue(key: "loss", value: losses.randomElement(using: &random) ?? 0, step: step)
                )
            }
            if !batch.isEmpty { _ = try await store.logBatch(run.id, batch) }
            if Bool.random(using: &random) {
                var update = RunUpdate()
                update.summary = ["acc": [0.9, 0.8, "n/a"].randomElement(using: &random) ?? 0]
                _ = try await store.updateRun(run.id, update)
            }
        }
        var all: [RunDetails] = []
        for id in ids { all.append(try #require(try await store.runDetails(id))) }
        let sorts = [
            "params.lr", "-params.lr", "metrics.loss.min", "metrics.loss.min desc", "metrics.loss desc",
            "metrics.loss.count desc", "summary.acc", "tags.team desc", "name", "created", "duration desc", "project",
        ]
        for sortText in [nil] + sorts {
            let sort = try sortText.map { try RunSort(parsing: $0) }
            let expected = Self.expected(all, query: nil, sort: sort)
            #expect(expected.count == ids.count)
            for limit in [1, 4, 7, 45, 100] {
                var search = RunSearch(projectIDs: [project.id])
                search.sort = sort
                search.limit = limit
                let walked = try await Self.walk(store, search)
                #expect(
                    Set(walked).count == walked.count,
                    "no run twice: sort \(sortText ?? "default"), limit \(limit)"
                )
                #expect(walked == expected, "order: sort \(sortText ?? "default"), limit \(limit)")
            }
        }
        // A cursor belongs to its order; a changed sort or a damaged cursor is refused.
        var search = RunSearch(projectIDs: [project.id])
        search.limit = 5
        let cursor = try #require(try await store.searchRuns(search).nextCursor)
        search.sort = try RunSort(parsing: "params.lr")
        search.cursor = cursor
        await #expect(throws: QuillError.self) { try await store.searchRuns(search) }
        search.sort = nil
        search.cursor = String(cursor.dropLast(3))
        await #expect(throws: QuillError.self) { try await store.searchRuns(search) }
    }
}
