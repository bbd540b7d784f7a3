import Foundation
import QuillAPI
import QuillCore
import QuillStore
import QuillStoreSQLite
import QuillTesting
import Testing

@testable import QuillServer

/// Quill's MLflow run search against MLflow's own answers, recorded with the real `mlflow` package by
/// `Fixtures/mlflow-search/record.py` (its header gives the command that regenerates `expected.json`).
@Suite("MLflow run search answers as MLflow's SQL store does")
struct MLflowSearchDifferentialTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/mlflow-search/expected.json")

    struct Fixture: Decodable {
        struct Run: Decodable {
            struct Metric: Decodable {
                var key: String
                var value: JSONValue
                var timestamp: Int64
                var step: Int
            }

            var runID: String
            var runName: String
            var status: String
            var startTime: Int64
            var endTime: Int64?
            var userID: String
            var params: [String: String]
            var tags: [String: String]
            var metrics: [Metric]

            enum CodingKeys: String, CodingKey {
                case runID = "run_id"
                case runName = "run_name"
                case status
                case startTime = "start_time"
                case endTime = "end_time"
                case userID = "user_id"
                case params, tags, metrics
            }
        }

        struct Case: Decodable {
            var filter: String?
            var orderBy: [String]
            var runIDs: [String]

            enum CodingKeys: String, CodingKey {
                case filter
                case orderBy = "order_by"
                case runIDs = "run_ids"
            }
        }

        struct Failure: Decodable {
            var filter: String?
            var orderBy: [String]
            var message: String

            enum CodingKeys: String, CodingKey {
                case filter
                case orderBy = "order_by"
                case message
            }
        }

        struct Experiments: Decodable {
            struct Experiment: Decodable {
                var experimentID: String
                var name: String
                var creationTime: Int64
                var lastUpdateTime: Int64
                var tags: [String: String]

                enum CodingKeys: String, CodingKey {
                    case experimentID = "experiment_id"
                    case name
                    case creationTime = "creation_time"
                    case lastUpdateTime = "last_update_time"
                    case tags
                }
            }

            struct Case: Decodable {
                var filter: String?
                var orderBy: [String]
                var experimentIDs: [String]

                enum CodingKeys: String, CodingKey {
                    case filter
                    case orderBy = "order_by"
                    case experimentIDs = "experiment_ids"
                }
            }

            var experiments: [Experiment]
            var cases: [Case]
            var errors: [Failure]
        }

        var runs: [Run]
        var cases: [Case]
        var errors: [Failure]
        var experiments: Experiments
    }

    static func load() throws -> Fixture {
        try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: fixture))
    }

    static func status(_ mlflow: String) -> RunStatus {
        switch mlflow {
        case "SCHEDULED": .queued
        case "FINISHED": .completed
        case "FAILED": .failed
        case "KILLED": .killed
        default: .running
        }
    }

    static func date(_ milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    /// The fixture's runs in a Quill store, as the MLflow routes write them.
    static func store(_ fixture: Fixture, _ temp: TemporaryDirectory) async throws -> (SQLiteTrackingStore, Int64) {
        let store = try SQLiteTrackingStore(path: temp.file("quill.db"))
        let project = try await store.project(namespace: "local", displayName: "search", createdBy: nil)
        for run in fixture.runs {
            let id = try #require(RunID(run.runID))
            var new = NewRun(projectID: project.id)
            new.id = id
            new.name = run.runName
            new.status = status(run.status)
            new.startedAt = date(run.startTime)
            new.endedAt = run.endTime.map(date)
            new.user = run.userID
            new.tags = run.tags
            _ = try await store.createRun(new)
            var batch = LogBatch()
            batch.params = run.params.mapValues { JSONValue.string($0) }
            batch.metrics = run.metrics.map { metric in
                let value: Double =
                    switch metric.value {
                    case .string(let text): JSONValue.nonFiniteDouble(text) ?? .nan
                    default: metric.value.doubleValue ?? .nan
                    }
                return MetricValue(key: metric.key, value: value, step: metric.step, timestamp: date(metric.timestamp))
            }
            _ = try await store.logBatch(id, batch)
        }
        return (store, project.id)
    }

    @Test("every recorded filter and order_by gives MLflow's runs in MLflow's order, page by page")
    func recordedSearches() async throws {
        let fixture = try Self.load()
        #expect(fixture.cases.count >= 30)
        let temp = TemporaryDirectory("mlflow-differential")
        let (store, projectID) = try await Self.store(fixture, temp)
        let search = MLflowRunSearch(store: store)
        for recorded in fixture.cases {
            for size in [3, 1000] {
                let ids = try await MLflowRunSearchTests.walk(
                    search,
                    projectID: projectID,
                    filter: recorded.filter,
                    orderBy: recorded.orderBy,
                    maxResults: size
                )
                #expect(
                    ids == recorded.runIDs,
                    "filter \(recorded.filter ?? "-"), order_by \(recorded.orderBy), pages of \(size)"
                )
            }
        }
    }

    @Test("experiment searches give MLflow's experiments in MLflow's order, and refuse what MLflow refuses")
    func recordedExperimentSearches() throws {
        let recorded = try Self.load().experiments
        #expect(recorded.cases.count >= 30)
        let experiments = recorded.experiments.map { experiment in
            MLflowExperiment(
                experimentID: experiment.experimentID,
                name: experiment.name,
                artifactLocation: "mlflow-artifacts:/\(experiment.experimentID)",
                lifecycleStage: "active",
                lastUpdateTime: MLflowInt64(experiment.lastUpdateTime),
                creationTime: MLflowInt64(experiment.creationTime),
                tags: experiment.tags.isEmpty
                    ? nil
                    : experiment.tags.sorted { $0.key < $1.key }.map { MLflowKeyValue(key: $0.key, value: $0.value) }
            )
        }
        for search in recorded.cases {
            let found = try MLflowExperimentSearch.filter(
                experiments.shuffled(),
                filter: search.filter,
                orderBy: search.orderBy
            )
            #expect(
                found.map(\.experimentID) == search.experimentIDs,
                "filter \(search.filter ?? "-"), order_by \(search.orderBy)"
            )
        }
        for failure in recorded.errors {
            do {
                _ = try MLflowExperimentSearch.filter(experiments, filter: failure.filter, orderBy: failure.orderBy)
                Issue.record("filter \(failure.filter ?? "-") was not refused")
            } catch let error as MLflowHTTPError {
                #expect(error.code == .invalidParameterValue)
                let expected = failure.message.split(separator: "{", maxSplits: 1).first.map(String.init) ?? ""
                #expect(error.message.hasPrefix(expected), "\(error.message) vs \(failure.message)")
            }
        }
    }

    @Test("what MLflow refuses, Quill refuses, with MLflow's message (Python sets aside)")
    func recordedErrors() async throws {
        let fixture = try Self.load()
        let temp = TemporaryDirectory("mlflow-differential")
        let (store, projectID) = try await Self.store(fixture, temp)
        let search = MLflowRunSearch(store: store)
        for failure in fixture.errors {
            do {
                _ = try await search.search(
                    projectIDs: [projectID],
                    filter: failure.filter,
                    orderBy: failure.orderBy,
                    maxResults: 10,
                    pageToken: nil,
                    lifecycle: .active
                )
                Issue.record("filter \(failure.filter ?? "-"), order_by \(failure.orderBy) was not refused")
            } catch let error as MLflowHTTPError {
                #expect(error.code == .invalidParameterValue)
                // Python prints sets in hash order: compare up to the set.
                let expected = failure.message.split(separator: "{", maxSplits: 1).first.map(String.init) ?? ""
                #expect(error.message.hasPrefix(expected), "\(error.message) vs \(failure.message)")
            }
        }
    }
}
