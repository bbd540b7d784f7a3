import Foundation
import QuillCore
import QuillTesting
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// MLflow's proxied-artifact API (`/api/2.0/mlflow-artifacts/artifacts/…`) and the tracking API's
/// `artifacts/list` of a real `quill serve`, over HTTP.
@Suite("MLflow's artifact endpoints")
struct MLflowArtifactTests {
    /// A path segment or name percent-encoded as MLflow's client (`requests`) sends it.
    static func pathEncode(_ text: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "%?#")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// A query value form-encoded as `requests` sends it (space as `+`).
    static func formEncode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~ ")
        return (text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text).replacingOccurrences(
            of: " ",
            with: "+"
        )
    }

    struct Fixture {
        let temp: TemporaryDirectory
        let server: ServerProcess
        let run: String
        let experiment: String

        var root: String { "/api/2.0/mlflow-artifacts/artifacts/\(experiment)/\(run)/artifacts" }

        func put(_ path: String, _ bytes: Data, key: String? = nil) async throws -> RawResponse {
            try await server.raw(
                "PUT",
                root + "/" + MLflowArtifactTests.pathEncode(path),
                body: bytes,
                headers: key.map { ["Authorization": "Bearer \($0)"] } ?? [:]
            )
        }

        func get(_ path: String, headers: [String: String] = [:]) async throws -> RawResponse {
            try await server.raw("GET", root + "/" + MLflowArtifactTests.pathEncode(path), headers: headers)
        }

        /// The proxied listing of a folder of the run's artifacts (`""` for the root).
        func list(_ folder: String) async throws -> (status: Int, body: JSONValue) {
            let path = "\(experiment)/\(run)/artifacts" + (folder.isEmpty ? "" : "/" + folder)
            return try await server.mlflow(
                "/api/2.0/mlflow-artifacts/artifacts?path=\(MLflowArtifactTests.formEncode(path))"
            )
        }

        /// The tracking API's listing of a folder (`nil` for the root).
        func trackingList(_ folder: String?) async throws -> (status: Int, body: JSONValue) {
            let path = folder.map { "&path=\(MLflowArtifactTests.formEncode($0))" } ?? ""
            return try await server.mlflow("/api/2.0/mlflow/artifacts/list?run_id=\(run)\(path)")
        }
    }

    static func fixture(_ label: String) async throws -> Fixture {
        let temp = TemporaryDirectory(label)
        let server = try await ServerProcess.start(data: temp.file("data"))
        let run = try await server.newRun(project: "artifacts")
        let experiment = try await server.experimentID(of: run)
        return Fixture(temp: temp, server: server, run: run, experiment: experiment)
    }

    static func entries(_ body: JSONValue) -> [[String]] {
        (body["files"]?.arrayValue ?? []).map { file in
            [
                file["path"]?.stringValue ?? "?", file["is_dir"] == true ? "dir" : "file",
                file["file_size"]?.intValue.map(String.init) ?? "-",
            ]
        }
    }

    @Test("raw-body uploads with percent-encoded names and folders list one level at a time and download byte for byte")
    func uploadListDownload() async throws {
        let fixture = try await Self.fixture("quill-mlflow-artifacts")
        let binary = Data((0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let files: [(String, Data)] = [
            ("a b.txt", Data("spaces\n".utf8)),
            ("caf\u{e9} \u{fc}.json", Data("{}".utf8)),
            ("100% sure.txt", Data("percent".utf8)),
            ("plus+and&=;.bin", binary),
            ("folder/empty.txt", Data()),
            ("tree/sub/deep/x.yaml", Data("x: 1\n".utf8)),
            ("tree/space dir/y z.txt", Data("y".utf8)),
            ("tree/top.csv", Data("a,b\n".utf8)),
        ]
        for (path, bytes) in files {
            let answer = try await fixture.put(path, bytes)
            #expect(answer.status == 200, "\(path): \(String(decoding: answer.data, as: UTF8.self))")
            #expect(answer.data.isEmpty, "\(path)")
        }
        let root = try await fixture.list("")
        #expect(root.status == 200)
        #expect(
            Self.entries(root.body) == [
                ["100% sure.txt", "file", "7"], ["a b.txt", "file", "7"], ["caf\u{e9} \u{fc}.json", "file", "2"],
                ["folder", "dir", "-"], ["plus+and&=;.bin", "file", "70000"], ["tree", "dir", "-"],
            ]
        )
        #expect(
            Self.entries(try await fixture.list("tree").body) == [
                ["space dir", "dir", "-"], ["sub", "dir", "-"], ["top.csv", "file", "4"],
            ]
        )
        #expect(Self.entries(try await fixture.list("tree/sub").body) == [["deep", "dir", "-"]])
        #expect(Self.entries(try await fixture.list("tree/space dir").body) == [["y z.txt", "file", "1"]])
        #expect(Self.entries(try await fixture.list("folder").body) == [["empty.txt", "file", "0"]])
        // A listed file, or a folder that does not exist, is `{}`.
        for empty in ["folder/empty.txt", "nothing", "tree/sub/none"] {
            let answer = try await fixture.list(empty)
            #expect(answer.status == 200 && answer.body == [:], "\(empty): \(answer.body)")
        }
        // Above the run's artifacts: the run shows its `artifacts` folder.
        let runLevel = try await fixture.server.mlflow(
            "/api/2.0/mlflow-artifacts/artifacts?path=\(fixture.experiment)%2F\(fixture.run)"
        )
        #expect(Self.entries(runLevel.body) == [["artifacts", "dir", "-"]])

        for (path, bytes) in files {
            let answer = try await fixture.get(path)
            #expect(answer.status == 200, "\(path)")
            #expect(answer.data == bytes, "\(path)")
        }
        let json = try await fixture.get("tree/sub/deep/x.yaml")
        #expect(json.headers["content-type"] == "text/plain")
        #expect(json.headers["content-disposition"] == "attachment; filename=x.yaml")
        #expect(json.headers["x-content-type-options"] == "nosniff")
        let spaced = try await fixture.get("a b.txt")
        #expect(spaced.headers["content-disposition"] == "attachment; filename=\"a b.txt\"")
        let unicode = try await fixture.get("caf\u{e9} \u{fc}.json")
        #expect(
            unicode.headers["content-disposition"]
                == "attachment; filename=\"cafe u.json\"; filename*=UTF-8''caf%C3%A9%20%C3%BC.json"
        )
        #expect(try await fixture.get("plus+and&=;.bin").headers["content-type"] == "application/octet-stream")
        let range = try await fixture.get("plus+and&=;.bin", headers: ["Range": "bytes=10-19"])
        #expect(range.status == 206)
        #expect(range.data == binary[10..<20])

        // Uploading again replaces the file.
        #expect(try await fixture.put("tree/top.csv", Data("new".utf8)).status == 200)
        #expect(try await fixture.get("tree/top.csv").data == Data("new".utf8))

        // The tracking API lists with paths relative to the run's root, and the root's URI.
        let tracking = try await fixture.trackingList(nil)
        #expect(
            tracking.body["root_uri"]?.stringValue == "mlflow-artifacts:/\(fixture.experiment)/\(fixture.run)/artifacts"
        )
        #expect(
            Self.entries(tracking.body).map { $0[0] } == [
                "100% sure.txt", "a b.txt", "caf\u{e9} \u{fc}.json", "folder", "plus+and&=;.bin", "tree",
            ]
        )
        #expect(
            Self.entries(try await fixture.trackingList("tree/space dir").body) == [
                ["tree/space dir/y z.txt", "file", "1"]
            ]
        )
        #expect(
            Self.entries(try await fixture.trackingList("tree/").body).map { $0[0] } == [
                "tree/space dir", "tree/sub", "tree/top.csv",
            ]
        )
        for listedFile in ["tree/top.csv", "none"] {
            let answer = try await fixture.trackingList(listedFile)
            #expect(answer.status == 200)
            #expect(
                answer.body == ["root_uri": .string("mlflow-artifacts:/\(fixture.experiment)/\(fixture.run)/artifacts")]
            )
        }
    }

    @Test("files logged through Quill's API show through MLflow's, and MLflow's through Quill's")
    func bothWays() async throws {
        let fixture = try await Self.fixture("quill-mlflow-artifacts-both")
        let native = Data("logged by quill".utf8)
        #expect(try await fixture.server.put(fixture.run, "models/best model.bin", native).status == 200)
        #expect(Self.entries(try await fixture.list("models").body) == [["best model.bin", "file", "15"]])
        #expect(try await fixture.get("models/best model.bin").data == native)

        let viaMLflow = Data("logged by mlflow".utf8)
        #expect(try await fixture.put("plots/loss curve.png", viaMLflow).status == 200)
        #expect(try await fixture.get("plots/loss curve.png").headers["content-type"] == "image/png")
        let back = try await fixture.server.get(fixture.run, "plots/loss curve.png")
        #expect(back.status == 200)
        #expect(back.data == viaMLflow)
        let listed = try await fixture.server.request("GET", "/api/v1/runs/\(fixture.run)/artifacts")
        let paths = listed.body?["artifacts"]?.arrayValue?.compactMap { $0["path"]?.stringValue } ?? []
        #expect(paths == ["models/best model.bin", "plots/loss curve.png"])
    }

    @Test("bad paths, other experiments, unknown runs, folders and missing files answer MLflow's codes")
    func errors() async throws {
        let fixture = try await Self.fixture("quill-mlflow-artifacts-errors")
        #expect(try await fixture.put("dir/file.txt", Data("x".utf8)).status == 200)
        let server = fixture.server
        let base = "/api/2.0/mlflow-artifacts/artifacts"
        let run = fixture.run
        // Traversal and absolute paths, as MLflow's `validate_path_is_safe` refuses them.
        for bad in ["../x", "a/../../x", "/etc/passwd", "a%5Cb"] {
            let listed = try await server.mlflow("\(base)?path=\(bad)")
            expectHistoryError(listed, 400, "INVALID_PARAMETER_VALUE", bad)
        }
        expectHistoryError(
            try await server.mlflow("\(base)/\(fixture.experiment)/\(run)/artifacts/a/%2E%2E/%2E%2E/x"),
            400,
            "INVALID_PARAMETER_VALUE"
        )
        expectHistoryError(
            try await server.mlflow("PUT", "\(base)/\(fixture.experiment)/\(run)/artifacts/..%2F..%2Fx"),
            400,
            "INVALID_PARAMETER_VALUE"
        )
        // Quill keeps no files outside runs' artifacts.
        expectHistoryError(
            try await server.mlflow("PUT", "\(base)/\(fixture.experiment)/loose.txt"),
            400,
            "INVALID_PARAMETER_VALUE"
        )
        expectHistoryError(
            try await server.mlflow("PUT", "\(base)/\(fixture.experiment)/\(run)/artifacts/"),
            400,
            "INVALID_PARAMETER_VALUE"
        )
        // The experiment must be the run's.
        expectHistoryError(
            try await server.mlflow("PUT", "\(base)/99999/\(run)/artifacts/x.txt"),
            404,
            "RESOURCE_DOES_NOT_EXIST"
        )
        expectHistoryError(
            try await server.mlflow("\(base)/99999/\(run)/artifacts/dir/file.txt"),
            404,
            "RESOURCE_DOES_NOT_EXIST"
        )
        expectHistoryError(
            try await server.mlflow("\(base)?path=99999%2F\(run)%2Fartifacts"),
            404,
            "RESOURCE_DOES_NOT_EXIST"
        )
        // Unknown runs.
        expectHistoryError(
            try await server.mlflow("PUT", "\(base)/\(fixture.experiment)/zzzz9999/artifacts/x"),
            404,
            "RESOURCE_DOES_NOT_EXIST"
        )
        expectHistoryError(
            try await server.mlflow("\(base)/\(fixture.experiment)/zzzz9999/artifacts/x"),
            404,
            "RESOURCE_DOES_NOT_EXIST"
        )
        expectHistoryError(
            try await server.mlflow("/api/2.0/mlflow/artifacts/list?run_id=zzzz9999"),
            404,
            "RESOURCE_DOES_NOT_EXIST"
        )
        expectHistoryError(try await server.mlflow("/api/2.0/mlflow/artifacts/list"), 400, "INVALID_PARAMETER_VALUE")
        expectHistoryError(
            try await server.mlflow("/api/2.0/mlflow/artifacts/list?run_id=\(run)&path=..%2Fx"),
            400,
            "INVALID_PARAMETER_VALUE"
        )
        // A folder is no file; a missing file is missing.
        expectHistoryError(
            try await server.mlflow("\(base)/\(fixture.experiment)/\(run)/artifacts/dir"),
            400,
            "INVALID_PARAMETER_VALUE"
        )
        expectHistoryError(
            try await server.mlflow("\(base)/\(fixture.experiment)/\(run)/artifacts/nothing"),
            404,
            "RESOURCE_DOES_NOT_EXIST"
        )
        expectHistoryError(
            try await server.mlflow("\(base)/\(fixture.experiment)/\(run)"),
            404,
            "RESOURCE_DOES_NOT_EXIST"
        )
        // Above a run, nothing is listed.
        #expect(try await server.mlflow(base).body == [:])
        #expect(try await server.mlflow("\(base)?path=\(fixture.experiment)").body == [:])
        // A range past the end of the file.
        let past = try await fixture.get("dir/file.txt", headers: ["Range": "bytes=5-"])
        #expect(past.status == 416)
    }

    @Test(
        "uploads keep Quill's per-file limit and namespace quota: refused with INVALID_PARAMETER_VALUE, nothing stored"
    )
    func limitsAndQuota() async throws {
        let temp = TemporaryDirectory("quill-mlflow-artifacts-limits")
        let server = try await ServerProcess.start(
            data: temp.file("data"),
            extraArguments: ["--max-artifact-mib", "1", "--quota-mib", "2"]
        )
        let run = try await server.newRun(project: "limits")
        let experiment = try await server.experimentID(of: run)
        let fixture = Fixture(temp: temp, server: server, run: run, experiment: experiment)
        let big = Data(count: (1 << 20) + 1)
        let refused = try await fixture.put("too big.bin", big)
        #expect(refused.status == 400, "\(String(decoding: refused.data, as: UTF8.self))")
        #expect(refused.json?["error_code"] == "INVALID_PARAMETER_VALUE")
        expectHistoryError(try await server.mlflow("\(fixture.root)/too%20big.bin"), 404, "RESOURCE_DOES_NOT_EXIST")
        #expect(try await fixture.list("").body == [:])
        // Within the file limit, up to the quota.
        let part = Data(repeating: 7, count: 900 << 10)
        #expect(try await fixture.put("one.bin", part).status == 200)
        #expect(try await fixture.put("two.bin", part + Data([1])).status == 200)
        let over = try await fixture.put("three.bin", part + Data([2]))
        #expect(over.status == 400)
        #expect(over.json?["error_code"] == "INVALID_PARAMETER_VALUE")
        #expect(Self.entries(try await fixture.list("").body).map { $0[0] } == ["one.bin", "two.bin"])
    }
}
