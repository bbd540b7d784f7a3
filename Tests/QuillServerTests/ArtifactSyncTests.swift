import Foundation
import QuillCore
import QuillTesting
import Testing

@Suite("Artifacts: quill sync and quill artifacts against a real server")
struct ArtifactSyncTests {
    let sync = SyncTests()

    /// A finished run logged offline by `quill demo` (it logs `model-card.md`), plus a logged folder.
    func offlineRun(home: String) throws -> String {
        let result = try sync.quill(
            ["demo", "--steps", "5", "--delay-ms", "0", "--name", "offline"],
            sync.environment(home: home, server: "http://127.0.0.1:9")
        )
        #expect(result.status == 0, "\(result.stderr)")
        let runs = try FileManager.default.contentsOfDirectory(atPath: home + "/runs")
        let run = home + "/runs/" + (try #require(runs.first))
        try FileManager.default.createDirectory(
            atPath: run + "/artifacts/data/sub",
            withIntermediateDirectories: true
        )
        try Data(repeating: 3, count: 200_000).write(to: URL(fileURLWithPath: run + "/artifacts/data/x.bin"))
        try Data("y".utf8).write(to: URL(fileURLWithPath: run + "/artifacts/data/sub/y.bin"))
        let event = RunEvent(kind: .artifact, fields: ["name": "data", "path": "data", "size": 200_001])
        let handle = try #require(FileHandle(forWritingAtPath: run + "/events.jsonl"))
        handle.seekToEndOfFile()
        handle.write(Data(event.line))
        try handle.close()
        return run
    }

    func syncReport(_ url: String, home: String) throws -> JSONValue? {
        let result = try sync.quill(
            ["sync", "offline", "--server", url, "--json"],
            sync.environment(home: home, server: nil)
        )
        #expect(result.status == 0, "\(result.stderr)")
        return try JSONParser.parse(result.stdout)["runs"]?.arrayValue?.first
    }

    @Test("sync uploads a run's artifact files once; syncing again, even without sync.json, uploads nothing")
    func syncUploadsOnce() async throws {
        let data = TemporaryDirectory("quill-server")
        let home = TemporaryDirectory("quill-home")
        let run = try offlineRun(home: home.path)
        let server = try await ServerProcess.start(data: data.path)
        let url = "http://127.0.0.1:\(server.port)"

        let first = try syncReport(url, home: home.path)
        #expect(first?["artifacts_uploaded"] == 3)
        #expect(first?["artifact_bytes_sent"]?.intValue ?? 0 > 200_001)
        #expect(try syncReport(url, home: home.path)?["artifacts_uploaded"] == 0)
        try FileManager.default.removeItem(atPath: run + "/sync.json")
        #expect(try syncReport(url, home: home.path)?["artifacts_uploaded"] == 0)

        let (_, page) = try await server.request("GET", "/api/v1/runs?q=name%20%3D%20offline")
        let id = try #require(page?["runs"]?.arrayValue?.first?["id"]?.stringValue)
        let (_, list) = try await server.request("GET", "/api/v1/runs/\(id)/artifacts")
        let artifacts = list?["artifacts"]?.arrayValue ?? []
        #expect(artifacts.map { $0["path"] } == ["data/sub/y.bin", "data/x.bin", "model-card.md"])
        #expect(artifacts.allSatisfy { $0["status"] == "uploaded" })
        #expect(server.blobFiles.count == 3)
        let card = try await server.get(id, "model-card.md")
        #expect(card.data == (try Data(contentsOf: URL(fileURLWithPath: run + "/artifacts/model-card.md"))))
    }

    @Test("quill artifacts lists from the server or the run directory; quill artifacts get downloads")
    func cli() async throws {
        let data = TemporaryDirectory("quill-server")
        let home = TemporaryDirectory("quill-home")
        let run = try offlineRun(home: home.path)
        let server = try await ServerProcess.start(data: data.path)
        let url = "http://127.0.0.1:\(server.port)"
        _ = try syncReport(url, home: home.path)
        let elsewhere = TemporaryDirectory("quill-home")
        let env = sync.environment(home: elsewhere.path, server: nil)

        let remote = try JSONParser.parse(
            try sync.quill(["artifacts", "offline", "--server", url, "--json"], env).stdout
        )
        #expect(remote.arrayValue?.map { $0["path"] } == ["data/sub/y.bin", "data/x.bin", "model-card.md"])
        #expect(remote.arrayValue?.first?["sha256"] == .string(SHA256.hex(of: Array("y".utf8))))
        let table = try sync.quill(["artifacts", "offline", "--server", url], env)
        #expect(table.stdout.split(separator: "\n").first?.hasPrefix("PATH") == true, "\(table.stderr)")
        #expect(table.stdout.contains("data/x.bin"))
        #expect(table.stdout.contains("uploaded"))

        let local = try sync.quill(["artifacts", "offline", "--json"], sync.environment(home: home.path, server: nil))
        let localList = try JSONParser.parse(local.stdout).arrayValue ?? []
        #expect(localList.map { $0["path"] } == ["data/sub/y.bin", "data/x.bin", "model-card.md"])
        #expect(localList.first { $0["path"] == "data/x.bin" }?["size"] == 200_000)

        let output = elsewhere.file("x.bin")
        let got = try sync.quill(["artifacts", "get", "offline", "data/x.bin", "--server", url, "-o", output], env)
        #expect(got.status == 0, "\(got.stderr)")
        #expect(FileManager.default.contentsEqual(atPath: output, andPath: run + "/artifacts/data/x.bin"))
        let printed = try sync.quill(
            ["artifacts", "get", "offline", "data/sub/y.bin", "--server", url, "-o", "-"],
            env
        )
        #expect(printed.stdout == "y")
        let missing = try sync.quill(["artifacts", "get", "offline", "nope.bin", "--server", url], env)
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("quill artifacts offline"))
    }
}
