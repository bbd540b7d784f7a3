import Foundation
import QuillCore
import QuillTesting
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite("--store: serve, users and artifacts gc open their stores through one factory")
struct StoreFactoryTests {
    /// The HTTP status of a GET, with an API key when given.
    func status(_ server: CLIServer, _ path: String, key: String? = nil) async throws -> Int {
        var request = URLRequest(url: try #require(URL(string: server.url + path)))
        if let key { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
        let (_, response) = try await URLSession.shared.data(for: request)
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }

    @Test(
        "a user created with users create --store sqlite:///… is seen by serve --store on that file, not the data folder's"
    )
    func serveAndUsersShareTheStore() async throws {
        let quill = QuillBinary()
        let database = quill.home.file("elsewhere/x.db")
        try FileManager.default.createDirectory(atPath: quill.home.file("elsewhere"), withIntermediateDirectories: true)
        let data = quill.home.file("data")
        let created = try quill.json("users", "create", "ada", "--store", "sqlite://" + database, "--json")
        #expect(created["database"] == .string(database))
        let key = try #require(created["api_key"]?.stringValue)
        #expect(FileManager.default.fileExists(atPath: database))

        let server = try CLIServer(
            data: data,
            home: quill.home.path,
            extraArguments: ["--store", "sqlite://" + database]
        )
        defer { server.stop() }
        // Users exist, so keys are required: the server reads x.db.
        #expect(try await status(server, "/api/v1/users") == 401)
        #expect(try await status(server, "/api/v1/users", key: key) == 200)
        #expect(!FileManager.default.fileExists(atPath: data + "/quill.db"))
        let mode = try FileManager.default.attributesOfItem(atPath: data)[.posixPermissions] as? Int
        #expect(mode == 0o700)
        let announcement = try JSONParser.parse(
            Array(try Data(contentsOf: URL(fileURLWithPath: data + "/server.json")))
        )
        #expect(announcement["database"] == .string(database))

        // users create on the same store names the running server; on the data folder's default store it warns.
        let second = try quill.json("users", "create", "bob", "--data", data, "--store", database, "--json")
        #expect(second["server"]?["url"] == .string(server.url))
        let stray = try quill.run("users", "create", "cy", "--data", data)
        #expect(stray.status == 0, "\(stray.stderr)")
        #expect(stray.stderr.contains("no running `quill serve` uses \(data)/quill.db"), "\(stray.stderr)")
        let listed = try quill.json("users", "list", "--store", "sqlite:" + database, "--json")
        #expect(listed["users"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["ada", "bob"])
    }

    @Test("a relative sqlite:PATH or plain path is a file in the working directory")
    func relativePaths() throws {
        let quill = QuillBinary()
        let folder = quill.home.file("work")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder)
        for (store, file) in [("sqlite:a.db", "a.db"), ("b.db", "b.db"), ("sqlite://c.db", "c.db")] {
            let result = try BuiltProducts.run(
                BuiltProducts.path("quill"),
                ["users", "create", "ada", "--store", store, "--json"],
                environment: quill.environment,
                directory: folder
            )
            #expect(result.status == 0, "\(store): \(result.stderr)")
            let database = try JSONParser.parse(result.stdout)["database"]?.stringValue
            #expect(database?.hasSuffix("/work/" + file) == true, "\(store): \(database ?? "")")
            #expect(FileManager.default.fileExists(atPath: folder + "/" + file), "\(store)")
        }
        // A folder --store names keeps its mode (only the data folder is made private).
        let mode = try FileManager.default.attributesOfItem(atPath: folder)[.posixPermissions] as? Int
        #expect(mode == 0o755)
    }

    @Test("an unknown scheme fails at once with one line and exit status 2, an unreachable PostgreSQL with status 1")
    func unsupportedSchemes() throws {
        let quill = QuillBinary()
        let commands: [[String]] = [
            ["serve", "--port", "0"], ["users", "create", "ada"], ["users", "list"], ["artifacts", "gc"],
        ]
        let unreachable = "error: the PostgreSQL database quill at 127.0.0.1:1 cannot be reached"
        for command in commands {
            for (store, message) in [
                ("mysql://db/quill", "error: unknown store scheme 'mysql:'; use --store sqlite:///path/quill.db"),
                ("postgres://127.0.0.1:1/quill", unreachable),
                ("postgresql://127.0.0.1:1/quill", unreachable),
            ] {
                let result = try BuiltProducts.run(
                    BuiltProducts.path("quill"),
                    command + ["--store", store],
                    environment: quill.environment
                )
                #expect(result.status == (store.hasPrefix("postgres") ? 1 : 2), "\(command) \(store): \(result.stderr)")
                #expect(result.errorLines.count == 1, "\(command) \(store): \(result.stderr)")
                #expect(result.stderr.hasPrefix(message), "\(command) \(store): \(result.stderr)")
                #expect(result.stdout.isEmpty)
            }
        }
        // Nothing was created on the way.
        #expect(!FileManager.default.fileExists(atPath: quill.home.file("server/quill.db")))
    }

    @Test("artifacts gc --store sweeps the blobs of the data folder against that store, and refuses a missing one")
    func garbageCollectionThroughTheFactory() throws {
        let quill = QuillBinary()
        let database = quill.home.file("records.db")
        let data = quill.home.file("data")
        // A blob no record names, old enough to go.
        let bytes = Array("nobody names me".utf8)
        let hash = SHA256.hex(of: bytes)
        let blob = "artifacts/sha256/\(hash.prefix(2))/\(hash.dropFirst(2))"
        try FileManager.default.createDirectory(
            atPath: data + "/" + (blob as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true
        )
        #expect(FileManager.default.createFile(atPath: data + "/" + blob, contents: Data(bytes)))
        try FileManager.default.setAttributes(
            [.modificationDate: Date().addingTimeInterval(-7200)],
            ofItemAtPath: data + "/" + blob
        )

        let missing = try quill.run("artifacts", "gc", "--data", data, "--store", database)
        #expect(missing.status == 1)
        #expect(missing.errorLines == ["error: no SQLite store at \(database); pass the --store `quill serve` uses"])
        #expect(!FileManager.default.fileExists(atPath: database))
        let noData = try quill.run("artifacts", "gc", "--data", data)
        #expect(noData.stderr.contains("no server data in \(data)"), "\(noData.stderr)")

        #expect(try quill.run("users", "create", "ada", "--store", database).status == 0)
        let dry = try quill.json(
            "artifacts",
            "gc",
            "--data",
            data,
            "--store",
            "sqlite://" + database,
            "--dry-run",
            "--json"
        )
        #expect(dry["removed"] == [.string(hash)])
        #expect(FileManager.default.fileExists(atPath: data + "/" + blob))
        let swept = try quill.json("artifacts", "gc", "--data", data, "--store", "sqlite://" + database, "--json")
        #expect(swept["removed"] == [.string(hash)])
        #expect(swept["bytes"] == .int(bytes.count))
        #expect(!FileManager.default.fileExists(atPath: data + "/" + blob))

        // Replicas share one folder of bytes outside their data folders (`quill serve --artifacts`): gc sweeps it.
        let shared = quill.home.file("shared-artifacts")
        let sharedBlob = shared + "/" + blob.dropFirst("artifacts/".count)
        try FileManager.default.createDirectory(
            atPath: (sharedBlob as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true
        )
        #expect(FileManager.default.createFile(atPath: sharedBlob, contents: Data(bytes)))
        try FileManager.default.setAttributes(
            [.modificationDate: Date().addingTimeInterval(-7200)],
            ofItemAtPath: sharedBlob
        )
        let elsewhere = try quill.json(
            "artifacts",
            "gc",
            "--data",
            data,
            "--store",
            "sqlite://" + database,
            "--artifacts",
            shared,
            "--json"
        )
        #expect(elsewhere["removed"] == [.string(hash)])
        #expect(!FileManager.default.fileExists(atPath: sharedBlob))
    }

    @Test("serve --gc-interval-minutes sweeps unreferenced old blobs in its service group and still stops cleanly")
    func scheduledCollection() async throws {
        let quill = QuillBinary()
        let data = quill.home.file("data")
        func plant(_ text: String, age: TimeInterval) throws -> String {
            let bytes = Array(text.utf8)
            let hash = SHA256.hex(of: bytes)
            let folder = "\(data)/artifacts/sha256/\(hash.prefix(2))"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let file = folder + "/" + hash.dropFirst(2)
            #expect(FileManager.default.createFile(atPath: file, contents: Data(bytes)))
            try FileManager.default.setAttributes(
                [.modificationDate: Date().addingTimeInterval(-age)],
                ofItemAtPath: file
            )
            return file
        }
        let old = try plant("old and unreferenced", age: 7200)
        let recent = try plant("recent and unreferenced", age: 60)
        let server = try CLIServer(
            data: data,
            home: quill.home.path,
            extraArguments: ["--gc-interval-minutes", "0.01"]
        )
        defer { server.stop() }
        // Every 0.6 s; allow a loaded machine 30 s.
        for _ in 0..<300 where FileManager.default.fileExists(atPath: old) {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(!FileManager.default.fileExists(atPath: old))
        #expect(FileManager.default.fileExists(atPath: recent))
        #expect(try await status(server, "/api/v1/projects") == 200)
        server.stop()
        await server.process.ended()
        #expect(server.process.terminationReason == .exit)
        #expect(server.process.terminationStatus == 0)
    }

    @Test("serve --help documents --store")
    func helpDocumentsStore() throws {
        let help = try QuillBinary().run("serve", "--help")
        #expect(help.stdout.contains("--store <url>"), "\(help.stdout)")
        #expect(help.stdout.contains("sqlite:///"))
        #expect(help.stdout.contains("--gc-interval-minutes"))
    }
}
