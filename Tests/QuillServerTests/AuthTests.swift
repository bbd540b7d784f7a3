import Foundation
import QuillCore
import QuillTesting
import Testing

@Suite("Users, API keys, organizations and project visibility through a real server")
struct AuthTests {
    /// Polls until the server has noticed users created by another process (it checks twice a second).
    func waitForAuth(_ server: ServerProcess) async throws {
        for _ in 0..<50 {
            if try await server.request("GET", "/api/v1/whoami").body?["mode"] == "anonymous" { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("the server did not turn authentication on")
    }

    /// A server whose first user, `root`, administers it; returns the folder (kept alive), the server and
    /// root's key.
    func serverWithAdministrator() async throws -> (TemporaryDirectory, ServerProcess, String) {
        let temp = TemporaryDirectory("quill-auth")
        let server = try await ServerProcess.start(data: temp.path)
        let root = try await server.createUser("root")
        try await waitForAuth(server)
        return (temp, server, root)
    }

    /// Creates a user through the API as an administrator and returns the user's first key.
    func user(_ name: String, on server: ServerProcess, by admin: String) async throws -> String {
        let created = try await server.request("POST", "/api/v1/users", json: ["name": .string(name)], key: admin)
        return try #require(created.body?["api_key"]?["key"]?.stringValue)
    }

    @Test("single-user mode until the first user; then writes need a valid key, and revoked keys stop working")
    func singleUserThenKeys() async throws {
        let temp = TemporaryDirectory("quill-auth")
        let server = try await ServerProcess.start(data: temp.path)
        #expect(try await server.request("GET", "/api/v1/whoami").body?["mode"] == "single_user")
        #expect(try await server.request("POST", "/api/v1/runs", json: ["project": "p"]).status == 201)

        let key = try await server.createUser("ada")
        try await waitForAuth(server)
        let refused = try await server.request("POST", "/api/v1/runs", json: ["project": "p"])
        #expect(refused.status == 401)
        #expect(refused.body?["error"]?["code"] == "unauthorized")
        #expect(refused.body?["error"]?["message"]?.stringValue?.contains("QUILL_API_KEY") == true)
        let wrong = try await server.request("GET", "/api/v1/projects", key: "qk_not-a-key")
        #expect(wrong.status == 401)
        #expect(wrong.body?["error"]?["message"]?.stringValue?.contains("quill keys create") == true)

        let me = try await server.request("GET", "/api/v1/whoami", key: key).body
        #expect(me?["user"] == "ada")
        #expect(me?["is_admin"] == true)  // the first user administers the server
        let created = try await server.request("POST", "/api/v1/runs", json: ["project": "Vision"], key: key)
        #expect(created.status == 201)
        #expect(created.body?["dashboard_url"]?.stringValue?.contains("/ada/vision/runs/") == true)

        let second = try await server.request("POST", "/api/v1/keys", json: ["label": "ci"], key: key)
        #expect(second.status == 201)
        let secondKey = try #require(second.body?["key"]?.stringValue)
        let secondID = try #require(second.body?["id"]?.intValue)
        #expect(secondKey.hasPrefix("qk_"))
        let listed = try await server.request("GET", "/api/v1/keys", key: secondKey).body?["keys"]?.arrayValue ?? []
        #expect(listed.map { $0["label"] } == ["default", "ci"])
        #expect(listed.allSatisfy { $0["key"] == nil })  // never shown again
        #expect(try await server.request("DELETE", "/api/v1/keys/\(secondID)", key: key).status == 200)
        #expect(try await server.request("GET", "/api/v1/whoami", key: secondKey).status == 401)
        #expect(try await server.request("GET", "/api/v1/whoami", key: key).status == 200)

        // Keys are stored hashed: the database file does not hold them.
        let database = try Data(contentsOf: URL(fileURLWithPath: temp.file("quill.db")))
        #expect(database.range(of: Data(key.utf8)) == nil)
        #expect(database.range(of: Data(secondKey.utf8)) == nil)
    }

    @Test("a user in another namespace gets 404 from every endpoint of a private project, and 403 writing a public one")
    func privateProjectIsolation() async throws {
        let (temp, server, root) = try await serverWithAdministrator()
        let ada = try await user("ada", on: server, by: root)
        let bob = try await user("bob", on: server, by: root)
        _ = temp
        #expect(try await server.request("POST", "/api/v1/users", json: ["name": "eve"], key: bob).status == 403)

        let run = try await server.request("POST", "/api/v1/runs", json: ["project": "Secret", "name": "r"], key: ada)
        let id = try #require(run.body?["id"]?.stringValue)
        #expect(
            try await server.request(
                "POST",
                "/api/v1/runs/\(id)/batch",
                json: ["metrics": [["key": "loss", "value": 0.5, "step": 1]]],
                key: ada
            ).status == 200
        )
        #expect(try await server.request("GET", "/api/v1/runs/\(id)", key: ada).status == 200)
        let upload = "/api/v1/runs/\(id)/artifacts/content?path=model.bin"
        #expect(try await server.request("PUT", upload, raw: Array("weights".utf8), key: ada).status == 200)

        let attempts: [(String, String, JSONValue?)] = [
            ("GET", "/api/v1/projects/ada/secret", nil),
            ("PATCH", "/api/v1/projects/ada/secret", ["visibility": "public"]),
            ("GET", "/api/v1/runs?project=ada/secret", nil),
            ("POST", "/api/v1/runs", ["project": "ada/secret"]),
            ("GET", "/api/v1/runs/\(id)", nil),
            ("PATCH", "/api/v1/runs/\(id)", ["description": "mine now"]),
            ("DELETE", "/api/v1/runs/\(id)", nil),
            ("POST", "/api/v1/runs/\(id)/batch", ["metrics": [["key": "loss", "value": 9, "step": 2]]]),
            ("POST", "/api/v1/runs/\(id)/metrics", ["key": "loss", "value": 9]),
            ("POST", "/api/v1/runs/\(id)/params", ["key": "lr", "value": 1]),
            ("POST", "/api/v1/runs/\(id)/tags", ["key": "owner", "value": "bob"]),
            ("POST", "/api/v1/runs/\(id)/links", ["label": "x", "url": "http://x"]),
            ("POST", "/api/v1/runs/\(id)/logs", ["message": "hi"]),
            ("GET", "/api/v1/runs/\(id)/metrics", nil),
            ("GET", "/api/v1/runs/\(id)/metrics?key=loss", nil),
            ("GET", "/api/v1/runs/\(id)/logs", nil),
            ("GET", "/api/v1/runs/\(id)/artifacts", nil),
            ("POST", "/api/v1/runs/\(id)/artifacts", ["path": "stolen.bin"]),
            ("PATCH", "/api/v1/runs/\(id)/artifacts?path=model.bin", ["status": "failed"]),
            ("PUT", "/api/v1/runs/\(id)/artifacts/content?path=model.bin", ["overwritten": true]),
            ("GET", "/api/v1/runs/\(id)/artifacts/content?path=model.bin", nil),
        ]
        // A parent the caller may not read answers as a missing one: 422 unknown_reference, like an unused id.
        for parent in [id, "zzzz9999"] {
            let (status, json) = try await server.request(
                "POST",
                "/api/v1/runs",
                json: ["project": "Mine", "parent": .string(parent)],
                key: bob
            )
            #expect(status == 422, "parent \(parent) gave \(status)")
            #expect(json?["error"]?["code"] == "unknown_reference")
        }
        for (method, path, body) in attempts {
            let (status, json) = try await server.request(method, path, json: body, key: bob)
            #expect(status == 404, "\(method) \(path) gave \(status)")
            #expect(json?["error"]?["code"] == "not_found", "\(method) \(path)")
            let anonymous = try await server.request(method, path, json: body).status
            #expect(anonymous == (method == "GET" ? 404 : 401), "anonymous \(method) \(path) gave \(anonymous)")
        }
        #expect(
            try await server.request("POST", "/api/v1/projects", json: ["name": "x", "namespace": "ada"], key: bob)
                .status == 403
        )
        let bobsView = try await server.request("GET", "/api/v1/runs", key: bob).body?["runs"]?.arrayValue
        #expect(bobsView?.isEmpty == true)
        let bobsProjects = try await server.request("GET", "/api/v1/projects", key: bob).body?["projects"]?.arrayValue
        #expect(bobsProjects?.map { $0["path"] } == ["bob/mine"])  // made by the parent attempt; nothing of ada's
        // Nothing bob sent changed the run.
        let artifacts = try await server.request("GET", "/api/v1/runs/\(id)/artifacts", key: ada).body
        #expect(artifacts?["artifacts"]?.arrayValue?.map { $0["status"] } == ["uploaded"])
        let history = try await server.request("GET", "/api/v1/runs/\(id)/metrics?key=loss", key: ada).body
        #expect(history?["points"]?.arrayValue?.count == 1)
        #expect(try await server.request("GET", "/api/v1/runs/\(id)", key: root).status == 200)  // the administrator

        // Public: everyone reads, only the namespace writes.
        #expect(
            try await server.request("PATCH", "/api/v1/projects/ada/secret", json: ["visibility": "public"], key: ada)
                .status == 200
        )
        #expect(try await server.request("GET", "/api/v1/runs/\(id)", key: bob).status == 200)
        #expect(try await server.request("GET", "/api/v1/runs/\(id)/metrics?key=loss").status == 200)
        let write = try await server.request(
            "POST",
            "/api/v1/runs/\(id)/metrics",
            json: ["key": "l", "value": 1],
            key: bob
        )
        #expect(write.status == 403)
        #expect(write.body?["error"]?["code"] == "forbidden")
        #expect(
            try await server.request("PATCH", "/api/v1/projects/ada/secret", json: ["visibility": "private"], key: bob)
                .status == 403
        )
        // Internal: only the namespace's members.
        #expect(
            try await server.request("PATCH", "/api/v1/projects/ada/secret", json: ["visibility": "internal"], key: ada)
                .status == 200
        )
        #expect(try await server.request("GET", "/api/v1/runs/\(id)", key: bob).status == 404)
    }

    @Test("organizations: members share internal projects; private ones stay with their creator and the owners")
    func organizations() async throws {
        let (temp, server, root) = try await serverWithAdministrator()
        let ada = try await user("ada", on: server, by: root)
        let bob = try await user("bob", on: server, by: root)
        _ = temp
        #expect(try await server.request("POST", "/api/v1/orgs", json: ["name": "vision"], key: ada).status == 201)
        #expect(try await server.request("POST", "/api/v1/orgs", json: ["name": "bob"], key: ada).status == 409)
        #expect(try await server.request("GET", "/api/v1/orgs/vision", key: bob).status == 404)
        #expect(
            try await server.request("PUT", "/api/v1/orgs/vision/members/bob", json: ["role": "member"], key: bob)
                .status == 404
        )
        let added = try await server.request("PUT", "/api/v1/orgs/vision/members/bob", json: [:], key: ada)
        #expect(added.body?["members"]?.arrayValue?.count == 2)
        #expect(try await server.request("PUT", "/api/v1/orgs/vision/members/eve", json: [:], key: ada).status == 404)
        // The last owner cannot leave.
        #expect(try await server.request("DELETE", "/api/v1/orgs/vision/members/ada", key: ada).status == 409)

        let shared = try await server.request(
            "POST",
            "/api/v1/projects",
            json: ["name": "Shared", "namespace": "vision"],
            key: ada
        )
        #expect(shared.status == 200)
        #expect(try await server.request("GET", "/api/v1/projects/vision/shared", key: bob).status == 404)  // private
        let toInternal: JSONValue = ["visibility": "internal"]
        #expect(
            try await server.request("PATCH", "/api/v1/projects/vision/shared", json: toInternal, key: ada).status
                == 200
        )
        let toPublic: JSONValue = ["visibility": "public"]
        #expect(
            try await server.request("PATCH", "/api/v1/projects/vision/shared", json: toPublic, key: bob).status == 403
        )
        let bobsRun = try await server.request("POST", "/api/v1/runs", json: ["project": "vision/shared"], key: bob)
        #expect(bobsRun.status == 201)
        let bobsRunID = try #require(bobsRun.body?["id"]?.stringValue)
        #expect(try await server.request("GET", "/api/v1/runs/\(bobsRunID)", key: ada).status == 200)

        // A member's private project: the member and the owners see it, other members do not.
        #expect(
            try await server.request(
                "POST",
                "/api/v1/projects",
                json: ["name": "Bob Only", "namespace": "vision"],
                key: bob
            )
            .status == 200
        )
        let carol = try await user("carol", on: server, by: root)
        _ = try await server.request("PUT", "/api/v1/orgs/vision/members/carol", json: [:], key: ada)
        #expect(try await server.request("GET", "/api/v1/projects/vision/bob-only", key: bob).status == 200)
        #expect(try await server.request("GET", "/api/v1/projects/vision/bob-only", key: ada).status == 200)
        #expect(try await server.request("GET", "/api/v1/projects/vision/bob-only", key: carol).status == 404)
        #expect(try await server.request("GET", "/api/v1/projects/vision/shared", key: carol).status == 200)

        // Leaving the organization takes the access away at once.
        #expect(try await server.request("DELETE", "/api/v1/orgs/vision/members/bob", key: bob).status == 200)
        #expect(try await server.request("GET", "/api/v1/runs/\(bobsRunID)", key: bob).status == 404)
    }

    @Test("binding beyond loopback without users is refused unless --insecure; with users it is allowed")
    func nonLoopbackNeedsUsersOrInsecure() async throws {
        let temp = TemporaryDirectory("quill-auth")
        let refused = try await BuiltProducts.run(
            BuiltProducts.path("quill"),
            ["serve", "--host", "0.0.0.0", "--port", "0", "--data", temp.path]
        )
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("--insecure"))
        #expect(refused.stderr.contains("quill users create"))
        do {
            let insecure = try await ServerProcess.start(
                data: temp.path,
                extraArguments: ["--host", "0.0.0.0", "--insecure"]
            )
            #expect(try await insecure.request("GET", "/api/v1/whoami").body?["mode"] == "single_user")
        }
        _ = try await ServerProcess.start(data: temp.path).createUser("ada")
        let server = try await ServerProcess.start(data: temp.path, extraArguments: ["--host", "0.0.0.0"])
        #expect(try await server.request("GET", "/api/v1/whoami").body?["mode"] == "anonymous")
    }

    @Test("quill login saves a key (mode 600) that the CLI and the SDK then use; without one they say what to set")
    func loginAndCLI() async throws {
        let temp = TemporaryDirectory("quill-auth")
        let server = try await ServerProcess.start(data: temp.file("server"))
        let key = try await server.createUser("ada")
        try await waitForAuth(server)
        let url = "http://127.0.0.1:\(server.port)"
        let quill = BuiltProducts.path("quill")
        let environment = [
            "QUILL_CREDENTIALS": temp.file("credentials.json"), "QUILL_HOME": temp.file("home"),
            "QUILL_API_KEY": "", "QUILL_TRACKING_URI": "",
        ]

        let missing = try await BuiltProducts.run(quill, ["keys", "list", "--server", url], environment: environment)
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("QUILL_API_KEY") && missing.stderr.contains("quill login"))
        let anonymous = try await BuiltProducts.run(quill, ["runs", "--server", url], environment: environment)
        #expect(anonymous.status == 0)
        #expect(anonymous.stderr.contains("no API key was sent"), "\(anonymous.stderr)")

        let login = try await BuiltProducts.run(
            quill,
            ["login", "--server", url + "/", "--key", key],
            environment: environment
        )
        #expect(login.status == 0, "\(login.stderr)")
        #expect(login.stdout.contains("as ada"))
        let attributes = try FileManager.default.attributesOfItem(atPath: temp.file("credentials.json"))
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let bad = try await BuiltProducts.run(
            quill,
            ["login", "--server", url, "--key", "qk_wrong"],
            environment: environment
        )
        #expect(bad.status != 0)

        let created = try await BuiltProducts.run(
            quill,
            ["keys", "create", "--server", url, "--label", "ci", "--json"],
            environment: environment
        )
        let createdID = try #require((try? JSONParser.parse(Array(created.stdout.utf8)))?["id"]?.intValue)
        let list = try await BuiltProducts.run(quill, ["keys", "list", "--server", url], environment: environment)
        #expect(list.stdout.contains("default") && list.stdout.contains("ci") && list.stdout.contains("active"))
        let revoke = try await BuiltProducts.run(
            quill,
            ["keys", "revoke", String(createdID), "--server", url],
            environment: environment
        )
        #expect(revoke.status == 0)
        await #expect(
            try BuiltProducts.run(quill, ["keys", "list", "--server", url], environment: environment).stdout.contains(
                "revoked"
            )
        )

        let org = try await BuiltProducts.run(
            quill,
            ["orgs", "create", "vision", "--server", url],
            environment: environment
        )
        #expect(org.stdout.contains("ada") && org.stdout.contains("owner"))

        // The SDK (through `quill demo`) streams with the saved key.
        var streaming = environment
        streaming["QUILL_TRACKING_URI"] = url
        let demo = try await BuiltProducts.run(quill, ["demo", "--steps", "50"], environment: streaming)
        #expect(demo.status == 0, "\(demo.stderr)")
        let runs = try await BuiltProducts.run(quill, ["runs", "--server", url, "--json"], environment: environment)
        #expect(runs.status == 0, "\(runs.stderr)")
        #expect(runs.stdout.contains("ada/"))

        let users = try await BuiltProducts.run(
            quill,
            ["users", "list", "--data", temp.file("server")],
            environment: environment
        )
        #expect(users.stdout.contains("ada") && users.stdout.contains("yes"))
    }
}
