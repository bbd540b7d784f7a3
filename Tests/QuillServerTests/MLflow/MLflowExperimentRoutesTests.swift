import Foundation
import QuillCore
import QuillTesting
import Testing

/// MLflow's `experiments/…` endpoints on a real `quill serve`: shapes, codes and statuses as MLflow's server
/// answers them (an experiment is a Quill project).
@Suite("MLflow's experiments API")
struct MLflowExperimentRoutesTests {
    func server(_ temp: TemporaryDirectory) async throws -> ServerProcess {
        try await ServerProcess.start(data: temp.file("data"))
    }

    @Test("the Default experiment is \"0\" from the start, by id and by name")
    func defaultExperiment() async throws {
        let temp = TemporaryDirectory("quill-mlflow-default")
        let api = MLflowAPI(try await server(temp))
        let (status, body) = try await api.get("experiments/get", [("experiment_id", "0")])
        #expect(status == 200, "\(body)")
        let experiment = body["experiment"] ?? .null
        #expect(experiment["experiment_id"] == "0")
        #expect(experiment["name"] == "Default")
        #expect(experiment["artifact_location"] == "mlflow-artifacts:/0")
        #expect(experiment["lifecycle_stage"] == "active")
        #expect((experiment["creation_time"]?.intValue ?? 0) > 1_600_000_000_000)
        #expect(experiment["last_update_time"]?.intValue != nil)
        let byName = try await api.get("experiments/get-by-name", [("experiment_name", "Default")])
        #expect(byName.body["experiment"]?["experiment_id"] == "0")
        // Creating "Default" again is a taken name.
        expectMLflowError(try await api.post("experiments/create", ["name": "Default"]), 400, "RESOURCE_ALREADY_EXISTS")
    }

    @Test("create, get and get-by-name answer MLflow's shapes; a taken name is RESOURCE_ALREADY_EXISTS")
    func createAndGet() async throws {
        let temp = TemporaryDirectory("quill-mlflow-experiments")
        let api = MLflowAPI(try await server(temp))
        let created = try await api.post(
            "experiments/create",
            ["name": "vision", "unknown_member": ["ignored": true], "artifact_location": ""]
        )
        #expect(created.status == 200, "\(created.body)")
        let id = try #require(created.body["experiment_id"]?.stringValue)
        #expect(Int64(id) != nil && id != "0")
        let got = try await api.get("experiments/get", [("experiment_id", id)])
        #expect(got.body["experiment"]?["name"] == "vision")
        #expect(got.body["experiment"]?["experiment_id"] == .string(id))
        #expect(got.body["experiment"]?["artifact_location"] == .string("mlflow-artifacts:/\(id)"))
        #expect(got.body["experiment"]?["tags"] == nil)
        let byName = try await api.get("experiments/get-by-name", [("experiment_name", "vision")])
        #expect(byName.body["experiment"] == got.body["experiment"])
        // The /ajax-api alias answers the same.
        var ajax = api
        ajax.prefix = "/ajax-api/2.0/mlflow/"
        let viaAjax = try await ajax.get("experiments/get", [("experiment_id", id)])
        #expect(viaAjax.body == got.body)

        expectMLflowError(try await api.post("experiments/create", ["name": "vision"]), 400, "RESOURCE_ALREADY_EXISTS")
        expectMLflowError(try await api.post("experiments/create", [:]), 400, "INVALID_PARAMETER_VALUE")
        expectMLflowError(try await api.post("experiments/create", ["name": ""]), 400, "INVALID_PARAMETER_VALUE")
        expectMLflowError(
            try await api.post("experiments/create", ["name": .string(String(repeating: "n", count: 501))]),
            400,
            "INVALID_PARAMETER_VALUE"
        )
        expectMLflowError(try await api.post("experiments/create", ["name": 5]), 400, "INVALID_PARAMETER_VALUE")
        expectMLflowError(
            try await api.post("experiments/create", raw: Array("{not json".utf8)),
            400,
            "INVALID_PARAMETER_VALUE"
        )
        expectMLflowError(
            try await api.get("experiments/get", [("experiment_id", "99999")]),
            404,
            "RESOURCE_DOES_NOT_EXIST"
        )
        expectMLflowError(
            try await api.get("experiments/get", [("experiment_id", "abc")]),
            400,
            "INVALID_PARAMETER_VALUE"
        )
        expectMLflowError(try await api.get("experiments/get"), 400, "INVALID_PARAMETER_VALUE")
        expectMLflowError(
            try await api.get("experiments/get-by-name", [("experiment_name", "nope")]),
            404,
            "RESOURCE_DOES_NOT_EXIST"
        )
        // MLflow's routes answer a wrong method 405 and an unknown path ENDPOINT_NOT_FOUND.
        #expect(try await api.post("experiments/get", [:]).status == 405)
        expectMLflowError(try await api.get("experiments/nothing-here"), 404, "ENDPOINT_NOT_FOUND")
    }

    @Test("tags and an artifact location given at creation are shown back; the location's tag is hidden")
    func createWithTags() async throws {
        let temp = TemporaryDirectory("quill-mlflow-experiment-tags")
        let api = MLflowAPI(try await server(temp))
        let created = try await api.post(
            "experiments/create",
            [
                "name": "tagged",
                "artifact_location": "s3://bucket/somewhere",
                "tags": [["key": "team", "value": "vision"], ["key": "empty"]],
            ]
        )
        #expect(created.status == 200, "\(created.body)")
        let id = try #require(created.body["experiment_id"]?.stringValue)
        let experiment = try await api.get("experiments/get", [("experiment_id", id)]).body["experiment"] ?? .null
        #expect(experiment["artifact_location"] == "s3://bucket/somewhere")
        #expect(experiment["tags"]?.keyValues == ["team": "vision", "empty": ""])
        expectMLflowError(
            try await api.post("experiments/create", ["name": "x", "artifact_location": "runs:/abc/model"]),
            400,
            "INVALID_PARAMETER_VALUE"
        )
        expectMLflowError(
            try await api.post("experiments/create", ["name": "y", "tags": [["key": "bad!key", "value": "v"]]]),
            400,
            "INVALID_PARAMETER_VALUE"
        )
    }

    @Test("set-experiment-tag, delete-experiment-tag, update (rename), delete and restore with its runs")
    func changeExperiments() async throws {
        let temp = TemporaryDirectory("quill-mlflow-experiment-changes")
        let api = MLflowAPI(try await server(temp))
        let id = try await api.createExperiment("first")
        let run = try await api.createRun(id)

        #expect(
            try await api.post(
                "experiments/set-experiment-tag",
                ["experiment_id": .string(id), "key": "k", "value": "v"]
            ).status == 200
        )
        var experiment = try await api.get("experiments/get", [("experiment_id", id)]).body["experiment"] ?? .null
        #expect(experiment["tags"]?.keyValues == ["k": "v"])
        #expect(
            try await api.post("experiments/delete-experiment-tag", ["experiment_id": .string(id), "key": "k"]).status
                == 200
        )
        expectMLflowError(
            try await api.post("experiments/delete-experiment-tag", ["experiment_id": .string(id), "key": "k"]),
            404,
            "RESOURCE_DOES_NOT_EXIST"
        )

        #expect(
            try await api.post("experiments/update", ["experiment_id": .string(id), "new_name": "renamed"]).status
                == 200
        )
        experiment = try await api.get("experiments/get", [("experiment_id", id)]).body["experiment"] ?? .null
        #expect(experiment["name"] == "renamed")
        #expect(
            try await api.get("experiments/get-by-name", [("experiment_name", "renamed")]).body["experiment"]?[
                "experiment_id"
            ] == .string(id)
        )
        expectMLflowError(
            try await api.get("experiments/get-by-name", [("experiment_name", "first")]),
            404,
            "RESOURCE_DOES_NOT_EXIST"
        )
        let other = try await api.createExperiment("other")
        expectMLflowError(
            try await api.post("experiments/update", ["experiment_id": .string(other), "new_name": "renamed"]),
            400,
            "RESOURCE_ALREADY_EXISTS"
        )

        #expect(try await api.post("experiments/delete", ["experiment_id": .string(id)]).status == 200)
        experiment = try await api.get("experiments/get", [("experiment_id", id)]).body["experiment"] ?? .null
        #expect(experiment["lifecycle_stage"] == "deleted")
        #expect(try await api.run(run)["info"]?["lifecycle_stage"] == "deleted")
        expectMLflowError(
            try await api.post("experiments/delete", ["experiment_id": .string(id)]),
            404,
            "RESOURCE_DOES_NOT_EXIST"
        )
        expectMLflowError(
            try await api.post("runs/create", ["experiment_id": .string(id)]),
            400,
            "INVALID_PARAMETER_VALUE"
        )
        expectMLflowError(
            try await api.post("experiments/update", ["experiment_id": .string(id), "new_name": "again"]),
            400,
            "INVALID_STATE"
        )
        // A deleted experiment's name stays taken, as in MLflow.
        expectMLflowError(try await api.post("experiments/create", ["name": "renamed"]), 400, "RESOURCE_ALREADY_EXISTS")

        #expect(try await api.post("experiments/restore", ["experiment_id": .string(id)]).status == 200)
        experiment = try await api.get("experiments/get", [("experiment_id", id)]).body["experiment"] ?? .null
        #expect(experiment["lifecycle_stage"] == "active")
        #expect(try await api.run(run)["info"]?["lifecycle_stage"] == "active")
        expectMLflowError(
            try await api.post("experiments/restore", ["experiment_id": .string(id)]),
            404,
            "RESOURCE_DOES_NOT_EXIST"
        )
    }

    @Test("search pages experiments, filters by view type and orders by MLflow's default")
    func searchExperiments() async throws {
        let temp = TemporaryDirectory("quill-mlflow-experiment-search")
        let api = MLflowAPI(try await server(temp))
        var ids: [String] = []
        for name in ["a", "b", "c"] {
            ids.append(try await api.createExperiment(name))
            // Creation times are milliseconds: keep them apart so the order is the creation order.
            try await Task.sleep(for: .milliseconds(3))
        }
        #expect(try await api.post("experiments/delete", ["experiment_id": .string(ids[1])]).status == 200)

        let all = try await api.post("experiments/search", ["max_results": 1000])
        #expect(all.status == 200, "\(all.body)")
        let names = (all.body["experiments"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        // Newest first (Default is made on first use, and is there too).
        #expect(names.filter { $0 != "Default" } == ["c", "a"])
        #expect(names.contains("Default"))
        #expect(all.body["next_page_token"] == nil)

        let deleted = try await api.post("experiments/search", ["max_results": "10", "view_type": "DELETED_ONLY"])
        #expect((deleted.body["experiments"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue } == ["b"])
        let everything = try await api.get("experiments/search", [("max_results", "10"), ("view_type", "ALL")])
        #expect(everything.status == 200, "\(everything.body)")
        #expect(everything.body["experiments"]?.arrayValue?.count == 4)

        var seen: [String] = []
        var token: String?
        for _ in 0..<5 {
            var request: [String: JSONValue] = ["max_results": 1]
            if let token { request["page_token"] = .string(token) }
            let page = try await api.post("experiments/search", .object(request))
            #expect(page.status == 200, "\(page.body)")
            seen += (page.body["experiments"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
            token = page.body["next_page_token"]?.stringValue
            if token == nil { break }
        }
        #expect(seen == names)

        let none = try await api.post(
            "experiments/search",
            ["max_results": 10, "view_type": "DELETED_ONLY", "filter": "name = 'zzz'"]
        )
        #expect(none.status == 200, "\(none.body)")
        #expect(none.body == [:])
        expectMLflowError(try await api.post("experiments/search", ["max_results": 0]), 400, "INVALID_PARAMETER_VALUE")
        expectMLflowError(
            try await api.post("experiments/search", ["max_results": 50001]),
            400,
            "INVALID_PARAMETER_VALUE"
        )
        expectMLflowError(
            try await api.post("experiments/search", ["max_results": 5, "page_token": "%%%"]),
            400,
            "INVALID_PARAMETER_VALUE"
        )
        expectMLflowError(
            try await api.post("experiments/search", ["view_type": "SOME"]),
            400,
            "INVALID_PARAMETER_VALUE"
        )
    }
}
