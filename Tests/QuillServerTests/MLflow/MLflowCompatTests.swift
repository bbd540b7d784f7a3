import Foundation
import QuillCore
import QuillTesting
import Testing

/// MLflow's own Python client (mlflow-skinny, from the virtualenv scripts/test.sh makes) against a real
/// `quill serve`: the compatibility suite `Tests/MLflowCompat/compat_test.py`, which passes against MLflow's own
/// server, must pass against Quill too; so must the shared smoke test `../shared/mlflow_smoke.py` when present.
@Suite("MLflow's own client against quill serve")
struct MLflowCompatTests {
    static let python = MLflowPython.python
    static let tests = MLflowPython.tests
    static let suite = tests.appendingPathComponent("MLflowCompat/compat_test.py").path
    static let smoke =
        ProcessInfo.processInfo.environment["QUILL_MLFLOW_SMOKE"]
        ?? tests.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
            "shared/mlflow_smoke.py"
        )
        .path

    /// The client's settings (``MLflowPython/environment(token:username:password:)``).
    static func environment(token: String = "", username: String = "", password: String = "") -> [String: String] {
        MLflowPython.environment(token: token, username: username, password: password)
    }

    static func requirePython() throws -> String {
        try #require(
            python,
            "set QUILL_TEST_MLFLOW_PYTHON to a Python with mlflow-skinny 3.17.2 (scripts/test.sh makes .build/venv-mlflow-skinny)"
        )
    }

    /// Checks of the suite that fail against Quill today, by name, with why: each is a known issue while it fails,
    /// and the test fails once it passes, so this list stays true. Reported to the route owners.
    /// Empty: every check passes (the last, an unknown run's history, since it answers empty as MLflow's does).
    static let knownFailures: [String: String] = [:]

    /// Runs the suite against `server` and checks that every check passed, naming each that did not.
    func runSuite(
        _ server: ServerProcess,
        _ extra: [String] = [],
        environment: [String: String] = MLflowCompatTests.environment(),
        atLeast: Int
    ) async throws {
        let result = try await BuiltProducts.run(
            try Self.requirePython(),
            [Self.suite, "http://127.0.0.1:\(server.port)"] + extra,
            environment: environment
        )
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let failures = lines.filter { $0.hasPrefix("FAIL ") }
        let ran = Set(
            lines.compactMap { line -> String? in
                guard line.hasPrefix("PASS ") || line.hasPrefix("FAIL ") else { return nil }
                return String(line.dropFirst(5).components(separatedBy: " :: ")[0])
            }
        )
        let unexpected = failures.filter { line in
            Self.knownFailures[String(line.dropFirst(5).components(separatedBy: " :: ")[0])] == nil
        }
        #expect(unexpected.isEmpty, "\(unexpected.count) compat checks fail:\n\(unexpected.joined(separator: "\n"))")
        for (name, why) in Self.knownFailures.sorted(by: { $0.key < $1.key }) where ran.contains(name) {
            let failure = failures.first { $0.hasPrefix("FAIL \(name) :: ") }
            withKnownIssue("\(name): \(why)") {
                #expect(failure == nil, "\(failure ?? "")")
            }
        }
        if unexpected.isEmpty && failures.isEmpty {
            #expect(result.status == 0, "exit \(result.status)\n\(result.stderr.suffix(2000))")
        }
        #expect(ran.count >= atLeast, "\(lines.suffix(3))\n\(result.stderr.suffix(2000))")
    }

    @Test("the MLflow compatibility suite passes against quill serve", .timeLimit(.minutes(10)))
    func compatibilitySuite() async throws {
        let temp = TemporaryDirectory("quill-mlflow-compat")
        let server = try await ServerProcess.start(data: temp.file("data"))
        try await runSuite(server, atLeast: 84)
    }

    @Test(
        "with users, MLflow's client works with an API key as its token or as a basic-auth password; without one it is refused",
        .timeLimit(.minutes(10))
    )
    func compatibilitySuiteWithAuth() async throws {
        let temp = TemporaryDirectory("quill-mlflow-compat-auth")
        let server = try await ServerProcess.start(data: temp.file("data"))
        let key = try await server.createUser("ada")
        try await runSuite(
            server,
            ["--only", "run: ", "--signed-in-user", "ada"],
            environment: Self.environment(token: key),
            atLeast: 15
        )
        try await runSuite(
            server,
            ["--only", "experiment: ", "--signed-in-user", "ada"],
            environment: Self.environment(username: "ada", password: key),
            atLeast: 10
        )
        let anonymous = try await server.request("POST", "/api/2.0/mlflow/experiments/create", json: ["name": "x"])
        #expect(anonymous.status == 401)
        #expect(anonymous.body?["error_code"] == "UNAUTHENTICATED")
        let wrong = try await BuiltProducts.run(
            try Self.requirePython(),
            [Self.suite, "http://127.0.0.1:\(server.port)", "--only", "run: create_run with name"],
            environment: Self.environment(token: "qk_not_a_key")
        )
        #expect(wrong.status != 0)
        #expect(!wrong.stdout.contains("PASS "), "\(wrong.stdout)")
    }

    @Test(
        "the shared MLflow smoke test passes against quill serve",
        .enabled(
            if: FileManager.default.fileExists(atPath: smoke),
            "needs ../shared/mlflow_smoke.py next to the repository"
        ),
        .timeLimit(.minutes(3))
    )
    func sharedSmokeTest() async throws {
        let temp = TemporaryDirectory("quill-mlflow-smoke")
        let server = try await ServerProcess.start(data: temp.file("data"))
        let result = try await BuiltProducts.run(
            try Self.requirePython(),
            [Self.smoke, "http://127.0.0.1:\(server.port)"],
            environment: Self.environment()
        )
        #expect(result.status == 0, "\(result.stdout)\(result.stderr.suffix(2000))")
        #expect(result.stdout.contains(" passed, 0 failed"), "\(result.stdout)")
    }
}
