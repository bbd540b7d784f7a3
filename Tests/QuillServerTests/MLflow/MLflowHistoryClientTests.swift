import Foundation
import QuillCore
import QuillTesting
import Testing

/// MLflow's real Python client (`mlflow` from QUILL_TEST_MLFLOW_PYTHON) reads metric history and moves artifacts
/// through `quill serve`: `MlflowClient().get_metric_history` over several pages of 25,000, and the artifact
/// repository of a run's `mlflow-artifacts:/` URI (upload, nested folders, an empty file sent chunked,
/// percent-encoded names, listings, downloads).
@Suite("MLflow's Python client: history and artifacts")
struct MLflowHistoryClientTests {
    static let script = MLflowPython.interopScript("mlflow_history_artifacts.py")

    @Test(
        "get_metric_history returns every point of 60,000 exactly (NaN, infinities) and artifacts go up, list and come down byte for byte",
        .timeLimit(.minutes(5))
    )
    func historyAndArtifacts() async throws {
        guard let python = MLflowPython.interpreter() else { return }
        let temp = TemporaryDirectory("quill-mlflow-history-client")
        let server = try await ServerProcess.start(data: temp.file("data"))
        let run = try await server.newRun(project: "client")
        let base = Int64(1_790_000_000_000)
        var points = (0..<60_000).map { index in
            HistoryPoint(milliseconds: base + Int64(index), step: Int64(index), value: 1 / Double(index + 1))
        }
        points[7].value = .nan
        points[30_000].value = .infinity
        points[59_999].value = -.infinity
        points[12_345].value = 0.1 + 0.2
        try await server.logLoss(run, points)
        let native = Data("logged through Quill's API".utf8)
        #expect(try await server.put(run, "native/quill file.bin", native).status == 200)
        let experiment = try await server.experimentID(of: run)

        let work = temp.file("work")
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let result = try await BuiltProducts.run(
            python,
            [
                Self.script.path, "http://127.0.0.1:\(server.port)", run,
                "mlflow-artifacts:/\(experiment)/\(run)/artifacts", work,
            ],
            environment: MLflowPython.environment()
        )
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        guard result.status == 0 else { return }
        let seen = try JSONParser.parse(Array(result.stdout.utf8))

        let history = seen["history"]?.arrayValue ?? []
        #expect(history.count == points.count)
        let parsed = history.compactMap { item -> HistoryPoint? in
            guard let parts = item.arrayValue, parts.count == 3, let step = parts[0].intValue,
                let time = parts[1].intValue, let text = parts[2].stringValue
            else { return nil }
            let value: Double? =
                switch text {
                case "NaN": .nan
                case "Infinity": .infinity
                case "-Infinity": -.infinity
                default: Double(text)
                }
            return value.map { HistoryPoint(milliseconds: Int64(time), step: Int64(step), value: $0) }
        }
        #expect(
            parsed == points,
            "first difference at \(String(describing: parsed.indices.first { $0 < points.count && parsed[$0] != points[$0] }))"
        )
        #expect(seen["history_keys"] == ["loss"])
        #expect(seen["missing_metric"] == 0)

        func listing(_ name: String) -> [String] {
            (seen[name]?.arrayValue ?? []).map { entry in
                let parts = entry.arrayValue ?? []
                guard parts.count == 3 else { return "malformed \(entry)" }
                let size = parts[2].intValue.map(String.init) ?? "-"
                return "\(parts[0].stringValue ?? "?") \(parts[1] == true ? "dir" : "file") \(size)"
            }
        }
        #expect(
            listing("list_root") == [
                "100% sure.txt file 8", "a b.txt file 19", "folder dir -", "native dir -",
                "plus+and&amp;=.bin file 10240",
                "tree dir -", "unicod\u{e9} \u{fc}.json file 13",
            ]
        )
        #expect(listing("list_tree") == ["tree/space dir dir -", "tree/sub dir -", "tree/top.csv file 8"])
        #expect(listing("list_sub") == ["tree/sub/deep dir -", "tree/sub/empty.log file 0"])
        #expect(listing("list_deep") == ["tree/sub/deep/x.yaml file 5"])
        #expect(listing("list_space") == ["tree/space dir/y z.txt file 2"])
        #expect(listing("list_file") == [])
        #expect(listing("list_missing") == [])
        #expect(listing("list_native") == ["native/quill file.bin file 26"])

        var expected = seen["expected"]?.objectValue ?? [:]
        #expect(expected.count == 9)
        expected["native/quill file.bin"] = .string(SHA256.hex(of: native))
        #expect(seen["downloaded"]?.objectValue == expected)
        #expect(seen["single"] == "y\n")

        // What the client uploaded is Quill's artifact: Quill's API reads it, an empty file included.
        let empty = try await server.get(run, "folder/empty.txt")
        #expect(empty.status == 200 && empty.data.isEmpty)
        #expect(try await server.get(run, "a b.txt").data == Data("spaces in the name\n".utf8))
        #expect(try await server.get(run, "unicod\u{e9} \u{fc}.json").data == Data("{\"caf\u{e9}\": 1}\n".utf8))
    }

    static let fluentScript = MLflowPython.interopScript("mlflow_fluent_history_artifacts.py")

    @Test(
        "the fluent client logs 30,005 points and a tree of artifacts, and reads every point and byte back",
        .timeLimit(.minutes(5))
    )
    func fluentWorkflow() async throws {
        guard let python = MLflowPython.interpreter() else { return }
        let temp = TemporaryDirectory("quill-mlflow-fluent")
        let server = try await ServerProcess.start(data: temp.file("data"))
        let work = temp.file("work")
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let result = try await BuiltProducts.run(
            python,
            [Self.fluentScript.path, "http://127.0.0.1:\(server.port)", work],
            environment: MLflowPython.environment()
        )
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        guard result.status == 0 else { return }
        let seen = try JSONParser.parse(Array(result.stdout.utf8))
        #expect(seen["points"] == 30_005)
        #expect(
            seen["fluent"]?.arrayValue?.compactMap { $0.arrayValue?.last?.stringValue } == [
                "0.5", "nan", "inf", "-inf", "0.30000000000000004",
            ]
        )
        func paths(_ name: String) -> [String] {
            (seen[name]?.arrayValue ?? []).compactMap { $0.arrayValue?.first?.stringValue }
        }
        #expect(
            paths("root") == [
                "a", "files", "report b.txt", "r\u{e9}sum\u{e9} 100%.md", "top.json", "tree", "weights+v1.bin",
                "with space",
            ]
        )
        #expect(paths("tree") == ["tree/a", "tree/top.json", "tree/with space"])
        #expect(paths("deep") == ["tree/a/b/c/deep.csv"])
        #expect(paths("space") == ["with space/n\u{e4}me.txt"])
        #expect(paths("file").isEmpty && paths("missing").isEmpty)
        #expect(seen["downloaded"] == 12)

        // The run and its files are Quill's: its own API reads them.
        let run = try #require(seen["run_id"]?.stringValue)
        let listed = try await server.request("GET", "/api/v1/runs/\(run)/artifacts")
        #expect(listed.body?["artifacts"]?.arrayValue?.count == 12)
        let weights = try await server.get(run, "weights+v1.bin")
        #expect(weights.status == 200)
        #expect(SHA256.hex(of: weights.data) == seen["weights_sha256"]?.stringValue)
        let empty = try await server.get(run, "files/empty.txt")
        #expect(empty.status == 200 && empty.data.isEmpty)
    }
}
