import Foundation
import QuillCore
import QuillImport
import QuillStore
import QuillTesting
import Testing

/// A real `mlflow server` on 127.0.0.1 (SQLite backend, proxied artifacts), stopped with the workers it starts.
final class MLflowServer: Sendable {
    let url: String
    let process: Process

    init(python: String, work: TemporaryDirectory) async throws {
        let port = try await BuiltProducts.run(
            python,
            ["-c", "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"]
        ).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        url = "http://127.0.0.1:" + port
        let process = Process()
        process.executableURL = URL(fileURLWithPath: (python as NSString).deletingLastPathComponent + "/mlflow")
        process.arguments = [
            "server", "--backend-store-uri", "sqlite:///" + work.file("server.db"), "--artifacts-destination",
            work.file("server-artifacts"), "--host", "127.0.0.1", "--port", port, "--workers", "1",
        ]
        process.environment = ProcessInfo.processInfo.environment.merging(["MLFLOW_DISABLE_TELEMETRY": "true"]) { $1 }
        _ = FileManager.default.createFile(atPath: work.file("server.log"), contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: work.file("server.log")))
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        self.process = process
        let url = self.url
        // Up to two minutes: MLflow's server imports a lot on a loaded machine.
        let up = await eventually(timeout: .seconds(120), poll: .milliseconds(500)) {
            (try? MLflowServerReader(url: url, environment: [:])) != nil
        }
        if !up {
            stop()
            let tail = (try? String(contentsOfFile: work.file("server.log"), encoding: .utf8))?.suffix(1500) ?? ""
            Issue.record("mlflow server did not answer on \(url) within 120 s: \(tail)")
            throw CancellationError()
        }
    }

    /// The process and everything it started (uvicorn and its workers), children first.
    static func tree(_ pid: Int32) -> [Int32] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        let children = tasks.flatMap { task in
            ((try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/children", encoding: .utf8)) ?? "")
                .split(separator: " ").compactMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        return children.flatMap(tree) + [pid]
    }

    /// Stops the server and its workers: SIGTERM, then SIGKILL after 10 s.
    func stop() {
        let processes = Self.tree(process.processIdentifier)
        for pid in processes { kill(pid, SIGTERM) }
        let deadline = Date().addingTimeInterval(10)
        while processes.contains(where: {
            kill($0, 0) == 0 && FileManager.default.fileExists(atPath: "/proc/\($0)/cmdline")
        }),
            Date() < deadline, process.isRunning
        {
            usleep(100_000)
        }
        for pid in processes { kill(pid, SIGKILL) }
        process.waitUntilExit()
    }
}

/// Imports from a running MLflow server, through its REST API, and compares with MLflow's own client's view.
@Suite(.serialized)
struct MLflowServerImportTests {
    @Test("a running MLflow server imports point for point, and a second import duplicates nothing")
    func server() async throws {
        let python = try Fixtures.mlflowPython()
        let work = TemporaryDirectory("mlflow-server")
        let server = try await MLflowServer(python: python, work: work)
        defer { server.stop() }
        let dump = try await Fixtures.run(
            python,
            "mlflow_fixture.py",
            [server.url, work.path, work.file("dump.json"), "5000"],
            dump: work.file("dump.json")
        )
        let fresh = try FreshStore()
        let source = try MLflowServerReader(url: server.url, environment: [:])
        let report = try await fresh.importing(source)
        #expect(report.read.runs == 8)
        #expect(report.written.runs == 8)
        #expect(report.read.artifacts == 3)
        let compared = try await MLflowComparison.check(dump, fresh, report)
        #expect(compared == 5000 + 7 + 3 + 1 + 40 + 1 + 1 + 1)
        let before = try await fresh.counts()
        let again = try await fresh.importing(try MLflowServerReader(url: server.url, environment: [:]))
        #expect(again.written == ImportCounts())
        #expect(try await fresh.counts() == before)
    }

    @Test("a server that does not answer is one line that says what to check")
    func unreachable() async throws {
        // The discard port: nothing listens there on a test machine.
        let error = #expect(throws: QuillError.self) {
            try MLflowServerReader(url: "http://127.0.0.1:9", environment: [:])
        }
        #expect(error?.message.hasPrefix("cannot reach the MLflow server at http://127.0.0.1:9") == true)
        #expect(error?.message.hasSuffix("check the URL and that `mlflow server` runs there") == true)
    }
}
