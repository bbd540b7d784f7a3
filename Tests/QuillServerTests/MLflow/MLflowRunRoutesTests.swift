import Foundation
import QuillCore
import QuillTesting
import Testing

/// MLflow's `runs/…` endpoints on a real `quill serve`: shapes, codes and statuses as MLflow's server answers
/// them (an MLflow run is a Quill run).
@Suite("MLflow's runs API")
struct MLflowRunRoutesTests {
    func server(_ temp: TemporaryDirectory) async throws -> ServerProcess {
        try await ServerProcess.start(data: temp.file("data"))
    }

    @Test(
        "create answers MLflow's run: a 32-hex id, a generated name kept as mlflow.runName, RUNNING, its artifact URI"
    )
    func createRun() async throws {
        let temp = TemporaryDirectory("quill-mlflow-create-run")
        let api = MLflowAPI(try await server(temp))
        let experiment = try await api.createExperiment("runs")
        let created = try await api.post(
            "runs/create",
            [
                "experiment_id": .string(experiment), "start_time": "1700000000123", "user_id": "someone",
                "tags": [["key": "team", "value": "vision"]], "not_an_mlflow_member": 1,
            ]
        )
        #expect(created.status == 200, "\(created.body)")
        let run = created.body["run"] ?? .null
        let info = run["info"] ?? .null
        let id = try #require(info["run_id"]?.stringValue)
        #expect(id.count == 32 && id.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(info["run_uuid"] == .string(id))
        #expect(info["experiment_id"] == .string(experiment))
        #expect(info["status"] == "RUNNING")
        #expect(info["start_time"] == 1_700_000_000_123)
        #expect(info["end_time"] == nil)
        #expect(info["lifecycle_stage"] == "active")
        #expect(info["user_id"] == "someone")
        #expect(info["artifact_uri"] == .string("mlflow-artifacts:/\(experiment)/\(id)/artifacts"))
        let name = try #require(info["run_name"]?.stringValue)
        #expect(name.split(separator: "-").count == 3 && name.count <= 20, "\(name)")
        #expect(run["data"]?["tags"]?.keyValues == ["team": "vision", "mlflow.runName": name])
        #expect(run["inputs"] == [:])

        // The Default experiment when none is named; a name given as the tag; get by run_uuid.
        let named = try await api.post("runs/create", ["tags": [["key": "mlflow.runName", "value": "tagged"]]])
        #expect(named.body["run"]?["info"]?["experiment_id"] == "0")
        #expect(named.body["run"]?["info"]?["run_name"] == "tagged")
        let namedID = try #require(named.body["run"]?["info"]?["run_id"]?.stringValue)
        let got = try await api.get("runs/get", [("run_uuid", namedID)])
        #expect(got.body["run"]?["info"]?["run_name"] == "tagged")

        expectMLflowError(
            try await api.post("runs/create", ["run_name": "a", "tags": [["key": "mlflow.runName", "value": "b"]]]),
            400,
            "INVALID_PARAMETER_VALUE"
        )
        expectMLflowError(
            try await api.post("runs/create", ["experiment_id": "424242"]),
            404,
            "RESOURCE_DOES_NOT_EXIST"
        )
        expectMLflowError(
            try await api.get("runs/get", [("run_id", "0123456789abcdef0123456789abcdef")]),
            404,
            "RESOURCE_DOES_NOT_EXIST"
        )
        expectMLflowError(try await api.get("runs/get"), 400, "INVALID_PARAMETER_VALUE")
        expectMLflowError(try await api.post("runs/create", ["start_time": "soon"]), 400, "INVALID_PARAMETER_VALUE")
    }

    @Test("log-metric, log-parameter, log-batch and set-tag show in runs/get; NaN and infinities as strings")
    func logAndRead() async throws {
        let temp = TemporaryDirectory("quill-mlflow-log")
        let api = MLflowAPI(try await server(temp))
        let experiment = try await api.createExperiment("logging")
        let id = try await api.createRun(experiment, name: "logged")
        let run: JSONValue = .string(id)
        #expect(
            try await api.post(
                "runs/log-metric",
                ["run_id": run, "key": "loss", "value": 0.5, "timestamp": 1_700_000_000_500, "step": 1]
            ).status == 200
        )
        // int64s and doubles as strings, the run by its older name.
        #expect(
            try await api.post(
                "runs/log-metric",
                ["run_uuid": run, "key": "loss", "value": "0.25", "timestamp": "1700000000600", "step": "2"]
            ).status == 200
        )
        #expect(try await api.post("runs/log-parameter", ["run_id": run, "key": "lr", "value": "0.01"]).status == 200)
        // The same value again is fine.
        #expect(try await api.post("runs/log-parameter", ["run_id": run, "key": "lr", "value": "0.01"]).status == 200)
        let batch = try await api.post(
            "runs/log-batch",
            [
                "run_id": run,
                "metrics": [
                    ["key": "nan", "value": "NaN", "timestamp": 5],
                    ["key": "up", "value": "Infinity", "timestamp": 5, "step": 3],
                    ["key": "down", "value": "-Infinity", "timestamp": 5],
                ],
                "params": [["key": "opt", "value": "adam"], ["key": "empty"]],
                "tags": [["key": "team", "value": "vision"]],
            ]
        )
        #expect(batch.status == 200, "\(batch.body)")
        #expect(batch.body == [:])
        #expect(try await api.post("runs/set-tag", ["run_id": run, "key": "stage", "value": "dev"]).status == 200)

        let shown = try await api.run(id)
        let metrics = Dictionary(
            uniqueKeysWithValues: (shown["data"]?["metrics"]?.arrayValue ?? []).compactMap { metric in
                metric["key"]?.stringValue.map { ($0, metric) }
            }
        )
        #expect(metrics["loss"]?["value"] == 0.25)
        #expect(metrics["loss"]?["step"] == 2)
        #expect(metrics["loss"]?["timestamp"] == 1_700_000_000_600)
        #expect(metrics["nan"]?["value"] == "NaN")
        #expect(metrics["nan"]?["step"] == 0)
        #expect(metrics["up"]?["value"] == "Infinity")
        #expect(metrics["up"]?["step"] == 3)
        #expect(metrics["down"]?["value"] == "-Infinity")
        #expect(shown["data"]?["params"]?.keyValues == ["lr": "0.01", "opt": "adam", "empty": ""])
        #expect(shown["data"]?["tags"]?.keyValues == ["team": "vision", "stage": "dev", "mlflow.runName": "logged"])

        // MLflow's checks of names and values.
        expectMLflowError(
            try await api.post("runs/log-metric", ["run_id": run, "key": "x", "value": 1]),
            400,
            "INVALID_PARAMETER_VALUE"
        )
        expectMLflowError(
            try await api.post("runs/log-metric", ["run_id": run, "key": "x", "value": "lots", "timestamp": 1]),
            400,
            "INVALID_PARAMETER_VALUE"
        )
        expectMLflowError(
            try await api.post("runs/log-metric", ["run_id": run, "key": "x", "value": 1, "timestamp": -1]),
            400,
            "INVALID_PARAMETER_VALUE"
        )
        expectMLflowError(
            try await api.post("runs/log-metric", ["run_id": run, "key": "../x", "value": 1, "timestamp": 1]),
            400,
            "INVALID_PARAMETER_VALUE"
        )
        expectMLflowError(
            try await api.post("runs/log-parameter", ["run_id": run, "value": "v"]),
            400,
            "INVALID_PARAMETER_VALUE"
        )
        expectMLflowError(
            try await api.post(
                "runs/set-tag",
                ["run_id": run, "key": .string(String(repeating: "k", count: 251)), "value": "v"]
            ),
            400,
            "INVALID_PARAMETER_VALUE"
        )
        expectMLflowError(
            try await api.post(
                "runs/log-batch",
                ["run_id": run, "params": [["key": "a", "value": "1"], ["key": "a", "value": "2"]]]
            ),
            400,
            "INVALID_PARAMETER_VALUE"
        )
        expectMLflowError(
            try await api.post("runs/log-batch", ["run_id": run, "metrics": [["key": "m", "value": 1]]]),
            400,
            "INVALID_PARAMETER_VALUE"
        )
        expectMLflowError(try await api.post("runs/log-batch", ["metrics": []]), 400, "INVALID_PARAMETER_VALUE")
        expectMLflowError(
            try await api.post(
                "runs/log-metric",
                ["run_id": "0123456789abcdef0123456789abcdef", "key": "m", "value": 1, "timestamp": 1]
            ),
            404,
            "RESOURCE_DOES_NOT_EXIST"
        )
        // A long param value is cut to 6,000 characters, as MLflow's server does.
        #expect(
            try await api.post(
                "runs/log-parameter",
                ["run_id": run, "key": "long", "value": .string(String(repeating: "v", count: 7000))]
            ).status == 200
        )
        #expect(try await api.run(id)["data"]?["params"]?.keyValues["long"]?.count == 6000)
        // The /ajax-api alias takes writes too.
        var ajax = api
        ajax.prefix = "/ajax-api/2.0/mlflow/"
        #expect(try await ajax.post("runs/set-tag", ["run_id": run, "key": "via", "value": "ajax"]).status == 200)
        #expect(try await api.run(id)["data"]?["tags"]?.keyValues["via"] == "ajax")
    }

    @Test("log-batch takes 1,000 metrics, 100 params and 100 tags and refuses one more of each")
    func batchLimits() async throws {
        let temp = TemporaryDirectory("quill-mlflow-limits")
        let api = MLflowAPI(try await server(temp))
        let id = try await api.createRun(try await api.createExperiment("limits"))
        func metrics(_ count: Int, _ prefix: String = "m") -> JSONValue {
            .array(
                (0..<count).map {
                    ["key": .string(prefix), "value": .double(Double($0)), "timestamp": 1, "step": .int($0)]
                }
            )
        }
        func pairs(_ count: Int, _ prefix: String) -> JSONValue {
            .array((0..<count).map { ["key": .string("\(prefix)\($0)"), "value": "v"] })
        }
        let run: JSONValue = .string(id)
        #expect(try await api.post("runs/log-batch", ["run_id": run, "metrics": metrics(1000)]).status == 200)
        #expect(try await api.post("runs/log-batch", ["run_id": run, "params": pairs(100, "p")]).status == 200)
        #expect(try await api.post("runs/log-batch", ["run_id": run, "tags": pairs(100, "t")]).status == 200)
        #expect(
            try await api.post(
                "runs/log-batch",
                ["run_id": run, "metrics": metrics(900, "n"), "params": pairs(50, "q"), "tags": pairs(50, "u")]
            ).status == 200
        )
        expectMLflowError(
            try await api.post("runs/log-batch", ["run_id": run, "metrics": metrics(1001)]),
            400,
            "INVALID_PARAMETER_VALUE"
        )
        expectMLflowError(
            try await api.post("runs/log-batch", ["run_id": run, "params": pairs(101, "r")]),
            400,
            "INVALID_PARAMETER_VALUE"
        )
        expectMLflowError(
            try await api.post("runs/log-batch", ["run_id": run, "tags": pairs(101, "s")]),
            400,
            "INVALID_PARAMETER_VALUE"
        )
        expectMLflowError(
            try await api.post(
                "runs/log-batch",
                ["run_id": run, "metrics": metrics(1000, "o"), "tags": pairs(1, "w")]
            ),
            400,
            "INVALID_PARAMETER_VALUE"
        )
        let shown = try await api.run(id)
        #expect(shown["data"]?["params"]?.arrayValue?.count == 150)
        let metric = (shown["data"]?["metrics"]?.arrayValue ?? []).first { $0["key"] == "m" }
        #expect(metric?["value"] == 999.0)
        #expect(metric?["step"] == 999)
        // Nothing of a refused batch was written.
        #expect((shown["data"]?["metrics"]?.arrayValue ?? []).contains { $0["key"] == "o" } == false)
    }

    @Test("int64 extremes in times and steps never answer a 5xx")
    func int64Extremes() async throws {
        let temp = TemporaryDirectory("quill-mlflow-extremes")
        let api = MLflowAPI(try await server(temp))
        let id = try await api.createRun(try await api.createExperiment("extremes"))
        let run: JSONValue = .string(id)
        let max = JSONValue.int(Int(Int64.max))
        let min = JSONValue.int(Int(Int64.min))
        for step in [max, min, .string(String(Int64.max)), .string(String(Int64.min))] {
            let answer = try await api.post(
                "runs/log-metric",
                ["run_id": run, "key": "s", "value": 1, "timestamp": 1, "step": step]
            )
            #expect(answer.status == 200, "\(answer.body)")
        }
        for timestamp in [max, .string(String(Int64.max))] {
            let answer = try await api.post(
                "runs/log-metric",
                ["run_id": run, "key": "t", "value": 1, "timestamp": timestamp]
            )
            #expect(answer.status == 400, "\(answer.body)")
            #expect(answer.body["error_code"] == "INVALID_PARAMETER_VALUE")
        }
        for time in [max, min] {
            let created = try await api.post("runs/create", ["start_time": time])
            #expect(created.status == 400, "\(created.body)")
            let updated = try await api.post("runs/update", ["run_id": run, "end_time": time])
            #expect(updated.status == 400, "\(updated.body)")
        }
        let tooBig = try await api.post(
            "runs/log-metric",
            ["run_id": run, "key": "t", "value": 1, "timestamp": "9223372036854775808"]
        )
        #expect(tooBig.status == 400, "\(tooBig.body)")
        let shown = try await api.run(id)
        #expect(shown["info"]?["status"] == "RUNNING")
        let metric = (shown["data"]?["metrics"]?.arrayValue ?? []).first { $0["key"] == "s" }
        #expect(metric?["step"] == min)
    }

    @Test("update sets status, end time and name (with its tag); set-tag mlflow.runName renames")
    func updateRun() async throws {
        let temp = TemporaryDirectory("quill-mlflow-update")
        let api = MLflowAPI(try await server(temp))
        let id = try await api.createRun(try await api.createExperiment("updates"), name: "before")
        let updated = try await api.post(
            "runs/update",
            ["run_uuid": .string(id), "status": "FINISHED", "end_time": 1_700_000_100_000, "run_name": "after"]
        )
        #expect(updated.status == 200, "\(updated.body)")
        let info = updated.body["run_info"] ?? .null
        #expect(info["status"] == "FINISHED")
        #expect(info["end_time"] == 1_700_000_100_000)
        #expect(info["run_name"] == "after")
        #expect(try await api.run(id)["data"]?["tags"]?.keyValues["mlflow.runName"] == "after")
        // A finished run still takes writes, as in MLflow.
        #expect(
            try await api.post("runs/set-tag", ["run_id": .string(id), "key": "mlflow.runName", "value": "third"])
                .status == 200
        )
        let shown = try await api.run(id)
        #expect(shown["info"]?["run_name"] == "third")
        #expect(shown["data"]?["tags"]?.keyValues["mlflow.runName"] == "third")
        for (status, expected) in [
            ("FAILED", "FAILED"), ("KILLED", "KILLED"), ("SCHEDULED", "SCHEDULED"), ("RUNNING", "RUNNING"),
        ] {
            let answer = try await api.post("runs/update", ["run_id": .string(id), "status": .string(status)])
            #expect(answer.body["run_info"]?["status"] == .string(expected), "\(answer.body)")
        }
        expectMLflowError(
            try await api.post("runs/update", ["run_id": .string(id), "status": "DONE"]),
            400,
            "INVALID_PARAMETER_VALUE"
        )
        expectMLflowError(try await api.post("runs/update", ["status": "FINISHED"]), 400, "INVALID_PARAMETER_VALUE")
    }

    @Test("delete and restore are soft; a deleted run refuses writes; params never change; delete-tag")
    func lifecycleAndParams() async throws {
        let temp = TemporaryDirectory("quill-mlflow-lifecycle")
        let api = MLflowAPI(try await server(temp))
        let id = try await api.createRun(try await api.createExperiment("lifecycle"))
        let run: JSONValue = .string(id)
        #expect(try await api.post("runs/log-parameter", ["run_id": run, "key": "lr", "value": "0.1"]).status == 200)
        let changed = try await api.post("runs/log-parameter", ["run_id": run, "key": "lr", "value": "0.2"])
        expectMLflowError(changed, 400, "INVALID_PARAMETER_VALUE")
        #expect(changed.body["message"]?.stringValue?.hasPrefix("Changing param values is not allowed.") == true)
        let changedInBatch = try await api.post(
            "runs/log-batch",
            ["run_id": run, "params": [["key": "lr", "value": "0.3"]]]
        )
        expectMLflowError(changedInBatch, 400, "INVALID_PARAMETER_VALUE")
        #expect(try await api.run(id)["data"]?["params"]?.keyValues == ["lr": "0.1"])

        #expect(try await api.post("runs/set-tag", ["run_id": run, "key": "gone", "value": "soon"]).status == 200)
        #expect(try await api.post("runs/delete-tag", ["run_id": run, "key": "gone"]).status == 200)
        #expect(try await api.run(id)["data"]?["tags"]?.keyValues["gone"] == nil)
        expectMLflowError(
            try await api.post("runs/delete-tag", ["run_id": run, "key": "gone"]),
            404,
            "RESOURCE_DOES_NOT_EXIST"
        )

        #expect(try await api.post("runs/delete", ["run_id": run]).status == 200)
        #expect(try await api.run(id)["info"]?["lifecycle_stage"] == "deleted")
        for (path, body) in [
            ("runs/log-metric", ["run_id": run, "key": "m", "value": 1, "timestamp": 1] as JSONValue),
            ("runs/log-parameter", ["run_id": run, "key": "p", "value": "1"]),
            ("runs/log-batch", ["run_id": run, "tags": [["key": "t", "value": "1"]]]),
            ("runs/set-tag", ["run_id": run, "key": "t", "value": "1"]),
            ("runs/update", ["run_id": run, "status": "FINISHED"]),
        ] {
            let answer = try await api.post(path, body)
            expectMLflowError(answer, 400, "INVALID_PARAMETER_VALUE")
            #expect(answer.body["message"]?.stringValue?.contains("must be in the 'active' state") == true, "\(path)")
        }
        #expect(try await api.post("runs/restore", ["run_id": run]).status == 200)
        #expect(try await api.run(id)["info"]?["lifecycle_stage"] == "active")
        #expect(
            try await api.post("runs/log-metric", ["run_id": run, "key": "m", "value": 1, "timestamp": 1]).status == 200
        )
        expectMLflowError(
            try await api.post("runs/delete", ["run_id": "0123456789abcdef0123456789abcdef"]),
            404,
            "RESOURCE_DOES_NOT_EXIST"
        )
    }
}
