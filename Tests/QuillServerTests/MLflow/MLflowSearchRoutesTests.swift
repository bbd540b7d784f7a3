import Foundation
import QuillCore
import QuillTesting
import Testing

/// MLflow's `runs/search` route on a real `quill serve`: which experiments it reads, view types, pages and
/// MLflow's checks of its members (the filter grammar and orders themselves are MLflowRunSearch's tests).
@Suite("MLflow's runs/search route")
struct MLflowSearchRoutesTests {
    @Test("runs/search reads the named experiments, honours run_view_type and filters, pages, and checks max_results")
    func searchRuns() async throws {
        let temp = TemporaryDirectory("quill-mlflow-search-runs")
        let api = MLflowAPI(try await ServerProcess.start(data: temp.file("data")))
        let first = try await api.createExperiment("first")
        let second = try await api.createExperiment("second")
        var runs: [String] = []
        for index in 0..<3 {
            let id = try await api.createRun(first, name: "run\(index)")
            let logged = try await api.post(
                "runs/log-metric",
                ["run_id": .string(id), "key": "loss", "value": .double(Double(index)), "timestamp": 1]
            )
            #expect(logged.status == 200)
            runs.append(id)
        }
        let other = try await api.createRun(second, name: "other")
        #expect(try await api.post("runs/delete", ["run_id": .string(runs[0])]).status == 200)

        func ids(_ request: JSONValue) async throws -> (ids: Set<String>, body: JSONValue) {
            let (status, body) = try await api.post("runs/search", request)
            #expect(status == 200, "\(body)")
            let found = (body["runs"]?.arrayValue ?? []).compactMap { $0["info"]?["run_id"]?.stringValue }
            return (Set(found), body)
        }
        #expect(try await ids(["experiment_ids": [.string(first)]]).ids == [runs[1], runs[2]])
        #expect(try await ids(["experiment_ids": [.string(first), .string(second)]]).ids == [runs[1], runs[2], other])
        #expect(try await ids(["experiment_ids": [.string(first)], "run_view_type": "DELETED_ONLY"]).ids == [runs[0]])
        #expect(try await ids(["experiment_ids": [.string(first)], "run_view_type": "ALL"]).ids == Set(runs))
        #expect(try await ids(["experiment_ids": [.string(first)], "filter": "metrics.loss > 1.5"]).ids == [runs[2]])
        let shown = try await ids(["experiment_ids": [.string(first)], "filter": "attributes.run_name = 'run1'"])
        #expect(shown.ids == [runs[1]])
        let run = shown.body["runs"]?.arrayValue?.first ?? .null
        #expect(run["info"]?["experiment_id"] == .string(first))
        #expect(run["data"]?["tags"]?.keyValues["mlflow.runName"] == "run1")
        #expect(run["data"]?["metrics"]?.arrayValue?.first?["value"] == 1.0)
        // No experiments, an unknown one: nothing, as MLflow answers.
        #expect(try await api.post("runs/search", [:]).body == [:])
        #expect(try await api.post("runs/search", ["experiment_ids": ["424242"]]).body == [:])

        var seen: [String] = []
        var token: String?
        for _ in 0..<4 {
            var request: [String: JSONValue] = [
                "experiment_ids": [.string(first)], "max_results": "1", "run_view_type": "ALL",
            ]
            if let token { request["page_token"] = .string(token) }
            let (status, body) = try await api.post("runs/search", .object(request))
            #expect(status == 200, "\(body)")
            seen += (body["runs"]?.arrayValue ?? []).compactMap { $0["info"]?["run_id"]?.stringValue }
            token = body["next_page_token"]?.stringValue
            if token == nil { break }
        }
        #expect(seen.count == 3 && Set(seen) == Set(runs), "\(seen)")

        expectMLflowError(
            try await api.post("runs/search", ["experiment_ids": ["abc"]]),
            400,
            "INVALID_PARAMETER_VALUE"
        )
        expectMLflowError(
            try await api.post("runs/search", ["experiment_ids": [.string(first)], "max_results": 50001]),
            400,
            "INVALID_PARAMETER_VALUE"
        )
        expectMLflowError(
            try await api.post("runs/search", ["experiment_ids": [.string(first)], "max_results": 0]),
            400,
            "INVALID_PARAMETER_VALUE"
        )
        expectMLflowError(
            try await api.post("runs/search", ["experiment_ids": [.string(first)], "filter": "metrics.loss >>> 1"]),
            400,
            "INVALID_PARAMETER_VALUE"
        )
        // runs/search is POST only, as in MLflow.
        #expect(try await api.get("runs/search").status == 405)
    }
}
