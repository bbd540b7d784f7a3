import Foundation
import QuillAPI
import QuillClient
import QuillCore
import QuillTesting
import Testing

@Suite("CLI commands next to a server: users, artifacts get, compare, paging, times")
struct CLIServerCommandTests {
    /// `quill sync` of every local run to a server, checked.
    func sync(_ quill: QuillBinary, _ server: CLIServer) throws {
        let result = try quill.run("sync", "--all", "--server", server.url)
        #expect(result.status == 0, "\(result.stderr)")
    }

    @Test("users create names the database it wrote and warns when no running server uses it")
    func usersCreateNamesTheDatabase() async throws {
        let quill = QuillBinary()
        let server = try CLIServer(data: quill.home.file("elsewhere"), home: quill.home.path)
        defer { server.stop() }
        let announcement = try JSONParser.parse(
            Array(try Data(contentsOf: URL(fileURLWithPath: server.data + "/server.json")))
        )
        #expect(announcement["url"] == .string(server.url))
        #expect(announcement["pid"]?.intValue == Int(server.process.processIdentifier))

        // Without --data: the default folder, which the running server does not use.
        let stray = try quill.run("users", "create", "ada")
        #expect(stray.status == 0, "\(stray.stderr)")
        let defaultDatabase = quill.home.path + "/server/quill.db"
        #expect(stray.stdout.contains(defaultDatabase))
        #expect(!stray.stdout.contains("every request to it needs an API key"))
        #expect(stray.errorLines.count == 1, "\(stray.stderr)")
        #expect(stray.stderr.contains("warning: no running `quill serve` uses \(defaultDatabase)"))
        #expect(stray.stderr.contains("--data"))
        // The server indeed still runs without keys.
        let whoami = try quill.run("runs", "--server", server.url)
        #expect(whoami.status == 0, "\(whoami.stderr)")

        // With the server's folder: no warning, and the server is named.
        let real = try quill.run("users", "create", "bob", "--data", server.data, "--json")
        #expect(real.status == 0, "\(real.stderr)")
        #expect(real.stderr.isEmpty, "\(real.stderr)")
        let created = try JSONParser.parse(real.stdout)
        #expect(created["database"] == .string(server.data + "/quill.db"))
        #expect(created["server"]?["url"] == .string(server.url))
        let text = try quill.run("users", "create", "cy", "--data", server.data)
        #expect(text.stdout.contains(server.url), "\(text.stdout)")
        #expect(text.stderr.isEmpty, "\(text.stderr)")

        // A stopped server removes its file; a stale file of a dead process counts as no server.
        server.stop()
        #expect(!FileManager.default.fileExists(atPath: server.data + "/server.json"))
        try Data(#"{"pid": 2147483646, "url": "http://127.0.0.1:1", "database": "x"}"#.utf8)
            .write(to: URL(fileURLWithPath: server.data + "/server.json"))
        let afterwards = try quill.run("users", "create", "dee", "--data", server.data)
        #expect(afterwards.stderr.contains("no running `quill serve` uses"), "\(afterwards.stderr)")
    }

    @Test("artifacts get refuses to overwrite without --force and names a missing folder, locally and from a server")
    func artifactsGet() throws {
        let quill = QuillBinary()
        try quill.run("demo", "--steps", "2", "--delay-ms", "0", "--name", "baseline")
        let server = try CLIServer(data: quill.home.file("server"), home: quill.home.path)
        defer { server.stop() }
        try sync(quill, server)
        for source in [[], ["--server", server.url]] {
            let target = quill.home.file("card-\(source.count).md")
            func get(_ extra: String...) throws -> BuiltProducts.Result {
                try BuiltProducts.run(
                    BuiltProducts.path("quill"),
                    ["artifacts", "get", "baseline", "model-card.md"] + source + extra,
                    environment: quill.environment
                )
            }
            let first = try get("-o", target)
            #expect(first.status == 0, "\(first.stderr)")
            let original = try String(contentsOfFile: target, encoding: .utf8)
            #expect(!original.isEmpty)
            try Data("my own notes".utf8).write(to: URL(fileURLWithPath: target))
            let refused = try get("-o", target)
            #expect(refused.status != 0)
            #expect(refused.errorLines.count == 1, "\(refused.stderr)")
            #expect(refused.stderr.contains("'\(target)' already exists; pass --force"), "\(refused.stderr)")
            #expect(try String(contentsOfFile: target, encoding: .utf8) == "my own notes")
            let forced = try get("-o", target, "--force")
            #expect(forced.status == 0, "\(forced.stderr)")
            #expect(try String(contentsOfFile: target, encoding: .utf8) == original)

            let missingFolder = quill.home.file("no/such/folder")
            let missing = try get("-o", missingFolder + "/card.md")
            #expect(missing.status != 0)
            #expect(missing.errorLines.count == 1, "\(missing.stderr)")
            #expect(missing.stderr.contains("the folder '\(missingFolder)'"), "\(missing.stderr)")
            #expect(!missing.stderr.contains("CFNetworkDownload") && !missing.stderr.contains("/tmp/quill-get"))
            #expect(!FileManager.default.fileExists(atPath: missingFolder))
        }
    }

    @Test("compare shows the last value of each metric, locally and from a server")
    func compareShowsMetrics() throws {
        let quill = QuillBinary()
        try quill.run("demo", "--steps", "20", "--delay-ms", "0", "--name", "a")
        try quill.run("demo", "--steps", "10", "--delay-ms", "0", "--name", "b", "--lr", "0.05")
        let server = try CLIServer(data: quill.home.file("server"), home: quill.home.path)
        defer { server.stop() }
        try sync(quill, server)
        let lastA = try #require(try quill.json("show", "a", "--json")["metrics"]?["train/loss"]?["last"])
        let lastB = try #require(try quill.json("show", "b", "--json")["metrics"]?["train/loss"]?["last"])
        for source in [[], ["--server", server.url]] {
            let compared = try BuiltProducts.run(
                BuiltProducts.path("quill"),
                ["compare", "a", "b", "--json"] + source,
                environment: quill.environment
            )
            #expect(compared.status == 0, "\(compared.stderr)")
            let rows = try #require(try JSONParser.parse(compared.stdout)["rows"]?.arrayValue)
            let loss = try #require(rows.first { $0["key"] == "metrics.train/loss" }, "\(source)")
            #expect(loss["values"] == [lastA, lastB])
            #expect(loss["different"] == true)
            let text = try BuiltProducts.run(
                BuiltProducts.path("quill"),
                ["compare", "a", "b"] + source,
                environment: quill.environment
            )
            #expect(text.stdout.contains("metrics.train/loss"), "\(text.stdout)")
            #expect(text.stdout.contains("metrics.val/loss"))
        }
    }

    @Test("runs --server says when more runs exist beyond --limit, and --cursor pages through them")
    func runsPaging() throws {
        let quill = QuillBinary()
        for name in ["a", "b", "c"] {
            try quill.run("demo", "--steps", "2", "--delay-ms", "0", "--name", name)
        }
        let server = try CLIServer(data: quill.home.file("server"), home: quill.home.path)
        defer { server.stop() }
        try sync(quill, server)
        let text = try quill.run("runs", "--server", server.url, "--limit", "2")
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("more runs on the server"), "\(text.stdout)")
        #expect(text.stdout.contains("--cursor"))
        var seen: [String] = []
        var cursor: String?
        for _ in 0..<3 {
            let page = try quill.json(
                ["runs", "--server", server.url, "--limit", "2", "--json"] + (cursor.map { ["--cursor", $0] } ?? [])
            )
            seen += (page["runs"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
            cursor = page["next_cursor"]?.stringValue
            if cursor == nil { break }
        }
        #expect(seen.sorted() == ["a", "b", "c"])
        #expect(cursor == nil)
        let all = try quill.run("runs", "--server", server.url, "--limit", "3")
        #expect(!all.stdout.contains("more runs"), "\(all.stdout)")
        let local = try quill.run("runs", "--cursor", "x")
        #expect(local.status != 0)
        #expect(local.stderr.contains("--server"))
    }

    @Test("runs, keys list and users list print times in one format")
    func oneTimeFormat() throws {
        let quill = QuillBinary()
        try quill.run("demo", "--steps", "2", "--delay-ms", "0", "--name", "a")
        let server = try CLIServer(data: quill.home.file("server"), home: quill.home.path)
        defer { server.stop() }
        let created = try JSONParser.parse(
            try quill.run("users", "create", "ada", "--data", server.data, "--json").stdout
        )
        let key = try #require(created["api_key"]?.stringValue)
        let environment = ["QUILL_API_KEY": key, "QUILL_CREDENTIALS": quill.home.file("credentials.json")]
        let tables = [
            try quill.run("runs"), try quill.run("keys", "list", "--server", server.url, extra: environment),
            try quill.run("users", "list", "--data", server.data),
        ]
        let format = #/(^|[ ])[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}(?![0-9:])/#
        for table in tables {
            #expect(table.status == 0, "\(table.stderr)")
            let rows = table.stdout.split(separator: "\n").dropFirst()
            #expect(!rows.isEmpty)
            for row in rows {
                #expect(row.contains(format), "\(row)")
                #expect(!row.contains(#/[0-9]T[0-9]/#) && !row.contains(#/[0-9]{2}:[0-9]{2}:[0-9]{2}/#), "\(row)")
            }
        }
    }

    @Test("show --server shows each link with the time it was added, not the run's start time")
    func showLinkTimes() throws {
        let quill = QuillBinary()
        let server = try CLIServer(data: quill.home.file("server"), home: quill.home.path)
        defer { server.stop() }
        let client = BlockingHTTPClient(baseURL: server.url, apiKey: nil)
        let started = "2020-01-02T03:04:05.000000Z"
        let created = try client.call(
            "POST",
            APIPath.runs,
            json: ["project": "links", "name": "linked", "started_at": .string(started)]
        )
        let id = try #require(created["id"]?.stringValue.flatMap(RunID.init))
        try client.call(
            "POST",
            APIPath.runLinks(id.rawValue),
            json: ["label": "paper", "url": "https://example.org/p"]
        )
        Thread.sleep(forTimeInterval: 0.05)
        try client.call("POST", APIPath.runLinks(id.rawValue), json: ["label": "code", "url": "https://example.org/c"])
        let links = try client.call("GET", APIPath.run(id.rawValue))["links"]?.arrayValue ?? []
        #expect(links.count == 2)

        // The CLI's own time format: local time, to the minute.
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        let shown = try quill.run("show", "linked", "--server", server.url)
        #expect(shown.status == 0, "\(shown.stderr)")
        let lines = shown.stdout.split(separator: "\n")
        for link in links {
            let label = try #require(link["label"]?.stringValue)
            let url = try #require(link["url"]?.stringValue)
            let time = try #require(link["created_at"]?.stringValue.flatMap(Timestamp.parse))
            let line = try #require(lines.first { $0.contains(url) }, "\(shown.stdout)")
            #expect(line.contains(label))
            #expect(line.contains("(added \(formatter.string(from: time)))"), "\(line)")
        }
        let start = try #require(Timestamp.parse(started))
        #expect(!shown.stdout.contains("(added \(formatter.string(from: start)))"), "\(shown.stdout)")
        // The url line is the run's dashboard page, the same the API hands out, and the server serves it.
        let page = "\(server.url)/local/links/runs/\(id)"
        #expect(lines.contains { $0.contains("url") && $0.hasSuffix(page) }, "\(shown.stdout)")
        let answer = try BlockingHTTPClient(baseURL: server.url, apiKey: nil).send("GET", "/local/links/runs/\(id)")
        #expect(answer.status == 200)
    }

    @Test("keys and orgs print what the server answered, in text and as the server's JSON")
    func accountCommands() throws {
        let quill = QuillBinary()
        let server = try CLIServer(data: quill.home.file("server"), home: quill.home.path)
        defer { server.stop() }
        let created = try JSONParser.parse(
            try quill.run("users", "create", "ada", "--data", server.data, "--json").stdout
        )
        try quill.run("users", "create", "bob", "--data", server.data)
        let key = try #require(created["api_key"]?.stringValue)
        let environment = ["QUILL_API_KEY": key, "QUILL_CREDENTIALS": quill.home.file("credentials.json")]
        func quillServer(_ arguments: String...) throws -> BuiltProducts.Result {
            let result = try quill.run(arguments + ["--server", server.url], extra: environment)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            return result
        }

        let made = try quillServer("keys", "create", "--label", "ci")
        #expect(made.stdout.contains("created an API key for ada on \(server.url)"), "\(made.stdout)")
        #expect(made.stdout.contains("qk_"), "\(made.stdout)")
        let listed = try JSONParser.parse(try quillServer("keys", "list", "--json").stdout)
        let ci = try #require(listed["keys"]?.arrayValue?.first { $0["label"] == "ci" })
        let id = try #require(ci["id"]?.intValue)
        let prefix = try #require(ci["prefix"]?.stringValue)
        let revoked = try quillServer("keys", "revoke", String(id))
        #expect(revoked.stdout.contains("revoked key \(id) (\(prefix)…, ci)"), "\(revoked.stdout)")
        let table = try quillServer("keys", "list")
        let row = try #require(table.stdout.split(separator: "\n").first { $0.contains(" ci ") }, "\(table.stdout)")
        #expect(row.contains("revoked ") && row.contains(prefix + "…"), "\(row)")

        let organization = try quillServer("orgs", "create", "lab")
        #expect(organization.stdout.contains("organization lab"), "\(organization.stdout)")
        #expect(organization.stdout.contains(#/ada +owner/#), "\(organization.stdout)")
        let added = try quillServer("orgs", "add-member", "lab", "bob")
        #expect(added.stdout.contains(#/bob +member/#), "\(added.stdout)")
        let shown = try JSONParser.parse(try quillServer("orgs", "show", "lab", "--json").stdout)
        #expect(Set(shown["members"]?.arrayValue?.compactMap { $0["user"]?.stringValue } ?? []) == ["ada", "bob"])
        let removed = try quillServer("orgs", "remove-member", "lab", "bob")
        #expect(!removed.stdout.contains("bob"), "\(removed.stdout)")
    }
}
