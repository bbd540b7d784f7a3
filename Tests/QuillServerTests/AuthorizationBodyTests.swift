import Foundation
import QuillCore
import QuillTesting
import Testing

@Suite("Bodies are read only after the caller may write")
struct AuthorizationBodyTests {
    /// Every route that takes a body, as a caller who may not use it, with the status expected: 404 for
    /// what bob may not see, 403 for what he (or carol) may see but not change, 401 for anonymous callers.
    static func attempts(_ fixture: AccessFixture) -> [AccessAttempt] {
        var attempts: [AccessAttempt] = []
        func add(_ method: String, _ route: String, _ path: String, _ expected: [String: Int]) {
            for (caller, status) in expected.sorted(by: { $0.key < $1.key }) {
                attempts.append(
                    AccessAttempt(method: method, route: route, path: path, caller: caller, expected: status)
                )
            }
        }
        for (slug, refused) in [("secret", 404), ("open", 403)] {
            add(
                "PATCH",
                "/api/v1/projects/{namespace}/{slug}",
                "/api/v1/projects/ada/\(slug)",
                ["bob": refused, "anonymous": 401]
            )
        }
        for (run, refused) in [(fixture.privateRun, 404), (fixture.publicRun, 403)] {
            let base = "/api/v1/runs/\(run)"
            let expected = ["bob": refused, "anonymous": 401]
            add("PATCH", "/api/v1/runs/{id}", base, expected)
            for item in ["batch", "metrics", "params", "tags", "links", "logs"] {
                add("POST", "/api/v1/runs/{id}/\(item)", "\(base)/\(item)", expected)
            }
            add("POST", "/api/v1/runs/{id}/artifacts", base + "/artifacts", expected)
            add("PATCH", "/api/v1/runs/{id}/artifacts", base + "/artifacts?path=model.bin", expected)
            add("PUT", "/api/v1/runs/{id}/artifacts/content", base + "/artifacts/content?path=model.bin", expected)
            add("POST", "/api/v1/runs/{id}/artifacts/remote", base + "/artifacts/remote", expected)
        }
        add(
            "PUT",
            "/api/v1/orgs/{org}/members/{user}",
            "/api/v1/orgs/vision/members/bob",
            ["bob": 404, "carol": 403, "anonymous": 401]
        )
        add("POST", "/api/v1/users", "/api/v1/users", ["bob": 403, "anonymous": 401])
        // These name their resource in the body, so only an anonymous caller can be refused before it.
        for path in ["/api/v1/runs", "/api/v1/projects", "/api/v1/keys", "/api/v1/orgs", "/api/v1/jobs"] {
            add("POST", path, path, ["anonymous": 401])
        }
        // Jobs: cancel and retry take no body; the worker routes need an administrator's key first.
        let job = "/api/v1/jobs/\(fixture.privateJob)"
        add("POST", "/api/v1/jobs/{id}/cancel", job + "/cancel", ["bob": 404, "anonymous": 401])
        add("POST", "/api/v1/jobs/{id}/retry", job + "/retry", ["bob": 404, "anonymous": 401])
        let worker = ["bob": 403, "anonymous": 401]
        add("POST", "/api/v1/jobs/claim", "/api/v1/jobs/claim", worker)
        for action in ["heartbeat", "output", "finish"] {
            add("POST", "/api/v1/jobs/{id}/\(action)", "\(job)/\(action)", worker)
        }
        add("PUT", "/api/v1/devices/{name}", "/api/v1/devices/box", worker)
        for action in ["heartbeat", "unregister"] {
            add("POST", "/api/v1/devices/{name}/\(action)", "/api/v1/devices/box/\(action)", worker)
        }
        add(
            "POST",
            "/api/v1/devices/{name}/artifact-requests/claim",
            "/api/v1/devices/box/artifact-requests/claim",
            worker
        )
        add(
            "POST",
            "/api/v1/devices/{name}/artifact-requests/{request}/finish",
            "/api/v1/devices/box/artifact-requests/1/finish",
            worker
        )
        return attempts
    }

    /// 8 MiB that are not JSON: a route that parsed them would answer 400.
    static let malformed = Array("{\"key\": ".utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: 8 << 20)

    @Test("an 8 MiB malformed body from a caller who may not write gets 401/403/404, never 400, and changes nothing")
    func malformedBodies() async throws {
        try await checkMalformedBodies(on: .sqlite)
    }

    @Test(
        "on PostgreSQL too, a malformed body from a caller who may not write gets 401/403/404 and changes nothing",
        .enabled(if: PostgresAvailability.configured, PostgresAvailability.reason)
    )
    func malformedBodiesOnPostgres() async throws {
        try await checkMalformedBodies(on: .postgres)
    }

    func checkMalformedBodies(on store: ServerStore) async throws {
        let fixture = try await AccessFixture(on: store)
        let keys = ["bob": fixture.bob, "carol": fixture.carol]
        let attempts = Self.attempts(fixture)
        // Every route that takes a body is in the list (the others are GET and DELETE).
        let document = try #require(try await fixture.server.request("GET", "/api/v1/openapi.json").body)
        var bodyRoutes: Set<String> = []
        for (path, item) in document["paths"]?.objectValue ?? [:] {
            for method in (item.objectValue ?? [:]).keys where ["post", "put", "patch"].contains(method) {
                bodyRoutes.insert("\(method.uppercased()) \(path)")
            }
        }
        // Signing in is open to everyone: its body is the credential, so there is no caller "without access".
        let open: Set<String> = ["POST /api/v1/session"]
        #expect(bodyRoutes.subtracting(open).subtracting(attempts.map { "\($0.method) \($0.route)" }).sorted() == [])

        for attempt in attempts {
            let (status, json) = try await fixture.server.request(
                attempt.method,
                attempt.path,
                raw: Self.malformed,
                key: keys[attempt.caller]
            )
            #expect(status == attempt.expected, "\(attempt) gave \(status): \(String(describing: json))")
            #expect(json?["error"]?["code"] == attempt.expectedCode, "\(attempt)")
        }
        try await fixture.expectUntouched()
    }

    @Test("the refusal arrives while the client is still sending the body")
    func refusedBeforeTheBodyArrives() async throws {
        try await checkRefusedBeforeTheBodyArrives(on: .sqlite)
    }

    @Test(
        "on PostgreSQL too, the refusal arrives while the client is still sending the body",
        .enabled(if: PostgresAvailability.configured, PostgresAvailability.reason)
    )
    func refusedBeforeTheBodyArrivesOnPostgres() async throws {
        try await checkRefusedBeforeTheBodyArrives(on: .postgres)
    }

    func checkRefusedBeforeTheBodyArrives(on store: ServerStore) async throws {
        // A long body timeout: a route that waited for the body would not answer within the test's deadline.
        let fixture = try await AccessFixture(on: store, extraArguments: ["--body-timeout", "300"])
        let keys = ["bob": fixture.bob, "carol": fixture.carol]
        let declared = 8 << 20
        let firstPart = "{\"key\": \"" + String(repeating: "x", count: 64 << 10)
        for attempt in Self.attempts(fixture) {
            let connection = try RawConnection(port: fixture.server.port)
            var head = "\(attempt.method) \(attempt.path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            head += "Content-Type: application/json\r\nContent-Length: \(declared)\r\n"
            if let key = keys[attempt.caller] { head += "Authorization: Bearer \(key)\r\n" }
            connection.send(head + "\r\n" + firstPart)
            // The rest of the 8 MiB never comes.
            let started = ContinuousClock.now
            let response = connection.receiveHead(seconds: 30)
            let status = response.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) }
            #expect(status == attempt.expected, "\(attempt): \(response.prefix(200))")
            #expect(ContinuousClock.now - started < .seconds(30), "\(attempt)")
        }
        try await fixture.expectUntouched()
    }
}

extension RawConnection {
    /// The response's status line and headers, as soon as they have arrived; what came when `seconds` pass or
    /// the connection closes first.
    func receiveHead(seconds: Int) -> String {
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let deadline = ContinuousClock.now + .seconds(seconds)
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        let end = Array("\r\n\r\n".utf8)
        while ContinuousClock.now < deadline {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { break }
            if count < 0 {
                // The one-second receive timeout (or a signal): check the deadline and wait on.
                if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { continue }
                break
            }
            data += buffer[0..<count]
            if data.count >= end.count,
                (0...(data.count - end.count)).contains(where: { data[$0..<$0 + end.count].elementsEqual(end) })
            {
                break
            }
        }
        return String(decoding: data, as: UTF8.self)
    }
}
