import Foundation
import QuillCore
import QuillTesting
import Testing

@Suite("The OpenAPI document")
struct OpenAPITests {
    @Test(
        "is valid OpenAPI 3.1 and describes the real responses of every endpoint",
        .enabled(if: ProcessInfo.processInfo.environment["QUILL_TEST_PYTHON"] != nil, "set by scripts/test.sh")
    )
    func documentMatchesResponses() async throws {
        let temp = TemporaryDirectory("quill-openapi")
        let server = try await ServerProcess.start(data: temp.file("data"))
        var recorded: [JSONValue] = []
        var key: String?
        func call(_ method: String, _ path: String, template: String, json: JSONValue? = nil) async throws -> JSONValue?
        {
            let (status, body) = try await server.request(method, path, json: json, key: key)
            recorded.append([
                "method": .string(method), "path": .string(template), "status": .int(status), "body": body ?? .null,
            ])
            return body
        }
        _ = try await call("POST", "/api/v1/projects", template: "/api/v1/projects", json: ["name": "Vision"])
        _ = try await call("GET", "/api/v1/projects", template: "/api/v1/projects")
        _ = try await call("GET", "/api/v1/projects/local/vision", template: "/api/v1/projects/{namespace}/{slug}")
        _ = try await call("GET", "/api/v1/projects/local/nope", template: "/api/v1/projects/{namespace}/{slug}")
        _ = try await call(
            "PATCH",
            "/api/v1/projects/local/vision",
            template: "/api/v1/projects/{namespace}/{slug}",
            json: ["visibility": "public"]
        )
        let run = try await call(
            "POST",
            "/api/v1/runs",
            template: "/api/v1/runs",
            json: ["project": "Vision", "config": ["lr": 0.1]]
        )
        let id = try #require(run?["id"]?.stringValue)
        let batch: JSONValue = [
            "metrics": [["key": "loss", "value": 0.5, "step": 0], ["key": "loss", "value": "NaN", "step": 1]],
            "params": ["a": 1], "tags": ["t": "x"], "links": [["label": "l", "url": "https://x"]],
            "logs": [["message": "m"]],
        ]
        _ = try await call("POST", "/api/v1/runs/\(id)/batch", template: "/api/v1/runs/{id}/batch", json: batch)
        _ = try await call("POST", "/api/v1/runs/\(id)/batch", template: "/api/v1/runs/{id}/batch", json: ["bogus": 1])
        _ = try await call(
            "POST",
            "/api/v1/runs/\(id)/metrics",
            template: "/api/v1/runs/{id}/metrics",
            json: ["key": "acc", "value": 1]
        )
        _ = try await call(
            "POST",
            "/api/v1/runs/\(id)/params",
            template: "/api/v1/runs/{id}/params",
            json: ["key": "b", "value": 2]
        )
        _ = try await call(
            "POST",
            "/api/v1/runs/\(id)/tags",
            template: "/api/v1/runs/{id}/tags",
            json: ["key": "k", "value": "v"]
        )
        _ = try await call(
            "POST",
            "/api/v1/runs/\(id)/links",
            template: "/api/v1/runs/{id}/links",
            json: ["label": "a", "url": "b"]
        )
        _ = try await call("GET", "/api/v1/runs/\(id)", template: "/api/v1/runs/{id}")
        _ = try await call("GET", "/api/v1/runs/zzzz9999", template: "/api/v1/runs/{id}")
        _ = try await call("GET", "/api/v1/runs?q=params.lr%20%3E%200", template: "/api/v1/runs")
        _ = try await call("GET", "/api/v1/runs?q=params.lr%20%3E", template: "/api/v1/runs")
        _ = try await call(
            "GET",
            "/api/v1/runs/\(id)/metrics?key=loss&max_points=10",
            template: "/api/v1/runs/{id}/metrics"
        )
        _ = try await call("GET", "/api/v1/runs/\(id)/metrics", template: "/api/v1/runs/{id}/metrics")
        _ = try await call("GET", "/api/v1/runs/\(id)/logs", template: "/api/v1/runs/{id}/logs")
        _ = try await call("PATCH", "/api/v1/runs/\(id)", template: "/api/v1/runs/{id}", json: ["status": "completed"])
        // A finished run's stream is its state and its end (text/event-stream: checked for its status only).
        _ = try await call("GET", "/api/v1/runs/\(id)/events", template: "/api/v1/runs/{id}/events")
        _ = try await call("GET", "/api/v1/runs/zzzz9999/events", template: "/api/v1/runs/{id}/events")
        let artifacts = "/api/v1/runs/{id}/artifacts"
        let content = "/api/v1/runs/{id}/artifacts/content"
        func rawCall(_ method: String, _ path: String, range: String? = nil, body: Data? = nil) async throws {
            let response = try await server.raw(method, path, body: body, headers: range.map { ["Range": $0] } ?? [:])
            recorded.append([
                "method": .string(method), "path": .string(content), "status": .int(response.status),
                "body": response.json ?? .null,
            ])
        }
        _ = try await call(
            "POST",
            "/api/v1/runs/\(id)/artifacts",
            template: artifacts,
            json: ["path": "a/b.txt", "size": 3]
        )
        _ = try await call("POST", "/api/v1/runs/\(id)/artifacts", template: artifacts, json: ["path": "a/b.txt"])
        _ = try await call("POST", "/api/v1/runs/\(id)/artifacts", template: artifacts, json: ["path": "../x"])
        _ = try await call(
            "POST",
            "/api/v1/runs/\(id)/artifacts",
            template: artifacts,
            json: ["path": "x", "size": .int(1 << 40)]
        )
        _ = try await call("POST", "/api/v1/runs/zzzz9999/artifacts", template: artifacts, json: ["path": "x"])
        try await rawCall("PUT", "/api/v1/runs/\(id)/artifacts/content?path=a/b.txt", body: Data("abc".utf8))
        try await rawCall("PUT", "/api/v1/runs/\(id)/artifacts/content?path=..", body: Data("abc".utf8))
        try await rawCall("PUT", "/api/v1/runs/zzzz9999/artifacts/content?path=a", body: Data("abc".utf8))
        try await rawCall("GET", "/api/v1/runs/\(id)/artifacts/content?path=a/b.txt")
        try await rawCall("GET", "/api/v1/runs/\(id)/artifacts/content?path=a/b.txt", range: "bytes=1-")
        try await rawCall("GET", "/api/v1/runs/\(id)/artifacts/content?path=a/b.txt", range: "bytes=9-")
        try await rawCall("GET", "/api/v1/runs/\(id)/artifacts/content?path=nope")
        _ = try await call("POST", "/api/v1/runs/\(id)/artifacts", template: artifacts, json: ["path": "c"])
        _ = try await call(
            "PATCH",
            "/api/v1/runs/\(id)/artifacts?path=c",
            template: artifacts,
            json: ["status": "failed"]
        )
        _ = try await call("PATCH", "/api/v1/runs/\(id)/artifacts?path=c", template: artifacts, json: ["status": "x"])
        _ = try await call(
            "PATCH",
            "/api/v1/runs/\(id)/artifacts?path=none",
            template: artifacts,
            json: ["status": "failed"]
        )
        _ = try await call("GET", "/api/v1/runs/\(id)/artifacts", template: artifacts)
        _ = try await call("GET", "/api/v1/runs/zzzz9999/artifacts", template: artifacts)
        _ = try await call("GET", "/api/v1/status", template: "/api/v1/status")
        _ = try await call("GET", "/healthz", template: "/healthz")
        _ = try await call("DELETE", "/api/v1/runs/\(id)", template: "/api/v1/runs/{id}")
        // Jobs and devices (the server runs no worker here: these calls play one).
        let device: JSONValue = [
            "host": "h", "cpus": 4, "memory_bytes": 1024, "gpus": [["index": 0, "name": "A100"]], "labels": ["a"],
            "slots": 2, "lease_seconds": 30,
        ]
        let devices = "/api/v1/devices/{name}"
        _ = try await call("PUT", "/api/v1/devices/box", template: devices, json: device)
        _ = try await call(
            "POST",
            "/api/v1/devices/box/heartbeat",
            template: "/api/v1/devices/{name}/heartbeat",
            json: ["lease_seconds": 30]
        )
        _ = try await call("GET", "/api/v1/devices", template: "/api/v1/devices")
        _ = try await call("GET", "/api/v1/queue", template: "/api/v1/queue")
        _ = try await call("GET", "/api/v1/devices/box", template: devices)
        _ = try await call("GET", "/api/v1/devices/nope", template: devices)  // 404
        let job = try await call(
            "POST",
            "/api/v1/jobs",
            template: "/api/v1/jobs",
            json: ["project": "Vision", "argv": ["echo", "hi"], "gpus": 1, "timeout_seconds": 60]
        )
        let jobID = try #require(job?["id"]?.intValue)
        _ = try await call("POST", "/api/v1/jobs", template: "/api/v1/jobs", json: ["argv": []])  // 400
        let claim = "/api/v1/jobs/claim"
        let worker: JSONValue = ["worker": "box", "slots": 2, "gpus": [0], "labels": ["a"], "lease_seconds": 30]
        _ = try await call("POST", claim, template: claim, json: worker)
        _ = try await call("POST", claim, template: claim, json: worker)  // 204: nothing queued
        let attempt: JSONValue = ["worker": "box", "attempt": 1, "lease_seconds": 30]
        let jobPath = "/api/v1/jobs/\(jobID)"
        _ = try await call("POST", jobPath + "/heartbeat", template: "/api/v1/jobs/{id}/heartbeat", json: attempt)
        _ = try await call(
            "POST",
            jobPath + "/output",
            template: "/api/v1/jobs/{id}/output",
            json: ["worker": "box", "attempt": 1, "lines": ["hi"]]
        )
        _ = try await call("POST", jobPath + "/cancel", template: "/api/v1/jobs/{id}/cancel")
        _ = try await call(
            "POST",
            jobPath + "/finish",
            template: "/api/v1/jobs/{id}/finish",
            json: ["worker": "box", "attempt": 1, "outcome": "cancelled", "signal": 15]
        )
        // 409: the attempt ended.
        _ = try await call("POST", jobPath + "/heartbeat", template: "/api/v1/jobs/{id}/heartbeat", json: attempt)
        _ = try await call("POST", jobPath + "/retry", template: "/api/v1/jobs/{id}/retry")
        _ = try await call("GET", jobPath, template: "/api/v1/jobs/{id}")
        _ = try await call("GET", "/api/v1/jobs/999999", template: "/api/v1/jobs/{id}")  // 404
        _ = try await call("GET", "/api/v1/jobs?status=queued&limit=10", template: "/api/v1/jobs")
        _ = try await call("GET", "/api/v1/jobs/access", template: "/api/v1/jobs/access")
        _ = try await call("GET", "/api/v1/jobs?status=queued&order=queue", template: "/api/v1/jobs")
        // Remote artifacts, on the job's run (made when the job was claimed); the calls play the device's worker.
        let jobRun = try #require(job?["run_id"]?.stringValue)
        let remote = "/api/v1/runs/\(jobRun)/artifacts/remote"
        let remoteTemplate = "/api/v1/runs/{id}/artifacts/remote"
        _ = try await call("POST", remote, template: remoteTemplate, json: ["device": "box", "path": "/data/m.bin"])
        _ = try await call("POST", remote, template: remoteTemplate, json: ["device": "nope", "path": "/x"])  // 404
        let unsent: JSONValue = ["device": "box", "path": "/data/big.h5", "name": "big", "transfer": false]
        _ = try await call("POST", remote, template: remoteTemplate, json: unsent)
        let requests = "/api/v1/devices/{name}/artifact-requests"
        let claimed = try await call(
            "POST",
            "/api/v1/devices/box/artifact-requests/claim",
            template: requests + "/claim",
            json: ["lease_seconds": 30, "wait_seconds": 0, "limit": 5]
        )
        let requestID = try #require(claimed?["requests"]?.arrayValue?.first?["id"]?.intValue)
        let finish = "/api/v1/devices/box/artifact-requests/\(requestID)/finish"
        let refusal: JSONValue = ["status": "failed", "reason": "device box does not share /data"]
        _ = try await call("POST", finish, template: requests + "/{request}/finish", json: refusal)
        _ = try await call("POST", finish, template: requests + "/{request}/finish", json: refusal)  // 409
        _ = try await call("GET", remote, template: remoteTemplate)
        _ = try await call("GET", "/api/v1/runs/\(jobRun)/artifacts", template: "/api/v1/runs/{id}/artifacts")
        _ = try await call("POST", "/api/v1/devices/box/unregister", template: "/api/v1/devices/{name}/unregister")
        // Accounts: the first user ends single-user mode, so these come last and use its key.
        _ = try await call("GET", "/api/v1/whoami", template: "/api/v1/whoami")
        let created = try await call("POST", "/api/v1/users", template: "/api/v1/users", json: ["name": "ada"])
        _ = try await call("POST", "/api/v1/keys", template: "/api/v1/keys")  // 401: no key yet
        key = try #require(created?["api_key"]?["key"]?.stringValue)
        _ = try await call("GET", "/api/v1/whoami", template: "/api/v1/whoami")
        _ = try await call("GET", "/api/v1/users", template: "/api/v1/users")
        _ = try await call("POST", "/api/v1/users", template: "/api/v1/users", json: ["name": "ada"])  // 409
        _ = try await call("POST", "/api/v1/users", template: "/api/v1/users", json: ["name": "bob"])
        let second = try await call("POST", "/api/v1/keys", template: "/api/v1/keys", json: ["label": "ci"])
        _ = try await call("GET", "/api/v1/keys", template: "/api/v1/keys")
        let secondID = try #require(second?["id"]?.intValue)
        _ = try await call("DELETE", "/api/v1/keys/\(secondID)", template: "/api/v1/keys/{key}")
        _ = try await call("POST", "/api/v1/orgs", template: "/api/v1/orgs", json: ["name": "vision"])
        _ = try await call("GET", "/api/v1/orgs/vision", template: "/api/v1/orgs/{org}")
        let members = "/api/v1/orgs/{org}/members/{user}"
        _ = try await call("PUT", "/api/v1/orgs/vision/members/bob", template: members, json: ["role": "member"])
        _ = try await call("DELETE", "/api/v1/orgs/vision/members/bob", template: members)
        _ = try await call("DELETE", "/api/v1/orgs/vision/members/ada", template: members)  // 409: last owner
        _ = try await call("GET", "/api/v1/stats?days=30", template: "/api/v1/stats")
        let histories = "/api/v1/runs/{id}/histories"
        _ = try await call("GET", "/api/v1/runs/\(id)/histories?key=loss&key=acc&max_points=10", template: histories)
        _ = try await call("GET", "/api/v1/runs/\(id)/histories", template: histories)  // 400: no key
        _ = try await call("GET", "/api/v1/steps?status=success", template: "/api/v1/steps")
        _ = try await call("GET", "/api/v1/steps/graph", template: "/api/v1/steps/graph")
        _ = try await call("GET", "/api/v1/steps/Train/abcd", template: "/api/v1/steps/{namespace}/{hash}")  // 404
        _ = try await call("POST", "/api/v1/session", template: "/api/v1/session", json: ["api_key": "qk_no"])  // 401
        _ = try await call("DELETE", "/api/v1/session", template: "/api/v1/session")
        let document = try #require(try await server.request("GET", "/api/v1/openapi.json").body)
        // Every path the server routes is documented, and the recorded calls cover every one of them.
        let documented = Set(document["paths"]?.objectValue?.keys.map { $0 } ?? [])
        #expect(documented.count == 47)
        let exercised = Set(recorded.compactMap { $0["path"]?.stringValue }).union(["/metrics", "/api/v1/openapi.json"])
        #expect(documented.subtracting(exercised).isEmpty)

        let specPath = try temp.write("openapi.json", JSONWriter.string(document))
        let responsesPath = try temp.write("responses.json", JSONWriter.string(.array(recorded)))
        let python = try #require(ProcessInfo.processInfo.environment["QUILL_TEST_PYTHON"])
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Interop/validate_openapi.py").path
        let result = try await BuiltProducts.run(python, [script, specPath, responsesPath])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("\(recorded.count) responses checked, 0 problems"))
    }

    /// Runs schemathesis (from PyPI) against a real server with every check on: generated valid requests must
    /// be accepted, invalid ones refused, every status and body documented, undeclared methods answered 405.
    ///
    /// Two passes: single-user mode (without `POST /api/v1/users`, which would end that mode half-way), and
    /// signed in as an administrator. The seed is fixed so a failure reproduces; `QUILL_ST_SEED` changes it
    /// and `QUILL_ST_EXAMPLES` the number of examples per operation.
    @Test(
        "agrees with the server under schemathesis, every check on",
        .enabled(if: ProcessInfo.processInfo.environment["QUILL_TEST_SCHEMATHESIS"] != nil, "set by scripts/test.sh"),
        arguments: [false, true]
    )
    func schemathesis(signedIn: Bool) async throws {
        let environment = ProcessInfo.processInfo.environment
        let schemathesis = try #require(environment["QUILL_TEST_SCHEMATHESIS"])
        let temp = TemporaryDirectory("quill-schemathesis")
        let data = temp.file("data")
        var key: String?
        if signedIn {
            let created = try await BuiltProducts.run(
                BuiltProducts.path("quill"),
                ["users", "create", "root", "--admin", "--data", data, "--json"]
            )
            key = try #require(
                (try? JSONParser.parse(Array(created.stdout.utf8)))?["api_key"]?.stringValue,
                "\(created.stdout)\(created.stderr)"
            )
        }
        let server = try await ServerProcess.start(data: data)
        let url = "http://127.0.0.1:\(server.port)"
        let interop = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Interop").path
        var arguments = [
            "--config-file", interop + "/schemathesis.toml", "run", "\(url)/api/v1/openapi.json", "--checks", "all",
            "--workers", "1", "--no-color",
            "--max-examples", environment["QUILL_ST_EXAMPLES"] ?? "25", "--seed", environment["QUILL_ST_SEED"] ?? "1",
            "--generation-database", "none", "--request-timeout", "30",
        ]
        if let key {
            arguments += ["--header", "Authorization: Bearer \(key)"]
        } else {
            arguments += ["--exclude-name", "POST /api/v1/users"]
        }
        let result = try await BuiltProducts.run(
            schemathesis,
            arguments,
            environment: [
                "QUILL_ST_URL": url, "QUILL_ST_KEY": key ?? "", "SCHEMATHESIS_HOOKS": "schemathesis_hooks",
                "PYTHONPATH": interop,
            ],
            directory: temp.path
        )
        let failures = result.stdout.split(separator: "\n").filter { $0.contains("❌") || $0.contains("Failures") }
        #expect(result.status == 0, "schemathesis failed:\n\(result.stdout.suffix(6000))\(result.stderr.suffix(2000))")
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        #expect(result.stdout.contains("generated"), "schemathesis ran no test cases:\n\(result.stdout)")
    }
}
