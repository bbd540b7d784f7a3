import Foundation
import QuillAPI
import QuillCore
import QuillStore
import QuillStoreSQLite
import QuillTesting
import Testing

@testable import QuillServer

@Suite("MLflow run search over a real SQLite store")
struct MLflowRunSearchTests {
    /// A store with 72 runs that tie a lot: 4 start times, metric `m` in {1, 2, NaN, missing}, param `p` in
    /// {"a", "b", "10", "9", missing}, tag `t` in {"x", "y", missing}, statuses of every kind.
    static func tiedStore(_ temp: TemporaryDirectory) async throws -> (SQLiteTrackingStore, Int64) {
        let store = try SQLiteTrackingStore(path: temp.file("quill.db"))
        let project = try await store.project(namespace: "ada", displayName: "ties", createdBy: "ada")
        let statuses: [RunStatus] = [.running, .completed, .failed, .crashed, .killed, .queued]
        let metricValues: [Double?] = [1, 2, .nan, nil]
        let params: [String?] = ["a", "b", "10", "9", nil]
        let tags: [String?] = ["x", "y", nil]
        for index in 0..<72 {
            var run = NewRun(projectID: project.id)
            run.name = "run-\(index % 9)"
            run.status = statuses[index % statuses.count]
            run.startedAt = Date(timeIntervalSince1970: 1_700_000_000 + Double(index % 4))
            if run.status != .running, index % 5 != 0 {
                run.endedAt = Date(timeIntervalSince1970: 1_700_000_100 + Double(index % 3))
            }
            run.user = index % 2 == 0 ? "ada" : "bob"
            let created = try await store.createRun(run)
            var batch = LogBatch()
            if let value = metricValues[index % 4 == 0 ? (index / 4) % 4 : index % 4] {
                batch.metrics = [MetricValue(key: "m", value: value, step: 0)]
            }
            if let param = params[(index / 3) % 5] { batch.params = ["p": .string(param)] }
            if let tag = tags[(index / 2) % 3] { batch.tags = ["t": tag] }
            if !batch.isEmpty { _ = try await store.logBatch(created.id, batch) }
        }
        return (store, project.id)
    }

    /// Every page of a search, with the tokens checked: no run twice, and the last page has no token.
    static func walk(
        _ search: MLflowRunSearch,
        projectID: Int64,
        filter: String?,
        orderBy: [String],
        maxResults: Int
    ) async throws -> [String] {
        var ids: [String] = []
        var token: String?
        var pages = 0
        repeat {
            let page = try await search.search(
                projectIDs: [projectID],
                filter: filter,
                orderBy: orderBy,
                maxResults: maxResults,
                pageToken: token,
                lifecycle: .active
            )
            #expect(page.runs.count <= maxResults)
            if page.nextPageToken != nil { #expect(page.runs.count == maxResults) }
            ids += page.runs.map(\.run.id.rawValue)
            token = page.nextPageToken
            pages += 1
        } while token != nil && pages < 500
        #expect(Set(ids).count == ids.count, "a run came twice")
        return ids
    }

    /// MLflow's answer by definition: every run, filtered and sorted in memory.
    static func reference(
        _ store: SQLiteTrackingStore,
        projectID: Int64,
        filter: String?,
        orderBy: [String]
    ) async throws -> [String] {
        let parsed = try MLflowSearchFilter(parsing: filter)
        let order = try MLflowRunOrder(parsing: orderBy)
        var search = RunSearch(projectIDs: [projectID])
        search.limit = 1000
        let runs = try await store.searchRuns(search).runs.map(MLflowRunValues.init)
        return runs.filter { $0.matches(parsed) }.sorted(by: order.precedes).map(\.runID)
    }

    @Test("pages are exact for every order and page size, with many ties and missing values")
    func pagingWithTies() async throws {
        let temp = TemporaryDirectory("mlflow-search")
        let (store, projectID) = try await Self.tiedStore(temp)
        let search = MLflowRunSearch(store: store)
        let orders: [[String]] = [
            [], ["metrics.m DESC"], ["metrics.m"], ["metrics.m DESC", "params.p"], ["metrics.m", "tags.t DESC"],
            ["params.p DESC"], ["params.p", "metrics.m DESC"], ["attributes.start_time"], ["start_time DESC"],
            ["start_time DESC", "metrics.m"], ["tags.t", "metrics.m DESC"], ["attributes.status"],
            ["attributes.end_time DESC"], ["run_name", "attributes.run_id DESC"], ["attributes.user_id"],
        ]
        let filters: [String?] = [
            nil, "metrics.m > 1", "metrics.m != 1", "params.p = '10'", "params.p LIKE '1%'", "tags.t != 'x'",
            "attributes.status = 'FAILED'", "params.p IS NULL",
        ]
        var checked = 0
        for order in orders {
            for (index, filter) in filters.enumerated() where index % 3 == checked % 3 || filter == nil {
                let expected = try await Self.reference(store, projectID: projectID, filter: filter, orderBy: order)
                for size in [2, 7, 100] {
                    let walked = try await Self.walk(
                        search,
                        projectID: projectID,
                        filter: filter,
                        orderBy: order,
                        maxResults: size
                    )
                    #expect(walked == expected, "order \(order), filter \(filter ?? "-"), pages of \(size)")
                }
                checked += 1
            }
        }
        #expect(checked > 30)
    }

    @Test("the default order is newest first, then run id; missing metrics sort last both ways")
    func defaultOrderAndMissingLast() async throws {
        let temp = TemporaryDirectory("mlflow-search")
        let store = try SQLiteTrackingStore(path: temp.file("quill.db"))
        let project = try await store.project(namespace: "ada", displayName: "order", createdBy: "ada")
        var ids: [String] = []
        for (index, id) in ["cccccccc", "aaaaaaaa", "bbbbbbbb", "dddddddd"].enumerated() {
            let runID = try #require(RunID(id))
            var run = NewRun(projectID: project.id)
            run.id = runID
            run.startedAt = Date(timeIntervalSince1970: index < 3 ? 1_700_000_000 : 1_600_000_000)
            _ = try await store.createRun(run)
            if index != 1 {
                _ = try await store.logMetric(runID, MetricValue(key: "acc", value: Double(index)))
            }
            ids.append(id)
        }
        let search = MLflowRunSearch(store: store)
        func order(_ orderBy: [String]) async throws -> [String] {
            try await search.search(
                projectIDs: [project.id],
                filter: nil,
                orderBy: orderBy,
                maxResults: 10,
                pageToken: nil,
                lifecycle: .active
            ).runs.map(\.run.id.rawValue)
        }
        #expect(try await order([]) == ["aaaaaaaa", "bbbbbbbb", "cccccccc", "dddddddd"])
        #expect(try await order(["metrics.acc DESC"]) == ["dddddddd", "bbbbbbbb", "cccccccc", "aaaaaaaa"])
        #expect(try await order(["metrics.acc"]) == ["cccccccc", "bbbbbbbb", "dddddddd", "aaaaaaaa"])
        #expect(try await order(["attributes.start_time"]) == ["dddddddd", "aaaaaaaa", "bbbbbbbb", "cccccccc"])
    }

    @Test("a run logged between two pages neither repeats nor shifts the next page")
    func pagesStayRightWhileRunsAreAdded() async throws {
        let temp = TemporaryDirectory("mlflow-search")
        let (store, projectID) = try await Self.tiedStore(temp)
        let search = MLflowRunSearch(store: store)
        let expected = try await Self.reference(store, projectID: projectID, filter: nil, orderBy: [])
        let first = try await search.search(
            projectIDs: [projectID],
            filter: nil,
            orderBy: [],
            maxResults: 10,
            pageToken: nil,
            lifecycle: .active
        )
        // A new run, newest of all: it belongs before the first page, so the next pages do not move.
        _ = try await store.createRun(NewRun(projectID: projectID))
        var ids = first.runs.map(\.run.id.rawValue)
        var token = first.nextPageToken
        while let current = token {
            let page = try await search.search(
                projectIDs: [projectID],
                filter: nil,
                orderBy: [],
                maxResults: 10,
                pageToken: current,
                lifecycle: .active
            )
            ids += page.runs.map(\.run.id.rawValue)
            token = page.nextPageToken
        }
        #expect(ids == expected)
    }

    @Test("max_results, page tokens and filters are checked with MLflow's messages")
    func invalidRequests() async throws {
        let temp = TemporaryDirectory("mlflow-search")
        let (store, projectID) = try await Self.tiedStore(temp)
        let search = MLflowRunSearch(store: store)
        func message(
            filter: String? = nil,
            orderBy: [String] = [],
            maxResults: Int = 10,
            token: String? = nil
        ) async -> String? {
            do {
                _ = try await search.search(
                    projectIDs: [projectID],
                    filter: filter,
                    orderBy: orderBy,
                    maxResults: maxResults,
                    pageToken: token,
                    lifecycle: .active
                )
                return nil
            } catch let error as MLflowHTTPError {
                #expect(error.code == .invalidParameterValue)
                return error.message
            } catch {
                return "\(error)"
            }
        }
        #expect(
            await message(maxResults: 0)
                == "Invalid value 0 for parameter 'max_results' supplied. It must be a positive integer"
        )
        #expect(
            await message(maxResults: 50001)
                == "Invalid value 50001 for parameter 'max_results' supplied. It must be at most 50000"
        )
        #expect(await message(token: "not a token")?.hasPrefix("Invalid page token") == true)
        let page = try await search.search(
            projectIDs: [projectID],
            filter: nil,
            orderBy: [],
            maxResults: 5,
            pageToken: nil,
            lifecycle: .active
        )
        let token = try #require(page.nextPageToken)
        // A token belongs to its search: another order or filter refuses it.
        #expect(await message(orderBy: ["metrics.m"], token: token)?.hasPrefix("Invalid page token") == true)
        #expect(await message(filter: "metrics.m > 0", token: token)?.hasPrefix("Invalid page token") == true)
        #expect(await message(token: token) == nil)
        #expect(await message(filter: "params.p > 'a'")?.hasPrefix("Invalid comparator '>'") == true)
    }

    @Test("run id lists, LIKE and ILIKE, and text params that look like numbers compare as MLflow's text")
    func textSemantics() async throws {
        let temp = TemporaryDirectory("mlflow-search")
        let store = try SQLiteTrackingStore(path: temp.file("quill.db"))
        let project = try await store.project(namespace: "ada", displayName: "text", createdBy: "ada")
        var ids: [String: String] = [:]
        for (name, lr) in [("Alpha", "1"), ("alpha-2", "1.0"), ("beta_1", "0.10"), ("Gamma%", "abc")] {
            var run = NewRun(projectID: project.id)
            run.name = name
            let created = try await store.createRun(run)
            var batch = LogBatch()
            batch.params = ["lr": .string(lr)]
            _ = try await store.logBatch(created.id, batch)
            ids[name] = created.id.rawValue
        }
        let search = MLflowRunSearch(store: store)
        func names(_ filter: String) async throws -> Set<String> {
            let page = try await search.search(
                projectIDs: [project.id],
                filter: filter,
                orderBy: [],
                maxResults: 100,
                pageToken: nil,
                lifecycle: .active
            )
            return Set(page.runs.map(\.run.name))
        }
        #expect(try await names("params.lr = '1'") == ["Alpha"])
        #expect(try await names("params.lr != '1'") == ["alpha-2", "beta_1", "Gamma%"])
        #expect(try await names("params.lr LIKE '1%'") == ["Alpha", "alpha-2"])
        #expect(try await names("attributes.run_name LIKE 'alpha%'") == ["alpha-2"])
        #expect(try await names("attributes.run_name ILIKE 'alpha%'") == ["Alpha", "alpha-2"])
        #expect(try await names("run_name LIKE 'beta_1'") == ["beta_1"])
        #expect(try await names("run_name LIKE '%a\\%'") == [])
        #expect(try await names("run_name LIKE '%a%'") == ["Alpha", "alpha-2", "beta_1", "Gamma%"])
        #expect(try await names("tags.mlflow.runName = 'Gamma%'") == ["Gamma%"])
        let alpha = try #require(ids["Alpha"])
        let beta = try #require(ids["beta_1"])
        #expect(try await names("attributes.run_id IN ('\(alpha)', '\(beta)')") == ["Alpha", "beta_1"])
        #expect(try await names("attributes.run_id NOT IN ('\(alpha)')") == ["alpha-2", "beta_1", "Gamma%"])
        #expect(try await names("attributes.status = 'RUNNING'").count == 4)
        #expect(try await names("attributes.status = 'FINISHED'").isEmpty)
        #expect(try await names("datasets.name = 'x'").isEmpty)
    }
}
