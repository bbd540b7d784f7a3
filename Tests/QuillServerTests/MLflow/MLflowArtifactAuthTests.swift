import Foundation
import QuillCore
import QuillTesting
import Testing

/// The history and artifact endpoints of MLflow's API ask the same access rules as Quill's own: another user's
/// private run is missing (404) whatever the request, a public run may be read but not written (403), and an
/// anonymous writer on a server with users is unauthenticated (401).
@Suite("MLflow's history and artifact endpoints with users")
struct MLflowArtifactAuthTests {
    @Test("reads of a run the caller may not read are 404, writes 404, 403 or 401 as Quill's API answers them")
    func accessRules() async throws {
        let temp = TemporaryDirectory("quill-mlflow-artifact-auth")
        let server = try await ServerProcess.start(data: temp.file("data"))
        let root = try await server.createUser("root", admin: true)
        try await AuthTests().waitForAuth(server)
        let ada = try await AuthTests().user("ada", on: server, by: root)
        let bob = try await AuthTests().user("bob", on: server, by: root)

        let created = try await server.request(
            "POST",
            "/api/v1/runs",
            json: ["project": "Secret", "name": "r"],
            key: ada
        )
        let run = try #require(created.body?["id"]?.stringValue)
        try await server.logLoss(run, [HistoryPoint(milliseconds: 1_790_000_000_000, step: 0, value: 1)], key: ada)
        let experiment = try await server.experimentID(of: run, key: ada)
        let artifact = "/api/2.0/mlflow-artifacts/artifacts/\(experiment)/\(run)/artifacts/model.bin"
        #expect(
            try await server.raw("PUT", artifact, body: Data("w".utf8), headers: ["Authorization": "Bearer \(ada)"])
                .status == 200
        )

        // Ada reads and writes through every endpoint.
        let reads = [
            "/api/2.0/mlflow/metrics/get-history?run_id=\(run)&metric_key=loss",
            "/api/2.0/mlflow/metrics/get-history-bulk-interval?run_ids=\(run)&metric_key=loss",
            "/api/2.0/mlflow/artifacts/list?run_id=\(run)",
            "/api/2.0/mlflow-artifacts/artifacts?path=\(experiment)%2F\(run)%2Fartifacts",
            artifact,
        ]
        for path in reads {
            #expect(try await server.mlflow(path, key: ada).status == 200, "\(path)")
        }
        let outputs: JSONValue = ["run_id": .string(run), "models": []]
        #expect(try await server.mlflow("POST", "/api/2.0/mlflow/runs/outputs", json: outputs, key: ada).status == 200)

        // Bob, and anonymous callers, cannot see the private run at all.
        for caller in [bob, nil] {
            for path in reads {
                let answer = try await server.mlflow(path, key: caller)
                if path.contains("/get-history?") {
                    // As for an unknown run (MLflow's server does not check the run): an empty history.
                    #expect(answer.status == 200 && answer.body == [:], "\(path) \(answer.body)")
                } else {
                    expectHistoryError(answer, 404, "RESOURCE_DOES_NOT_EXIST", path)
                }
            }
        }
        expectHistoryError(
            try await server.mlflow("PUT", artifact, json: ["stolen": true], key: bob),
            404,
            "RESOURCE_DOES_NOT_EXIST"
        )
        expectHistoryError(
            try await server.mlflow("POST", "/api/2.0/mlflow/runs/outputs", json: outputs, key: bob),
            404,
            "RESOURCE_DOES_NOT_EXIST"
        )
        // Anonymous writes are refused before anything else.
        expectHistoryError(try await server.mlflow("PUT", artifact, json: ["x": 1]), 401, "UNAUTHENTICATED")
        expectHistoryError(
            try await server.mlflow("PUT", "/api/2.0/mlflow-artifacts/artifacts/0/zzzz9999/artifacts/x"),
            401,
            "UNAUTHENTICATED"
        )
        expectHistoryError(
            try await server.mlflow("POST", "/api/2.0/mlflow/runs/outputs", json: outputs),
            401,
            "UNAUTHENTICATED"
        )
        // A bad key is refused as such.
        expectHistoryError(try await server.mlflow(reads[0], key: "qk_not_a_key"), 401, "UNAUTHENTICATED")

        // Once the project is public, Bob reads but may not write: 403.
        let shared = try await server.request(
            "PATCH",
            "/api/v1/projects/ada/secret",
            json: ["visibility": "public"],
            key: ada
        )
        #expect(shared.status == 200, "\(String(describing: shared.body))")
        for path in reads {
            #expect(try await server.mlflow(path, key: bob).status == 200, "\(path)")
        }
        #expect(
            try await server.raw("GET", artifact, headers: ["Authorization": "Bearer \(bob)"]).data == Data("w".utf8)
        )
        expectHistoryError(try await server.mlflow("PUT", artifact, json: ["x": 1], key: bob), 403, "PERMISSION_DENIED")
        expectHistoryError(
            try await server.mlflow("POST", "/api/2.0/mlflow/runs/outputs", json: outputs, key: bob),
            403,
            "PERMISSION_DENIED"
        )
        // The refused upload changed nothing.
        #expect(
            try await server.raw("GET", artifact, headers: ["Authorization": "Bearer \(ada)"]).data == Data("w".utf8)
        )
    }
}
