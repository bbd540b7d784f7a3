import Foundation
import QuillCore
import QuillStore
import QuillTesting
import Testing

/// A real server where ada owns everything and others try to reach it: a private project `ada/secret` and a
/// public one `ada/open`, each with a run holding a metric and an uploaded artifact, an organization
/// `vision` (ada owns it, carol is a member), and a second API key of ada's.
struct AccessFixture {
    let temp: TemporaryDirectory
    let server: ServerProcess
    let root: String
    let ada: String
    let bob: String
    let carol: String
    /// The run in ada's private project.
    let privateRun: String
    /// The run in ada's public project.
    let publicRun: String
    let privateProjectID: Int
    let publicProjectID: Int
    /// ada's second key (`ci`) and its id.
    let adaKey: String
    let adaKeyID: Int
    /// A job ada queued in her private project (no worker runs it).
    let privateJob: Int

    /// - Parameter store: What the server stores its records in: its SQLite file, or a fresh PostgreSQL
    ///   database of the test server (`QUILL_TEST_POSTGRES_URL`).
    init(on store: ServerStore = .sqlite, extraArguments: [String] = []) async throws {
        let helpers = AuthTests()
        temp = TemporaryDirectory("quill-authz")
        let url: String? = store == .postgres ? try await TestPostgres.database("authz").description : nil
        // ServerProcess blocks until the server listens (seconds on PostgreSQL under load): off the cooperative pool.
        let data = temp.path
        server = try await offPool { try ServerProcess(data: data, store: url, extraArguments: extraArguments) }
        root = try await server.createUser("root")
        try await helpers.waitForAuth(server)
        ada = try await helpers.user("ada", on: server, by: root)
        bob = try await helpers.user("bob", on: server, by: root)
        carol = try await helpers.user("carol", on: server, by: root)
        var runs: [String] = []
        var projects: [Int] = []
        for name in ["Secret", "Open"] {
            let created = try await server.request("POST", "/api/v1/runs", json: ["project": .string(name)], key: ada)
            let id = try #require(created.body?["id"]?.stringValue)
            projects.append(try #require(created.body?["project_id"]?.intValue))
            let batch: JSONValue = ["metrics": [["key": "loss", "value": 0.5, "step": 1]]]
            #expect(try await server.request("POST", "/api/v1/runs/\(id)/batch", json: batch, key: ada).status == 200)
            let upload = "/api/v1/runs/\(id)/artifacts/content?path=model.bin"
            #expect(try await server.request("PUT", upload, raw: Array("weights".utf8), key: ada).status == 200)
            runs.append(id)
        }
        privateRun = runs[0]
        publicRun = runs[1]
        privateProjectID = projects[0]
        publicProjectID = projects[1]
        let open: JSONValue = ["visibility": "public"]
        #expect(try await server.request("PATCH", "/api/v1/projects/ada/open", json: open, key: ada).status == 200)
        #expect(try await server.request("POST", "/api/v1/orgs", json: ["name": "vision"], key: ada).status == 201)
        let member = try await server.request("PUT", "/api/v1/orgs/vision/members/carol", json: [:], key: ada)
        #expect(member.status == 200)
        let key = try await server.request("POST", "/api/v1/keys", json: ["label": "ci"], key: ada)
        adaKey = try #require(key.body?["key"]?.stringValue)
        adaKeyID = try #require(key.body?["id"]?.intValue)
        let job = try await server.request(
            "POST",
            "/api/v1/jobs",
            json: ["project": "ada/secret", "argv": ["true"]],
            key: ada
        )
        privateJob = try #require(job.body?["id"]?.intValue, "\(job)")
    }

    /// Checks that nothing of ada's changed: runs, metrics, artifacts, visibility, keys and the organization.
    func expectUntouched(sourceLocation: SourceLocation = #_sourceLocation) async throws {
        for run in [privateRun, publicRun] {
            let details = try await server.request("GET", "/api/v1/runs/\(run)", key: ada)
            #expect(details.status == 200, sourceLocation: sourceLocation)
            #expect(details.body?["description"] == .null, sourceLocation: sourceLocation)
            #expect(details.body?["params"] == [:], "\(run)", sourceLocation: sourceLocation)
            #expect(details.body?["links"] == [], "\(run)", sourceLocation: sourceLocation)
            let history = try await server.request("GET", "/api/v1/runs/\(run)/metrics?key=loss", key: ada).body
            #expect(history?["points"]?.arrayValue?.count == 1, "\(run)", sourceLocation: sourceLocation)
            let logs = try await server.request("GET", "/api/v1/runs/\(run)/logs", key: ada).body
            #expect(logs?["logs"]?.arrayValue?.isEmpty == true, "\(run)", sourceLocation: sourceLocation)
            let artifacts = try await server.request("GET", "/api/v1/runs/\(run)/artifacts", key: ada).body
            #expect(
                artifacts?["artifacts"]?.arrayValue?.map { $0["status"] } == ["uploaded"],
                "\(run)",
                sourceLocation: sourceLocation
            )
        }
        let secret = try await server.request("GET", "/api/v1/projects/ada/secret", key: ada).body
        #expect(secret?["visibility"] == "private", sourceLocation: sourceLocation)
        let open = try await server.request("GET", "/api/v1/projects/ada/open", key: ada).body
        #expect(open?["visibility"] == "public", sourceLocation: sourceLocation)
        #expect(
            try await server.request("GET", "/api/v1/whoami", key: adaKey).status == 200,
            sourceLocation: sourceLocation
        )
        let vision = try await server.request("GET", "/api/v1/orgs/vision", key: ada).body
        #expect(
            vision?["members"] == [["user": "ada", "role": "owner"], ["user": "carol", "role": "member"]],
            sourceLocation: sourceLocation
        )
        let users = try await server.request("GET", "/api/v1/users", key: root).body?["users"]?.arrayValue
        #expect(users?.map { $0["name"] } == ["ada", "bob", "carol", "root"], sourceLocation: sourceLocation)
    }
}

/// What a server of the access tests stores its records in; every table runs on both, and must get the same
/// answers.
enum ServerStore: String, Sendable {
    case sqlite
    case postgres
}

/// One request in an access table: the route it exercises (as the OpenAPI document names it), the request,
/// who sends it and the status expected.
struct AccessAttempt: CustomStringConvertible {
    var method: String
    /// The path template, e.g. `/api/v1/runs/{id}`.
    var route: String
    var path: String
    var body: JSONValue?
    var raw: [UInt8]?
    /// Who sends it: `bob`, `carol` or `anonymous`.
    var caller: String
    var expected: Int

    var description: String { "\(caller): \(method) \(path)" }

    /// The error code a refusal carries.
    var expectedCode: JSONValue? {
        switch expected {
        case 401: "unauthorized"
        case 403: "forbidden"
        case 404: "not_found"
        default: nil
        }
    }
}

@Suite("Every route, tried by callers who do not own the resource")
struct AuthorizationTableTests {
    /// The attempts: every route of the API, as bob (no access to ada's private things, read access to
    /// her public ones), carol (a member, not an owner, of ada's organization) and an anonymous caller.
    static func attempts(_ fixture: AccessFixture) -> [AccessAttempt] {
        var attempts: [AccessAttempt] = []
        func add(
            _ method: String,
            _ route: String,
            _ path: String,
            _ body: JSONValue? = nil,
            raw: [UInt8]? = nil,
            expect expected: [String: Int]
        ) {
            for (caller, status) in expected.sorted(by: { $0.key < $1.key }) {
                attempts.append(
                    AccessAttempt(
                        method: method,
                        route: route,
                        path: path,
                        body: body,
                        raw: raw,
                        caller: caller,
                        expected: status
                    )
                )
            }
        }
        let secret = fixture.privateRun
        let open = fixture.publicRun
        // Private things answer 404 to bob (he may not know they exist), public ones 403 to writes (he may
        // read them) and every write by an anonymous caller answers 401.
        let write = { (run: String) in run == secret ? ["bob": 404, "anonymous": 401] : ["bob": 403, "anonymous": 401] }
        let read = { (run: String) in run == secret ? ["bob": 404, "anonymous": 404] : ["bob": 200, "anonymous": 200] }

        add("GET", "/healthz", "/healthz", expect: ["bob": 200, "anonymous": 200])
        add("GET", "/api/v1/openapi.json", "/api/v1/openapi.json", expect: ["bob": 200, "anonymous": 200])
        add("GET", "/metrics", "/metrics", expect: ["bob": 403, "anonymous": 401])
        add("GET", "/api/v1/status", "/api/v1/status", expect: ["bob": 200, "anonymous": 200])
        add("GET", "/api/v1/whoami", "/api/v1/whoami", expect: ["bob": 200, "anonymous": 200])

        add("GET", "/api/v1/projects", "/api/v1/projects", expect: ["bob": 200, "anonymous": 200])
        add(
            "POST",
            "/api/v1/projects",
            "/api/v1/projects",
            ["name": "x", "namespace": "ada"],
            expect: ["bob": 403, "anonymous": 401]
        )
        for (slug, run) in [("secret", secret), ("open", open)] {
            let path = "/api/v1/projects/ada/\(slug)"
            add("GET", "/api/v1/projects/{namespace}/{slug}", path, expect: read(run))
            let visibility: JSONValue = ["visibility": slug == "secret" ? "public" : "private"]
            add("PATCH", "/api/v1/projects/{namespace}/{slug}", path, visibility, expect: write(run))
        }

        add("GET", "/api/v1/runs", "/api/v1/runs", expect: ["bob": 200, "anonymous": 200])
        add("GET", "/api/v1/runs", "/api/v1/runs?project=ada/secret", expect: ["bob": 404, "anonymous": 404])
        add("POST", "/api/v1/runs", "/api/v1/runs", ["project": "ada/secret"], expect: ["bob": 404, "anonymous": 401])
        add("POST", "/api/v1/runs", "/api/v1/runs", ["project": "ada/open"], expect: ["bob": 403, "anonymous": 401])
        add(
            "POST",
            "/api/v1/runs",
            "/api/v1/runs",
            ["project_id": .int(fixture.privateProjectID)],
            expect: ["bob": 404, "anonymous": 401]
        )
        add(
            "POST",
            "/api/v1/runs",
            "/api/v1/runs",
            ["project_id": .int(fixture.publicProjectID)],
            expect: ["bob": 403, "anonymous": 401]
        )
        for run in [secret, open] {
            let base = "/api/v1/runs/\(run)"
            add("GET", "/api/v1/runs/{id}", base, expect: read(run))
            add("PATCH", "/api/v1/runs/{id}", base, ["description": "mine now"], expect: write(run))
            add("DELETE", "/api/v1/runs/{id}", base, expect: write(run))
            add(
                "POST",
                "/api/v1/runs/{id}/batch",
                base + "/batch",
                ["metrics": [["key": "loss", "value": 9, "step": 2]]],
                expect: write(run)
            )
            add(
                "POST",
                "/api/v1/runs/{id}/metrics",
                base + "/metrics",
                ["key": "loss", "value": 9],
                expect: write(run)
            )
            add("POST", "/api/v1/runs/{id}/params", base + "/params", ["key": "lr", "value": 1], expect: write(run))
            add("POST", "/api/v1/runs/{id}/tags", base + "/tags", ["key": "owner", "value": "bob"], expect: write(run))
            add(
                "POST",
                "/api/v1/runs/{id}/links",
                base + "/links",
                ["label": "x", "url": "http://x"],
                expect: write(run)
            )
            add("POST", "/api/v1/runs/{id}/logs", base + "/logs", ["message": "hi"], expect: write(run))
            add("GET", "/api/v1/runs/{id}/metrics", base + "/metrics", expect: read(run))
            add("GET", "/api/v1/runs/{id}/metrics", base + "/metrics?key=loss", expect: read(run))
            add("GET", "/api/v1/runs/{id}/histories", base + "/histories?key=loss", expect: read(run))
            add("GET", "/api/v1/runs/{id}/logs", base + "/logs", expect: read(run))
            // A readable run's stream stays open while the run runs: the table tries the private one only.
            if run == secret { add("GET", "/api/v1/runs/{id}/events", base + "/events", expect: read(run)) }
            let artifacts = base + "/artifacts"
            add("GET", "/api/v1/runs/{id}/artifacts", artifacts, expect: read(run))
            add("POST", "/api/v1/runs/{id}/artifacts", artifacts, ["path": "stolen.bin"], expect: write(run))
            add(
                "PATCH",
                "/api/v1/runs/{id}/artifacts",
                artifacts + "?path=model.bin",
                ["status": "failed"],
                expect: write(run)
            )
            let content = artifacts + "/content?path=model.bin"
            add(
                "PUT",
                "/api/v1/runs/{id}/artifacts/content",
                content,
                raw: Array("overwritten".utf8),
                expect: write(run)
            )
            add("GET", "/api/v1/runs/{id}/artifacts/content", content, expect: read(run))
        }

        add("GET", "/api/v1/users", "/api/v1/users", expect: ["bob": 403, "anonymous": 401])
        add("POST", "/api/v1/users", "/api/v1/users", ["name": "eve"], expect: ["bob": 403, "anonymous": 401])
        add(
            "POST",
            "/api/v1/users",
            "/api/v1/users",
            ["name": "eve", "admin": true],
            expect: ["bob": 403, "anonymous": 401]
        )
        // Keys and organizations of one's own are for every signed-in user.
        add("GET", "/api/v1/keys", "/api/v1/keys", expect: ["bob": 200, "anonymous": 401])
        add("POST", "/api/v1/keys", "/api/v1/keys", ["label": "bobs"], expect: ["bob": 201, "anonymous": 401])
        add(
            "DELETE",
            "/api/v1/keys/{key}",
            "/api/v1/keys/\(fixture.adaKeyID)",
            expect: ["bob": 404, "carol": 404, "anonymous": 401]
        )
        add("POST", "/api/v1/orgs", "/api/v1/orgs", ["name": "bobs-org"], expect: ["bob": 201, "anonymous": 401])
        add("POST", "/api/v1/orgs", "/api/v1/orgs", ["name": "vision"], expect: ["carol": 409])
        add("GET", "/api/v1/orgs/{org}", "/api/v1/orgs/vision", expect: ["bob": 404, "carol": 200, "anonymous": 401])
        let members = "/api/v1/orgs/{org}/members/{user}"
        add(
            "PUT",
            members,
            "/api/v1/orgs/vision/members/bob",
            ["role": "owner"],
            expect: ["bob": 404, "carol": 403, "anonymous": 401]
        )
        add(
            "PUT",
            members,
            "/api/v1/orgs/vision/members/carol",
            ["role": "owner"],
            expect: ["bob": 404, "carol": 403, "anonymous": 401]
        )
        add("DELETE", members, "/api/v1/orgs/vision/members/ada", expect: ["bob": 404, "carol": 403, "anonymous": 401])

        // Cached step results have no owner: any signed-in user reads them, an anonymous caller is asked for a key.
        add("GET", "/api/v1/steps", "/api/v1/steps", expect: ["bob": 200, "anonymous": 401])
        add("GET", "/api/v1/steps/graph", "/api/v1/steps/graph", expect: ["bob": 200, "anonymous": 401])
        add("GET", "/api/v1/steps/{namespace}/{hash}", "/api/v1/steps/ada/0123456789ab", expect: ["anonymous": 401])
        // Signing in to the dashboard needs a valid key, whoever sends it; signing out ends only one's own session.
        add(
            "POST",
            "/api/v1/session",
            "/api/v1/session",
            ["api_key": "qk_not-a-key"],
            expect: ["bob": 401, "anonymous": 401]
        )
        add("DELETE", "/api/v1/session", "/api/v1/session", expect: ["bob": 204, "anonymous": 204])
        // Statistics count only what the caller may read, so everyone may ask.
        add("GET", "/api/v1/stats", "/api/v1/stats", expect: ["bob": 200, "anonymous": 200])

        // Jobs belong to projects; workers need an administrator's key.
        let job = "/api/v1/jobs/\(fixture.privateJob)"
        add("GET", "/api/v1/jobs", "/api/v1/jobs", expect: ["bob": 200, "anonymous": 200])
        add(
            "POST",
            "/api/v1/jobs",
            "/api/v1/jobs",
            ["project": "ada/secret", "argv": ["true"]],
            expect: ["bob": 404, "anonymous": 401]
        )
        add(
            "POST",
            "/api/v1/jobs",
            "/api/v1/jobs",
            ["project": "ada/open", "argv": ["true"]],
            expect: ["bob": 403, "anonymous": 401]
        )
        add("GET", "/api/v1/jobs/access", "/api/v1/jobs/access", expect: ["bob": 200, "anonymous": 200])
        add("GET", "/api/v1/jobs/{id}", job, expect: ["bob": 404, "anonymous": 404])
        add("POST", "/api/v1/jobs/{id}/cancel", job + "/cancel", expect: ["bob": 404, "anonymous": 401])
        add("POST", "/api/v1/jobs/{id}/retry", job + "/retry", expect: ["bob": 404, "anonymous": 401])
        let worker: JSONValue = ["worker": "bobs-box", "attempt": 1, "lease_seconds": 30]
        add(
            "POST",
            "/api/v1/jobs/claim",
            "/api/v1/jobs/claim",
            ["worker": "bobs-box", "slots": 1, "gpus": [], "labels": [], "lease_seconds": 30],
            expect: ["bob": 403, "carol": 403, "anonymous": 401]
        )
        add("POST", "/api/v1/jobs/{id}/heartbeat", job + "/heartbeat", worker, expect: ["bob": 403, "anonymous": 401])
        add(
            "POST",
            "/api/v1/jobs/{id}/output",
            job + "/output",
            ["worker": "bobs-box", "attempt": 1, "lines": ["x"]],
            expect: ["bob": 403, "anonymous": 401]
        )
        add(
            "POST",
            "/api/v1/jobs/{id}/finish",
            job + "/finish",
            ["worker": "bobs-box", "attempt": 1, "outcome": "completed"],
            expect: ["bob": 403, "anonymous": 401]
        )
        add("GET", "/api/v1/devices", "/api/v1/devices", expect: ["bob": 200, "anonymous": 401])
        add("GET", "/api/v1/queue", "/api/v1/queue", expect: ["bob": 200, "anonymous": 401])
        add("GET", "/api/v1/devices/{name}", "/api/v1/devices/nope", expect: ["bob": 404, "anonymous": 401])
        let device: JSONValue = [
            "host": "h", "cpus": 1, "memory_bytes": 1, "gpus": [], "labels": [], "slots": 1, "lease_seconds": 30,
        ]
        add(
            "PUT",
            "/api/v1/devices/{name}",
            "/api/v1/devices/bobs-box",
            device,
            expect: ["bob": 403, "anonymous": 401]
        )
        add(
            "POST",
            "/api/v1/devices/{name}/heartbeat",
            "/api/v1/devices/bobs-box/heartbeat",
            ["lease_seconds": 30],
            expect: ["bob": 403, "anonymous": 401]
        )
        add(
            "POST",
            "/api/v1/devices/{name}/unregister",
            "/api/v1/devices/bobs-box/unregister",
            expect: ["bob": 403, "anonymous": 401]
        )
        // Remote artifacts: asking a device for a file is a write to the run; the worker routes need an
        // administrator.
        let remote: JSONValue = ["device": "bobs-box", "path": "/etc/passwd"]
        add(
            "POST",
            "/api/v1/runs/{id}/artifacts/remote",
            "/api/v1/runs/\(fixture.privateRun)/artifacts/remote",
            remote,
            expect: ["bob": 404, "carol": 404, "anonymous": 401]
        )
        add(
            "POST",
            "/api/v1/runs/{id}/artifacts/remote",
            "/api/v1/runs/\(fixture.publicRun)/artifacts/remote",
            remote,
            expect: ["bob": 403, "anonymous": 401]
        )
        add(
            "GET",
            "/api/v1/runs/{id}/artifacts/remote",
            "/api/v1/runs/\(fixture.privateRun)/artifacts/remote",
            expect: ["bob": 404, "anonymous": 404]
        )
        add(
            "POST",
            "/api/v1/devices/{name}/artifact-requests/claim",
            "/api/v1/devices/bobs-box/artifact-requests/claim",
            ["lease_seconds": 30],
            expect: ["bob": 403, "carol": 403, "anonymous": 401]
        )
        add(
            "POST",
            "/api/v1/devices/{name}/artifact-requests/{request}/finish",
            "/api/v1/devices/bobs-box/artifact-requests/1/finish",
            ["status": "failed", "reason": "x"],
            expect: ["bob": 403, "anonymous": 401]
        )
        return attempts
    }

    @Test("every documented route answers 401, 403 or 404 to a caller without access, and nothing changes")
    func everyRoute() async throws {
        try await checkEveryRoute(on: .sqlite)
    }

    @Test(
        "on PostgreSQL too, every route answers a caller without access as on SQLite, and nothing changes",
        .enabled(if: PostgresAvailability.configured, PostgresAvailability.reason)
    )
    func everyRouteOnPostgres() async throws {
        try await checkEveryRoute(on: .postgres)
    }

    /// Tries every attempt of ``attempts(_:)`` against a server on `store`.
    func checkEveryRoute(on store: ServerStore) async throws {
        let fixture = try await AccessFixture(on: store)
        let server = fixture.server
        let attempts = Self.attempts(fixture)

        // The table covers every operation of the OpenAPI document, so a new route cannot skip it.
        let document = try #require(try await server.request("GET", "/api/v1/openapi.json").body)
        var documented: Set<String> = []
        for (path, item) in document["paths"]?.objectValue ?? [:] {
            for method in (item.objectValue ?? [:]).keys where method != "parameters" {
                documented.insert("\(method.uppercased()) \(path)")
            }
        }
        #expect(documented.count >= 30)
        let tried = Set(attempts.map { "\($0.method) \($0.route)" })
        #expect(documented.subtracting(tried).sorted() == [], "routes missing from the table")
        // Routes the server has that the document does not describe (yet) are tried all the same.
        let undocumented: Set<String> = []
        #expect(
            tried.subtracting(documented).subtracting(undocumented).sorted() == [],
            "routes the document does not have"
        )

        let keys = ["bob": fixture.bob, "carol": fixture.carol]
        for attempt in attempts {
            let (status, json) = try await server.request(
                attempt.method,
                attempt.path,
                json: attempt.body,
                raw: attempt.raw,
                key: keys[attempt.caller]
            )
            #expect(status == attempt.expected, "\(attempt) gave \(status): \(String(describing: json))")
            if let code = attempt.expectedCode {
                #expect(json?["error"]?["code"] == code, "\(attempt)")
            }
        }

        // What bob may see holds nothing of ada's private project.
        let runs = try await server.request("GET", "/api/v1/runs", key: fixture.bob).body?["runs"]?.arrayValue ?? []
        #expect(runs.map { $0["id"] } == [.string(fixture.publicRun)])
        let projects = try await server.request("GET", "/api/v1/projects", key: fixture.bob).body?["projects"]
        #expect(projects?.arrayValue?.map { $0["path"] } == ["ada/open"])
        #expect(try await server.request("GET", "/api/v1/status", key: fixture.bob).body?["counts"] == nil)
        // The queue's counts cover bob's projects only: ada's private job is not among them.
        let queue = try await server.request("GET", "/api/v1/queue", key: fixture.bob).body
        #expect(queue?["queued"] == 0)
        #expect(queue?["counts"]?.objectValue?.values.compactMap(\.intValue).reduce(0, +) == 0)
        let bobsKeys = try await server.request("GET", "/api/v1/keys", key: fixture.bob).body?["keys"]?.arrayValue
        #expect(bobsKeys?.map { $0["label"] } == ["default", "bobs"])
        try await fixture.expectUntouched()
    }
}
