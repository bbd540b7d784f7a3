import Foundation
import QuillCore
import QuillTesting
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite("Hardening: namespaces, global figures, private files and the loopback check (issue 9)")
struct AuthHardeningTests {
    let helpers = AuthTests()

    @Test("single-user projects pass to the first user; nobody else can claim their namespace in any spelling")
    func namespaceTakeover() async throws {
        let temp = TemporaryDirectory("quill-takeover")
        let server = try await ServerProcess.start(data: temp.path)
        // Single-user mode: a private project in `local`, and one under a namespace given by name.
        let created = try await server.request("POST", "/api/v1/runs", json: ["project": "secret"])
        #expect(created.status == 201)
        let run = try #require(created.body?["id"]?.stringValue)
        let (_, team) = try await server.request(
            "POST",
            "/api/v1/projects",
            json: ["name": "plans", "namespace": "Team"]
        )
        #expect(team?["namespace"] == "team")  // namespaces are normalized like account names

        let root = try await server.createUser("root")
        try await helpers.waitForAuth(server)
        let mallory = try await helpers.user("mallory", on: server, by: root)

        // The first user owns both namespaces now, as organizations.
        let me = try await server.request("GET", "/api/v1/whoami", key: root).body
        let organizations = me?["organizations"]?.arrayValue ?? []
        #expect(organizations.map { $0["name"] } == ["local", "team"])
        #expect(organizations.allSatisfy { $0["role"] == "owner" })
        #expect(try await server.request("GET", "/api/v1/runs/\(run)", key: root).status == 200)

        // Another user cannot claim them, in any spelling, as an organization or as a user name.
        for name in ["local", "Local", "LOCAL", "ｌｏｃａｌ", "team", "TEAM", "Ｔｅａｍ"] {
            let org = try await server.request("POST", "/api/v1/orgs", json: ["name": .string(name)], key: mallory)
            #expect(org.status == 409, "\(name)")
            #expect(org.body?["error"]?["message"]?.stringValue?.contains("taken") == true, "\(name)")
            let user = try await server.request("POST", "/api/v1/users", json: ["name": .string(name)], key: root)
            #expect(user.status == 409, "\(name)")
        }
        #expect(try await server.request("GET", "/api/v1/runs/\(run)", key: mallory).status == 404)
        #expect(try await server.request("GET", "/api/v1/projects/local/secret", key: mallory).status == 404)
        let write = try await server.request("POST", "/api/v1/runs", json: ["project": "local/secret"], key: mallory)
        #expect(write.status == 404)

        // Users and organizations collide both ways, normalized.
        #expect(try await server.request("POST", "/api/v1/orgs", json: ["name": "Vision"], key: mallory).status == 201)
        #expect(try await server.request("POST", "/api/v1/users", json: ["name": "VISION"], key: root).status == 409)
        #expect(try await server.request("POST", "/api/v1/orgs", json: ["name": "Mallory"], key: root).status == 409)
        #expect(try await server.request("POST", "/api/v1/orgs", json: ["name": "ROOT"], key: mallory).status == 409)
    }

    @Test("an administrator cannot create projects in a namespace nobody owns, so it cannot be claimed later")
    func adminProjectsNeedAnOwnedNamespace() async throws {
        let temp = TemporaryDirectory("quill-takeover")
        let server = try await ServerProcess.start(data: temp.path)
        let root = try await server.createUser("root")
        try await helpers.waitForAuth(server)
        let mallory = try await helpers.user("mallory", on: server, by: root)
        let refused = try await server.request(
            "POST",
            "/api/v1/projects",
            json: ["name": "plans", "namespace": "ghost"],
            key: root
        )
        #expect(refused.status == 403)
        #expect(refused.body?["error"]?["message"]?.stringValue?.contains("has no owner") == true)
        // So the name stays free, and whoever takes it starts with an empty namespace.
        #expect(try await server.request("POST", "/api/v1/orgs", json: ["name": "ghost"], key: mallory).status == 201)
        let (_, projects) = try await server.request("GET", "/api/v1/projects", key: mallory)
        #expect(projects?["projects"]?.arrayValue?.isEmpty == true)
        // An administrator may still create projects in namespaces that have owners.
        let created = try await server.request(
            "POST",
            "/api/v1/projects",
            json: ["name": "audit", "namespace": "mallory"],
            key: root
        )
        #expect(created.status == 200)
    }

    @Test("status counts and /metrics are for administrators (and single-user mode) only")
    func globalFigures() async throws {
        let temp = TemporaryDirectory("quill-status")
        let server = try await ServerProcess.start(data: temp.path)
        #expect(try await server.request("POST", "/api/v1/runs", json: ["project": "p"]).status == 201)
        #expect(try await server.request("GET", "/api/v1/status").body?["counts"]?["runs"] == 1)
        #expect(try await server.raw("GET", "/metrics").status == 200)

        let root = try await server.createUser("root")
        try await helpers.waitForAuth(server)
        let ada = try await helpers.user("ada", on: server, by: root)
        for key in [nil, ada] as [String?] {
            let status = try await server.request("GET", "/api/v1/status", key: key)
            #expect(status.status == 200)
            #expect(status.body?["version"] != nil)
            #expect(status.body?["counts"] == nil)
        }
        let anonymous = try await server.raw("GET", "/metrics")
        #expect(anonymous.status == 401)
        #expect(!String(decoding: anonymous.data, as: UTF8.self).contains("quill_http_requests_total"))
        #expect(try await server.raw("GET", "/metrics", headers: ["Authorization": "Bearer \(ada)"]).status == 403)
        let admin = try await server.raw("GET", "/metrics", headers: ["Authorization": "Bearer \(root)"])
        #expect(admin.status == 200)
        #expect(String(decoding: admin.data, as: UTF8.self).contains("quill_http_requests_total"))
        #expect(try await server.request("GET", "/api/v1/status", key: root).body?["counts"]?["runs"] == 1)
        #expect(try await server.request("GET", "/healthz").status == 200)
    }

    @Test("the data folder, quill.db and its -wal/-shm, and artifact files are private, existing ones too")
    func privateFiles() async throws {
        let temp = TemporaryDirectory("quill-files")
        let data = temp.file("data")
        // A folder and database left world-readable by an older version.
        try FileManager.default.createDirectory(atPath: data + "/artifacts/sha256", withIntermediateDirectories: true)
        chmod(data, 0o755)
        chmod(data + "/artifacts", 0o755)
        _ = FileManager.default.createFile(atPath: data + "/quill.db", contents: nil)
        chmod(data + "/quill.db", 0o644)
        let server = try await ServerProcess.start(data: data)
        let run = try await server.newRun()
        #expect(try await server.put(run, "model.bin", Data("weights".utf8)).status == 200)
        func mode(_ path: String) -> mode_t {
            var info = stat()
            guard stat(path, &info) == 0 else { return 0o7777 }
            return info.st_mode & 0o777
        }
        #expect(mode(data) == 0o700)
        #expect(mode(data + "/artifacts") == 0o700)
        for file in ["quill.db", "quill.db-wal", "quill.db-shm"] {
            #expect(FileManager.default.fileExists(atPath: data + "/" + file), "\(file)")
            #expect(mode(data + "/" + file) == 0o600, "\(file): \(String(mode(data + "/" + file), radix: 8))")
        }
        let blob = try #require(server.blobFiles.first)
        #expect(mode(data + "/artifacts/sha256/" + blob) == 0o600)
        #expect(mode(data + "/artifacts/sha256/" + String(blob.prefix(2))) == 0o700)

        // A fresh folder is created private as well.
        let fresh = try await ServerProcess.start(data: temp.file("fresh"))
        #expect(try await fresh.request("POST", "/api/v1/runs", json: ["project": "p"]).status == 201)
        #expect(mode(temp.file("fresh")) == 0o700)
        #expect(mode(temp.file("fresh") + "/quill.db") == 0o600)
    }

    @Test("without users, quill serve refuses a name that only looks like loopback and binds localhost")
    func loopbackIsResolved() async throws {
        let temp = TemporaryDirectory("quill-host")
        let quill = BuiltProducts.path("quill")
        for host in ["127.0.0.1.invalid", "127.attacker.invalid", "0.0.0.0"] {
            let refused = try await BuiltProducts.run(
                quill,
                ["serve", "--host", host, "--port", "0", "--data", temp.file("data")]
            )
            #expect(refused.status != 0, "\(host)")
            #expect(refused.stderr.contains("--insecure"), "\(host): \(refused.stderr)")
        }
        let local = try await ServerProcess.start(data: temp.file("data"), extraArguments: ["--host", "localhost"])
        #expect(local.port > 0)
    }
}
