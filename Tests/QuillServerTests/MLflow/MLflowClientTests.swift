import Foundation
import QuillCore
import QuillTesting
import Testing

/// MLflow's real Python client (`mlflow` 3.x from QUILL_TEST_MLFLOW_PYTHON) against `quill serve`, unchanged:
/// fluent runs, nested runs, failures, `MlflowClient` logging, renames, deletes and restores, searches.
@Suite("MLflow's Python client against quill serve")
struct MLflowClientTests {
    static let script = MLflowPython.interopScript("mlflow_client_workflow.py")

    func runWorkflow(_ server: ServerProcess, token: String? = nil) async throws -> JSONValue? {
        guard let python = MLflowPython.interpreter() else { return nil }
        let environment = MLflowPython.environment(token: token ?? "")
        let result = try await BuiltProducts.run(
            python,
            [Self.script.path, "http://127.0.0.1:\(server.port)"],
            environment: environment
        )
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        guard result.status == 0 else { return nil }
        return try JSONParser.parse(Array(result.stdout.utf8))
    }

    @Test("the client's workflows run unchanged on a single-user server", .timeLimit(.minutes(5)))
    func singleUser() async throws {
        let temp = TemporaryDirectory("quill-mlflow-client")
        let server = try await ServerProcess.start(data: temp.file("data"))
        guard let seen = try await runWorkflow(server) else { return }
        // What the client logged is Quill's run: the nested run's parent is recorded.
        let parent = try #require(seen["parent"]?.stringValue)
        let child = try #require(seen["child"]?.stringValue)
        let (status, body) = try await server.request("GET", "/api/v1/runs/\(child)")
        #expect(status == 200, "\(String(describing: body))")
        #expect(body?["parent"]?.stringValue == parent, "\(String(describing: body))")
    }

    @Test("the client's workflows run with MLFLOW_TRACKING_TOKEN on a server with users", .timeLimit(.minutes(5)))
    func withToken() async throws {
        let temp = TemporaryDirectory("quill-mlflow-client-auth")
        let server = try await ServerProcess.start(data: temp.file("data"))
        let key = try await server.createUser("trainer")
        guard let seen = try await runWorkflow(server, token: key) else { return }
        let api = MLflowAPI(server, credential: .bearer(key))
        let run = try await api.run(try #require(seen["parent"]?.stringValue))
        #expect(run["info"]?["user_id"] == "trainer")
        // Nobody else sees it.
        expectMLflowError(
            try await MLflowAPI(server).get("runs/get", [("run_id", try #require(seen["parent"]?.stringValue))]),
            404,
            "RESOURCE_DOES_NOT_EXIST"
        )
    }
}
