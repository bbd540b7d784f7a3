import Foundation
import QuillCore
import QuillServer
import QuillTesting
import Testing

/// What the dashboard's jobs page reads: `GET /api/v1/jobs/access` (the projects whose jobs the caller may
/// cancel and retry, which its buttons follow, agree with what the cancel and retry routes accept) and
/// `GET /api/v1/jobs?order=queue` (the queue as workers take it).
@Suite("The routes of the jobs page")
struct JobPageRoutesTests {
    @Test("each caller is told exactly the projects it may write, and the routes agree")
    func accessMatchesTheRoutes() async throws {
        let fixture = try await AccessFixture()
        let server = fixture.server
        func access(_ key: String?) async throws -> (all: Bool?, ids: [Int]) {
            let answer = try await server.request("GET", "/api/v1/jobs/access", key: key)
            #expect(answer.status == 200)
            let ids = answer.body?["project_ids"]?.arrayValue?.compactMap(\.intValue) ?? [-1]
            return (answer.body?["all_projects"]?.boolValue, ids)
        }
        let ada = try await access(fixture.ada)
        #expect(ada.all == false)
        #expect(ada.ids == [fixture.privateProjectID, fixture.publicProjectID].sorted())
        let root = try await access(fixture.root)
        #expect(root.all == true, "an administrator may control every job")
        #expect(Set(root.ids).isSuperset(of: ada.ids))
        for key in [fixture.bob, fixture.carol, nil] {
            let other = try await access(key)
            #expect(other.all == false)
            #expect(other.ids.isEmpty, "bob and carol may read ada's public project, not write it")
        }

        // The routes say the same: ada's public project's job is refused to bob (403), accepted for ada.
        let submitted = try await server.request(
            "POST",
            "/api/v1/jobs",
            json: ["project": "ada/open", "argv": ["true"], "device": "nowhere"],
            key: fixture.ada
        )
        let id = try #require(submitted.body?["id"]?.intValue)
        #expect(try await server.request("POST", "/api/v1/jobs/\(id)/cancel", key: fixture.bob).status == 403)
        #expect(try await server.request("POST", "/api/v1/jobs/\(id)/cancel", key: fixture.ada).status == 200)
        #expect(try await server.request("POST", "/api/v1/jobs/\(id)/retry", key: fixture.bob).status == 403)
        #expect(try await server.request("POST", "/api/v1/jobs/\(id)/retry", key: fixture.ada).status == 200)
    }

    @Test("order=queue lists queued jobs as workers claim them: highest priority first, then the oldest")
    func queueOrder() async throws {
        let temp = TemporaryDirectory("quill-job-order")
        let server = try await ServerProcess.start(data: temp.file("data"), extraArguments: ["--local-workers", "0"])
        var ids: [Int] = []
        for priority in [0, 5, 0, 9, 5] {
            let body: JSONValue = ["project": "q", "argv": ["true"], "priority": .int(priority)]
            let submitted = try await server.request("POST", "/api/v1/jobs", json: body)
            ids.append(try #require(submitted.body?["id"]?.intValue))
        }
        func listed(_ query: String) async throws -> (ids: [Int], next: JSONValue?) {
            let answer = try await server.request("GET", "/api/v1/jobs?status=queued&" + query)
            #expect(answer.status == 200)
            let jobs = answer.body?["jobs"]?.arrayValue ?? []
            return (jobs.compactMap { $0["id"]?.intValue }, answer.body?["next_before"])
        }
        let queue = try await listed("order=queue")
        #expect(queue.ids == [ids[3], ids[1], ids[4], ids[0], ids[2]])
        let head = try await listed("order=queue&limit=2")
        #expect(head.ids == [ids[3], ids[1]], "the head of the queue, not the newest jobs")
        #expect(head.next == .null, "no paging cursor in queue order")
        let newest = try await listed("limit=2")
        #expect(newest.ids == [ids[4], ids[3]])
        #expect(newest.next?.intValue == ids[3])
        #expect(try await listed("order=newest").ids == ids.reversed())
        let refused = try await server.request("GET", "/api/v1/jobs?order=priority")
        #expect(refused.status == 400)
        #expect(refused.body?["error"]?["message"]?.stringValue?.contains("order must be newest or queue") == true)
    }

    @Test("a job's output lines reach its run's event stream at once, not on the stream's next poll")
    func outputWakesTheRunStream() async throws {
        let events = RunEventStreamTests()
        let configuration = RunEventStreamTests.configuration {
            $0.eventStreams.pollInterval = .seconds(60)
            $0.eventStreams.heartbeat = .seconds(60)
        }
        try await events.withServer(configuration) { port, _ in
            let device: JSONValue = [
                "host": "h", "cpus": 1, "memory_bytes": 1, "gpus": [], "labels": [], "slots": 1, "lease_seconds": 30,
            ]
            #expect(try await events.call(port, "PUT", "/api/v1/devices/box", device).0 == 200)
            let (submitted, job) = try await events.call(
                port,
                "POST",
                "/api/v1/jobs",
                ["project": "p", "argv": ["true"]]
            )
            #expect(submitted == 201)
            let id = try #require(job?["id"]?.intValue)
            let claim: JSONValue = ["worker": "box", "slots": 1, "gpus": [], "labels": [], "lease_seconds": 30]
            let (claimed, body) = try await events.call(port, "POST", "/api/v1/jobs/claim", claim)
            #expect(claimed == 200)
            let run = try #require(body?["job"]?["run_id"]?.stringValue)
            let client = try EventStreamClient(port: port, path: "/api/v1/runs/\(run)/events")
            #expect(await client.readHead() == 200)
            #expect(await client.next()?.name == "state")
            let started = ContinuousClock.now
            let output: JSONValue = ["worker": "box", "attempt": 1, "lines": ["epoch 1", "epoch 2"]]
            #expect(try await events.call(port, "POST", "/api/v1/jobs/\(id)/output", output).0 == 204)
            let received = await client.events(until: { streamedLines($0).count >= 2 }, seconds: 30)
            #expect(streamedLines(received) == ["epoch 1", "epoch 2"])
            #expect(
                ContinuousClock.now - started < .seconds(20),
                "woken by the write, not by the 60 s poll or heartbeat"
            )
        }
    }
}
