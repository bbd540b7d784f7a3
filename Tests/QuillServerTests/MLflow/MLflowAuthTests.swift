import Foundation
import QuillCore
import QuillTesting
import Testing

/// MLflow's routes on a server with users: the client's token (Bearer) or username and password (Basic, the
/// password an API key) name the caller, and Quill's access rules apply as on its own API.
@Suite("MLflow's API with auth on")
struct MLflowAuthTests {
    @Test(
        "Bearer and Basic keys work; another user's experiment and run are 404 and cannot be written; anonymous writes are 401"
    )
    func accessRules() async throws {
        let temp = TemporaryDirectory("quill-mlflow-auth")
        let server = try await ServerProcess.start(data: temp.file("data"))
        // The first user is an administrator (who reads everything): the two users here come after.
        _ = try await server.createUser("root", admin: true)
        let aliceKey = try await server.createUser("alice")
        let bobKey = try await server.createUser("bob")
        let alice = MLflowAPI(server, credential: .bearer(aliceKey))
        let aliceBasic = MLflowAPI(server, credential: .basic(user: "alice", key: aliceKey))
        let bob = MLflowAPI(server, credential: .basic(user: "bob", key: bobKey))
        let anonymous = MLflowAPI(server)

        let experiment = try await alice.createExperiment("private-work")
        let run = try await alice.createRun(experiment, name: "mine")
        // Basic with the key as the password is the same caller.
        let viaBasic = try await aliceBasic.get("experiments/get", [("experiment_id", experiment)])
        #expect(viaBasic.status == 200, "\(viaBasic.body)")
        #expect(viaBasic.body["experiment"]?["name"] == "private-work")
        #expect(try await aliceBasic.run(run)["info"]?["user_id"] == "alice")
        // Each user has their own Default, "0".
        let aliceDefault = try await alice.get("experiments/get", [("experiment_id", "0")])
        let bobDefault = try await bob.get("experiments/get", [("experiment_id", "0")])
        #expect(aliceDefault.status == 200 && bobDefault.status == 200)
        #expect(aliceDefault.body["experiment"]?["name"] == "Default")
        let bobRun = try await bob.post("runs/create", [:])
        #expect(bobRun.body["run"]?["info"]?["experiment_id"] == "0")
        let bobRunID = try #require(bobRun.body["run"]?["info"]?["run_id"]?.stringValue)
        expectMLflowError(try await alice.get("runs/get", [("run_id", bobRunID)]), 404, "RESOURCE_DOES_NOT_EXIST")

        // Bob cannot see or change Alice's experiment or run.
        expectMLflowError(
            try await bob.get("experiments/get", [("experiment_id", experiment)]),
            404,
            "RESOURCE_DOES_NOT_EXIST"
        )
        expectMLflowError(
            try await bob.get("experiments/get-by-name", [("experiment_name", "alice/private-work")]),
            404,
            "RESOURCE_DOES_NOT_EXIST"
        )
        expectMLflowError(try await bob.get("runs/get", [("run_id", run)]), 404, "RESOURCE_DOES_NOT_EXIST")
        expectMLflowError(
            try await bob.post("runs/log-metric", ["run_id": .string(run), "key": "m", "value": 1, "timestamp": 1]),
            404,
            "RESOURCE_DOES_NOT_EXIST"
        )
        expectMLflowError(
            try await bob.post("runs/create", ["experiment_id": .string(experiment)]),
            404,
            "RESOURCE_DOES_NOT_EXIST"
        )
        expectMLflowError(
            try await bob.post("experiments/delete", ["experiment_id": .string(experiment)]),
            404,
            "RESOURCE_DOES_NOT_EXIST"
        )
        let bobSearch = try await bob.post("experiments/search", ["max_results": 100])
        let bobSees = (bobSearch.body["experiments"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        #expect(!bobSees.contains { $0.contains("private-work") }, "\(bobSees)")

        // Anonymous callers may not write, and have no Default.
        expectMLflowError(try await anonymous.post("experiments/create", ["name": "anon"]), 401, "UNAUTHENTICATED")
        expectMLflowError(try await anonymous.post("runs/create", [:]), 401, "UNAUTHENTICATED")
        expectMLflowError(
            try await anonymous.post("runs/set-tag", ["run_id": .string(run), "key": "k", "value": "v"]),
            401,
            "UNAUTHENTICATED"
        )
        expectMLflowError(
            try await anonymous.get("experiments/get", [("experiment_id", "0")]),
            404,
            "RESOURCE_DOES_NOT_EXIST"
        )
        expectMLflowError(try await anonymous.get("runs/get", [("run_id", run)]), 404, "RESOURCE_DOES_NOT_EXIST")
        // A wrong key is refused.
        let wrong = MLflowAPI(server, credential: .bearer("qk_not_a_key"))
        #expect(try await wrong.get("experiments/get", [("experiment_id", experiment)]).status == 401)
    }
}
