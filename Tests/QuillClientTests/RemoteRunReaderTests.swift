import Foundation
import QuillAPI
import QuillClient
import QuillCore
import QuillTesting
import Testing

@Suite("RemoteRunReader reads a real server's runs as the CLI shows them")
struct RemoteRunReaderTests {
    @Test("each link keeps its own created_at, not the run's start time")
    func linksKeepTheirOwnTimes() throws {
        let server = try TestServer()
        defer { server.stop() }
        let started = "2020-01-02T03:04:05.000000Z"
        let id = try server.createRun(name: "linked", startedAt: started)
        try server.client.call(
            "POST",
            APIPath.runLinks(id.rawValue),
            json: ["label": "paper", "url": "https://example.org/p"]
        )
        // Apart by more than the microseconds the server keeps, so the two times differ.
        Thread.sleep(forTimeInterval: 0.05)
        try server.client.call(
            "POST",
            APIPath.runLinks(id.rawValue),
            json: ["label": "code", "url": "https://example.org/c"]
        )
        var served: [String: Date] = [:]
        for link in try server.client.call("GET", APIPath.run(id.rawValue))["links"]?.arrayValue ?? [] {
            let label = try #require(link["label"]?.stringValue)
            served[label] = try #require(link["created_at"]?.stringValue.flatMap(Timestamp.parse))
        }
        #expect(served.count == 2)

        for reference in ["linked", id.rawValue] {
            let details = try RemoteRunReader(client: server.client).run(reference, project: nil)
            #expect(details.meta.startedAt == Timestamp.parse(started))
            let times = Dictionary(uniqueKeysWithValues: details.meta.links.map { ($0.label, $0.timestamp) })
            #expect(times == served)
            let paper = try #require(times["paper"])
            let code = try #require(times["code"])
            #expect(paper < code)
            #expect(paper != details.meta.startedAt && code != details.meta.startedAt)
        }
    }

    @Test("lists with status and tag filters, and pages with the server's cursor")
    func listsAndPages() throws {
        let server = try TestServer()
        defer { server.stop() }
        var ids: [String: RunID] = [:]
        for name in ["a", "b", "c"] {
            ids[name] = try server.createRun(name: name)
        }
        let b = try #require(ids["b"])
        try server.client.call("POST", APIPath.runTags(b.rawValue), json: ["key": "team", "value": "nlp"])
        try server.client.call("PATCH", APIPath.run(b.rawValue), json: ["status": "completed"])
        let reader = RemoteRunReader(client: server.client)
        #expect(reader.source == .server(url: server.url))

        var tagged = RunListQuery()
        tagged.tags = [TagFilter(key: "team", value: "nlp")]
        #expect(try reader.runs(tagged).runs.map(\.meta.name) == ["b"])
        tagged.tags = [TagFilter(key: "team", value: "vision")]
        #expect(try reader.runs(tagged).runs.isEmpty)
        var completed = RunListQuery()
        completed.statuses = [.completed]
        let listing = try reader.runs(completed)
        #expect(listing.runs.map(\.meta.name) == ["b"])
        #expect(listing.runs.first?.meta.tagValues["team"] == "nlp")
        #expect(listing.runs.first?.json["id"] == .string(b.rawValue))

        var page = RunListQuery(limit: 2)
        var seen: [String] = []
        for _ in 0..<3 {
            let listing = try reader.runs(page)
            #expect(listing.runs.count <= 2)
            seen += listing.runs.map(\.meta.name)
            page.cursor = listing.nextCursor
            if page.cursor == nil { break }
        }
        #expect(seen.sorted() == ["a", "b", "c"])
        #expect(page.cursor == nil)
    }

    @Test("metric rows merge keys by index and downsample on the server; log lines keep their order and level")
    func metricsAndLogs() throws {
        let server = try TestServer()
        defer { server.stop() }
        let id = try server.createRun(name: "trained")
        var metrics: [JSONValue] = []
        for index in 0..<40 {
            metrics.append([
                "key": "loss", "value": .double(1 / Double(index + 1)), "step": .int(index), "idx": .int(index),
            ])
            if index % 2 == 0 {
                metrics.append([
                    "key": "acc", "value": .double(Double(index) / 40), "step": .int(index), "idx": .int(index),
                ])
            }
        }
        let logs: [JSONValue] = [
            ["level": "info", "message": "started"], ["level": "warning", "message": "slow epoch"],
        ]
        try server.client.call(
            "POST",
            APIPath.runBatch(id.rawValue),
            json: ["metrics": .array(metrics), "logs": .array(logs)]
        )
        let reader = RemoteRunReader(client: server.client)
        let details = try reader.run("trained", project: nil)
        #expect(details.statistics["loss"]?.count == 40)
        #expect(details.statistics["acc"]?.count == 20)
        #expect(details.statistics["loss"]?.lastStep == 39)
        #expect(details.location == server.url + "/local/client-tests/runs/\(id)", "the run's dashboard page")

        let all = try reader.metricRows(of: details, keys: [], maxPoints: nil)
        #expect(all.map(\.index) == Array(0..<40))
        #expect(all[0].values == ["loss": 1, "acc": 0])
        #expect(all[1].values == ["loss": 0.5])
        #expect(all[39].step == 39)
        let accuracy = try reader.metricRows(of: details, keys: ["acc"], maxPoints: nil)
        #expect(accuracy.count == 20 && accuracy.allSatisfy { $0.values.keys.sorted() == ["acc"] })
        let downsampled = try reader.metricRows(of: details, keys: ["loss"], maxPoints: 4)
        #expect(downsampled.count >= 2 && downsampled.count <= 4, "\(downsampled.map(\.index))")
        #expect(downsampled.contains { $0.values["loss"] == 1 }, "the first bucket's maximum is kept")

        let lines = try reader.logLines(of: details, limit: 10)
        #expect(lines.map(\.message) == ["started", "slow epoch"])
        #expect(lines.map(\.level) == [.info, .warning])
    }

    @Test("lists artifacts and downloads one; a missing file is not_found with the server's message")
    func artifacts() throws {
        let server = try TestServer()
        defer { server.stop() }
        let id = try server.createRun(name: "with-files")
        let source = try server.folder.write("card.md", "# model card\n")
        let uploaded = try server.client.upload(
            "PUT",
            APIPath.runArtifactContent(id.rawValue, path: "docs/card & notes.md"),
            fromFile: source
        )
        #expect((200..<300).contains(uploaded.status), "\(String(describing: uploaded.body))")
        let reader = RemoteRunReader(client: server.client)
        let details = try reader.run(id.rawValue, project: nil, metadataOnly: true)
        let listed = try reader.artifacts(of: details)
        #expect(listed.map(\.path) == ["docs/card & notes.md"])
        #expect(listed.first?.size == 13)
        #expect(listed.first?.status == "uploaded")
        #expect(listed.first?.sha256?.count == 64)

        let target = server.folder.file("downloaded.md")
        try reader.fetchArtifact(of: details, path: "docs/card & notes.md", to: target)
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "# model card\n")
        let missing = #expect(throws: QuillError.self) {
            try reader.fetchArtifact(of: details, path: "nope.txt", to: server.folder.file("nope"))
        }
        #expect(missing?.code == .notFound)
        #expect(missing?.message.hasPrefix(server.url + ": ") == true, "\(String(describing: missing))")
        #expect(!FileManager.default.fileExists(atPath: server.folder.file("nope")))
    }

    @Test("an unknown run is not_found and names the server; an unreachable server is io")
    func errors() throws {
        let server = try TestServer()
        defer { server.stop() }
        let reader = RemoteRunReader(client: server.client)
        let unknown = #expect(throws: QuillError.self) { try reader.run("ghost", project: nil) }
        #expect(unknown?.code == .notFound)
        #expect(unknown?.message.contains("quill runs --server \(server.url)") == true)
        let url = server.url
        server.stop()
        let gone = #expect(throws: QuillError.self) { try reader.runs(RunListQuery()) }
        #expect(gone?.code == .io)
        #expect(gone?.message.contains("cannot reach the server at \(url)") == true, "\(String(describing: gone))")
    }

    @Test("a run whose git facts and config hold nulls reads (the SDK writes remote: null without a remote)")
    func nullsInsideValues() throws {
        let server = try TestServer()
        defer { server.stop() }
        let git: JSONValue = ["commit": "0123abcd", "branch": "main", "dirty": false, "remote": .null]
        try server.createRun(name: "offline", extra: ["git": git, "config": ["lr": 0.1, "schedule": .null]])
        let reader = RemoteRunReader(client: server.client)
        let details = try reader.run("offline", project: nil)
        #expect(details.meta.git?.commit == "0123abcd")
        #expect(details.meta.git?.remote == nil)
        #expect(details.config == ["lr": 0.1, "schedule": .null])
        #expect(try reader.runs(RunListQuery()).runs.map(\.meta.name) == ["offline"])
    }
}
