import Foundation
import QuillTesting
import Testing

/// MLflow's real Python client for the tests: the interpreter scripts/test.sh provides, the scripts that drive
/// it, and the settings every run of it gets.
enum MLflowPython {
    /// The interpreter with `mlflow-skinny` (scripts/test.sh sets `QUILL_TEST_MLFLOW_PYTHON`).
    static let python = ProcessInfo.processInfo.environment["QUILL_TEST_MLFLOW_PYTHON"]

    /// `Tests/`.
    static let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// A script of `Tests/Interop/`.
    static func interopScript(_ name: String) -> URL {
        tests.appendingPathComponent("Interop").appendingPathComponent(name)
    }

    /// The interpreter, or a recorded failure saying how to provide one (a test without it fails, never passes).
    static func interpreter() -> String? {
        guard let python, !python.isEmpty else {
            Issue.record(
                "QUILL_TEST_MLFLOW_PYTHON is not set: point it at a Python with mlflow (scripts/test.sh sets it)"
            )
            return nil
        }
        return python
    }

    /// The client's settings: no telemetry, no retries, and no credentials from the developer's shell unless given.
    static func environment(token: String = "", username: String = "", password: String = "") -> [String: String] {
        [
            "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true", "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
            "MLFLOW_TRACKING_TOKEN": token, "MLFLOW_TRACKING_USERNAME": username, "MLFLOW_TRACKING_PASSWORD": password,
        ]
    }
}
