import Foundation
import Hummingbird
import Logging
import QuillBlobs
import QuillCore
import QuillServer
import QuillStore
import QuillStoreSQLite
import QuillTesting
import Synchronization
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One event of a stream as a client parses it.
struct ReceivedEvent: Sendable {
    var name: String
    var id: String?
    var data: JSONValue?
}

/// A client of `text/event-stream` over a raw socket: sends the request, undoes the chunked encoding and
/// hands out events one by one, reading off the cooperative pool.
final class EventStreamClient: @unchecked Sendable {
    // @unchecked Sendable: used by one test task at a time, each read handed to `blocking` and awaited.
    let connection: RawConnection
    private var raw: [UInt8] = []
    private var body: [UInt8] = []
    private(set) var status = 0
    private(set) var head = ""
    /// Whether the response ended (the last chunk arrived).
    private(set) var ended = false
    private var closed = false

    init(port: Int, path: String, key: String? = nil, lastEventID: String? = nil, receiveBuffer: Int32? = nil) throws {
        connection = try RawConnection(port: port)
        if var size = receiveBuffer {
            setsockopt(connection.fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
        if let key { request += "Authorization: Bearer \(key)\r\n" }
        if let lastEventID { request += "Last-Event-ID: \(lastEventID)\r\n" }
        connection.send(request + "\r\n")
    }

    /// Reads the response head (within `seconds`); the status, 0 when none came.
    func readHead(seconds: Double = 20) async -> Int {
        await blocking {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline, !self.closed {
                if let end = self.raw.firstRange(of: Array("\r\n\r\n".utf8)) {
                    self.head = String(decoding: self.raw[..<end.lowerBound], as: UTF8.self)
                    self.raw.removeSubrange(..<end.upperBound)
                    self.status = Int(self.head.split(separator: " ").dropFirst().first ?? "") ?? 0
                    return self.status
                }
                self.receive()
            }
            return 0
        }
    }

    /// The whole body of a response with `Content-Length` (an error answer), as JSON.
    func errorBody(seconds: Double = 10) async -> JSONValue? {
        await blocking {
            let length =
                self.head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
            let deadline = Date().addingTimeInterval(seconds)
            while self.raw.count < length, Date() < deadline, !self.closed { self.receive() }
            return try? JSONParser.parse(Array(self.raw.prefix(length)))
        }
    }

    /// The next event (comments skipped), or `nil` when none completes within `seconds` or the stream ends.
    func next(seconds: Double = 20) async -> ReceivedEvent? {
        await blocking {
            let deadline = Date().addingTimeInterval(seconds)
            while true {
                if let event = self.takeEvent() { return event }
                if self.ended || self.closed || Date() >= deadline { return nil }
                self.receive()
                self.dechunk()
            }
        }
    }

    /// Events until one named `name` (which is returned last), within `seconds`.
    func events(through name: String, seconds: Double = 20) async -> [ReceivedEvent] {
        var out: [ReceivedEvent] = []
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline, let event = await next(seconds: deadline.timeIntervalSinceNow) {
            out.append(event)
            if event.name == name { break }
        }
        return out
    }

    /// Events until `done` holds for all received so far (a write's points and lines can arrive in one
    /// read or in two, when the stream read the store while the write committed), within `seconds`.
    func events(until done: ([ReceivedEvent]) -> Bool, seconds: Double = 20) async -> [ReceivedEvent] {
        var out: [ReceivedEvent] = []
        let deadline = Date().addingTimeInterval(seconds)
        while !done(out), Date() < deadline, let event = await next(seconds: deadline.timeIntervalSinceNow) {
            out.append(event)
        }
        return out
    }

    /// Whether the body (de-chunked so far) holds a heartbeat comment, reading for up to `seconds`.
    func sawHeartbeat(seconds: Double) async -> Bool {
        await blocking {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline, !self.closed {
                if self.body.firstRange(of: Array(": heartbeat\n".utf8)) != nil { return true }
                self.receive()
                self.dechunk()
            }
            return self.body.firstRange(of: Array(": heartbeat\n".utf8)) != nil
        }
    }

    private func receive() {
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(connection.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = buffer.withUnsafeMutableBytes { recv(connection.fd, $0.baseAddress, $0.count, 0) }
        if count > 0 {
            raw += buffer[0..<count]
        } else if count == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            closed = true
        }
    }

    /// Moves complete chunks from `raw` to `body`.
    private func dechunk() {
        while !ended, let line = raw.firstRange(of: Array("\r\n".utf8)) {
            let sizeText = String(decoding: raw[..<line.lowerBound], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else { return }
            guard raw.count >= line.upperBound + size + 2 else { return }
            body += raw[line.upperBound..<(line.upperBound + size)]
            raw.removeSubrange(..<(line.upperBound + size + 2))
            if size == 0 { ended = true }
        }
    }

    private func takeEvent() -> ReceivedEvent? {
        while let end = body.firstRange(of: Array("\n\n".utf8)) {
            let block = String(decoding: body[..<end.lowerBound], as: UTF8.self)
            body.removeSubrange(..<end.upperBound)
            var event = ReceivedEvent(name: "message", id: nil, data: nil)
            var data: [String] = []
            var fields = 0
            for line in block.split(separator: "\n") where !line.hasPrefix(":") {
                fields += 1
                if line.hasPrefix("event: ") { event.name = String(line.dropFirst(7)) }
                if line.hasPrefix("id: ") { event.id = String(line.dropFirst(4)) }
                if line.hasPrefix("data: ") { data.append(String(line.dropFirst(6))) }
            }
            guard fields > 0, !data.isEmpty else { continue }
            event.data = try? JSONParser.parse(Array(data.joined(separator: "\n").utf8))
            return event
        }
        return nil
    }
}

/// The steps of the points the `metrics` events among `events` carry, in order.
func streamedSteps(_ events: [ReceivedEvent]) -> [JSONValue?] {
    events.filter { $0.name == "metrics" }.flatMap { event in
        (event.data?["metrics"]?.arrayValue ?? []).flatMap { $0["points"]?.arrayValue ?? [] }.map { $0["step"] }
    }
}

/// The messages of the log lines the `logs` events among `events` carry, in order.
func streamedLines(_ events: [ReceivedEvent]) -> [JSONValue?] {
    events.filter { $0.name == "logs" }.flatMap { ($0.data?["logs"]?.arrayValue ?? []).map { $0["message"] } }
}

@Suite("Live run events (server-sent events)")
struct RunEventStreamTests {
    /// Streams quick enough for tests: changes are read at once, heartbeats every second.
    static func configuration(_ change: (inout ServerConfiguration) -> Void = { _ in }) -> ServerConfiguration {
        var configuration = ServerConfiguration()
        configuration.port = 0
        configuration.eventStreams.minimumInterval = .milliseconds(20)
        configuration.eventStreams.heartbeat = .seconds(1)
        configuration.eventStreams.pollInterval = .seconds(5)
        change(&configuration)
        return configuration
    }

    /// Runs the server in this process over a fresh SQLite store until `body` returns.
    func withServer(
        _ configuration: ServerConfiguration = configuration(),
        store wrap: (SQLiteTrackingStore) -> any TrackingStore & AccountStore & SessionStore & ActivityStore = { $0 },
        setUp: (SQLiteTrackingStore) async throws -> Void = { _ in },
        _ body: (Int, SQLiteTrackingStore) async throws -> Void
    ) async throws {
        let temp = TemporaryDirectory("quill-events")
        let sqlite = try SQLiteTrackingStore(path: temp.file("quill.db"))
        try await setUp(sqlite)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "quill.test")
        logger.logLevel = .critical
        let app = QuillServer.application(
            store: wrap(sqlite),
            artifacts: sqlite,
            blobs: FileBlobStore(root: temp.path + "/artifacts"),
            configuration: configuration,
            logger: logger
        ) { port in continuation.yield(port) }
        let server = Task { try await app.runService() }
        defer { server.cancel() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        try await body(port, sqlite)
        server.cancel()
        _ = await server.result
    }

    func call(
        _ port: Int,
        _ method: String,
        _ path: String,
        _ json: JSONValue? = nil,
        key: String? = nil
    ) async throws -> (Int, JSONValue?) {
        let url = try #require(URL(string: "http://127.0.0.1:\(port)\(path)"))
        var request = URLRequest(url: url, timeoutInterval: 60)
        request.httpMethod = method
        if let json {
            request.httpBody = Data(JSONWriter.bytes(json))
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        if let key { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await Self.session.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, try? JSONParser.parse(Array(data)))
    }

    /// A client that keeps no cookies: a sign-in's session cookie would authenticate later calls.
    static let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpCookieStorage = nil
        configuration.httpShouldSetCookies = false
        configuration.httpCookieAcceptPolicy = .never
        return URLSession(configuration: configuration)
    }()

    func newRun(_ port: Int, key: String? = nil, project: String = "live") async throws -> String {
        let (status, run) = try await call(port, "POST", "/api/v1/runs", ["project": .string(project)], key: key)
        #expect(status == 201)
        return try #require(run?["id"]?.stringValue)
    }

    func batch(_ port: Int, _ id: String, steps: Range<Int>, logs: [String] = [], key: String? = nil) async throws {
        let metrics = steps.map {
            JSONValue.object(["key": "loss", "value": .double(Double($0) / 10), "step": .int($0)])
        }
        let body: JSONValue = ["metrics": .array(metrics), "logs": .array(logs.map { ["message": .string($0)] })]
        let (status, _) = try await call(port, "POST", "/api/v1/runs/\(id)/batch", body, key: key)
        #expect(status == 200)
    }

    @Test(
        "a client reading the stream gets new points, log lines, summary and status as they are written, then the end"
    )
    func followsARun() async throws {
        try await withServer { port, _ in
            let id = try await newRun(port)
            try await batch(port, id, steps: 0..<2, logs: ["before"])
            let client = try EventStreamClient(port: port, path: "/api/v1/runs/\(id)/events")
            #expect(await client.readHead() == 200)
            #expect(client.head.lowercased().contains("content-type: text/event-stream"))
            let state = try #require(await client.next())
            #expect(state.name == "state")
            #expect(state.data?["status"] == "running")
            #expect(state.data?["logs"] == 1)
            #expect(state.data?["metrics"]?["loss"] == ["total_points": 2, "last_index": 1])
            #expect(state.id?.isEmpty == false)

            try await batch(port, id, steps: 2..<5, logs: ["one", "two"])
            let received = await client.events(until: { streamedSteps($0).count >= 3 && streamedLines($0).count >= 2 })
            #expect(streamedSteps(received) == [2, 3, 4])
            #expect(streamedLines(received) == ["one", "two"])
            let metrics = try #require(received.last { $0.name == "metrics" }?.data?["metrics"]?.arrayValue)
            #expect(metrics.count == 1)
            #expect(metrics[0]["key"] == "loss")
            #expect(metrics[0]["complete"] == true)
            #expect(metrics[0]["total_points"] == 5)
            #expect(received.last { $0.name == "logs" }?.data?["next"] == 3)
            #expect(Set(received.map(\.name)) == ["metrics", "logs"])

            let (patched, _) = try await call(port, "PATCH", "/api/v1/runs/\(id)", ["summary": ["acc": 0.9]])
            #expect(patched == 200)
            let run = try #require(await client.next())
            #expect(run.name == "run")
            #expect(run.data?["summary"]?["acc"] == 0.9)
            #expect(run.data?["status"] == "running")

            _ = try await call(port, "PATCH", "/api/v1/runs/\(id)", ["status": "completed"])
            let last = await client.events(through: "end")
            #expect(last.map(\.name) == ["run", "end"])
            #expect(last.last?.data?["status"] == "completed")
            #expect(await client.next(seconds: 5) == nil)
            #expect(client.ended, "the response ends after the end event")
        }
    }

    @Test("a queued job's run streams from its submission: running on the claim, its output, killed on cancel, at once")
    func followsAJobsRun() async throws {
        // Changes that nobody announced would be seen only at the next poll, a minute away.
        try await withServer(Self.configuration { $0.eventStreams.pollInterval = .seconds(60) }) { port, _ in
            let (submitted, job) = try await call(port, "POST", "/api/v1/jobs", ["argv": ["sleep", "60"]])
            #expect(submitted == 201)
            let id = try #require(job?["id"]?.intValue)
            let run = try #require(job?["run_id"]?.stringValue)
            let client = try EventStreamClient(port: port, path: "/api/v1/runs/\(run)/events")
            #expect(await client.readHead() == 200)
            #expect(try #require(await client.next()).data?["status"] == "queued")

            let claim: JSONValue = ["worker": "w1", "slots": 1, "gpus": [], "labels": [], "lease_seconds": 60]
            let (claimed, _) = try await call(port, "POST", "/api/v1/jobs/claim", claim)
            #expect(claimed == 200)
            let running = try #require(await client.next())
            #expect(running.name == "run")
            #expect(running.data?["status"] == "running")
            #expect(running.data?["host"] == "w1")

            let output: JSONValue = ["attempt": 1, "worker": "w1", "lines": ["hello"]]
            let (sent, _) = try await call(port, "POST", "/api/v1/jobs/\(id)/output", output)
            #expect(sent == 204)
            #expect(streamedLines(await client.events(through: "logs")) == ["hello"])

            let (cancelled, _) = try await call(port, "POST", "/api/v1/jobs/\(id)/cancel")
            #expect(cancelled == 200)
            let finish: JSONValue = ["attempt": 1, "worker": "w1", "outcome": "cancelled", "signal": 15]
            let (finished, _) = try await call(port, "POST", "/api/v1/jobs/\(id)/finish", finish)
            #expect(finished == 200)
            let last = await client.events(through: "end")
            #expect(last.last?.data?["status"] == "killed")
        }
    }

    @Test("a client that reconnects with Last-Event-ID gets only what it missed")
    func resumes() async throws {
        try await withServer { port, _ in
            let id = try await newRun(port)
            let first = try EventStreamClient(port: port, path: "/api/v1/runs/\(id)/events")
            #expect(await first.readHead() == 200)
            #expect(await first.next()?.name == "state")
            try await batch(port, id, steps: 0..<3, logs: ["a"])
            let seen = await first.events(until: { streamedSteps($0).count >= 3 && streamedLines($0).count >= 1 })
            let lastID = try #require(seen.last?.id)
            // Gone: what is written now is missed, and comes with the resumed stream.
            withExtendedLifetime(first) {}
            try await batch(port, id, steps: 3..<6, logs: ["b", "c"])
            let second = try EventStreamClient(
                port: port,
                path: "/api/v1/runs/\(id)/events",
                lastEventID: lastID
            )
            #expect(await second.readHead() == 200)
            let resumed = await second.events(until: { streamedSteps($0).count >= 3 && streamedLines($0).count >= 2 })
            #expect(!resumed.contains { $0.name == "state" }, "no state: the stream continues")
            #expect(streamedSteps(resumed) == [3, 4, 5])
            #expect(streamedLines(resumed) == ["b", "c"])

            // An id the server did not write starts over with a state.
            let third = try EventStreamClient(port: port, path: "/api/v1/runs/\(id)/events", lastEventID: "bogus")
            #expect(await third.readHead() == 200)
            let state = await third.next()
            #expect(state?.name == "state")
            #expect(state?.data?["metrics"]?["loss"]?["total_points"] == 6)
        }
    }

    /// ada (owner of a private project), bob (another user) and their keys.
    static func users(_ store: SQLiteTrackingStore) async throws -> (ada: String, bob: String) {
        var keys: [String] = []
        for name in ["ada", "bob"] {
            _ = try await store.createUser(name: name, isAdmin: false)
            let secret = APIKeySecret.generate()
            _ = try await store.createAPIKey(
                NewAPIKey(
                    user: name,
                    label: "default",
                    prefix: APIKeySecret.prefix(of: secret),
                    hash: APIKeySecret.hash(secret)
                )
            )
            keys.append(secret)
        }
        return (keys[0], keys[1])
    }

    @Test("another user's private run answers 404, as its other reads do, to users and anonymous callers")
    func privateRunIsNotFound() async throws {
        let keys = Mutex<(ada: String, bob: String)?>(nil)
        let setUp: (SQLiteTrackingStore) async throws -> Void = { store in
            let made = try await Self.users(store)
            keys.withLock { $0 = made }
        }
        try await withServer(setUp: setUp) { port, _ in
            let (ada, bob) = try #require(keys.withLock { $0 })
            let id = try await newRun(port, key: ada, project: "secret")
            for key in [bob, nil] {
                let client = try EventStreamClient(port: port, path: "/api/v1/runs/\(id)/events", key: key)
                #expect(await client.readHead() == 404)
                #expect(await client.errorBody()?["error"]?["code"] == "not_found")
                let (status, _) = try await call(port, "GET", "/api/v1/runs/\(id)/logs", key: key)
                #expect(status == 404)
            }
            let owner = try EventStreamClient(port: port, path: "/api/v1/runs/\(id)/events", key: ada)
            #expect(await owner.readHead() == 200)
            #expect(await owner.next()?.name == "state")
        }
    }

    @Test("idle streams count against the per-client (429) and server (503) limits, and give their place back")
    func limits() async throws {
        let keys = Mutex<(ada: String, bob: String)?>(nil)
        let configuration = Self.configuration {
            $0.eventStreams.maxStreams = 3
            $0.eventStreams.maxStreamsPerClient = 2
        }
        let setUp: (SQLiteTrackingStore) async throws -> Void = { store in
            let made = try await Self.users(store)
            keys.withLock { $0 = made }
        }
        try await withServer(configuration, setUp: setUp) { port, _ in
            let (ada, bob) = try #require(keys.withLock { $0 })
            let id = try await newRun(port, key: ada, project: "open")
            #expect(
                try await call(port, "PATCH", "/api/v1/projects/ada/open", ["visibility": "public"], key: ada).0 == 200
            )
            let path = "/api/v1/runs/\(id)/events"
            var open: [EventStreamClient] = []
            for _ in 0..<2 {
                let client = try EventStreamClient(port: port, path: path, key: ada)
                #expect(await client.readHead() == 200)
                open.append(client)
            }
            let third = try EventStreamClient(port: port, path: path, key: ada)
            #expect(await third.readHead() == 429)
            #expect(third.head.lowercased().contains("retry-after:"))
            let refusal = await third.errorBody()
            #expect(refusal?["error"]?["code"] == "too_many_streams")
            #expect(refusal?["error"]?["message"]?.stringValue?.contains("close a page") == true)

            let bobs = try EventStreamClient(port: port, path: path, key: bob)
            #expect(await bobs.readHead() == 200)
            let full = try EventStreamClient(port: port, path: path, key: bob)
            #expect(await full.readHead() == 503)
            #expect(await full.errorBody()?["error"]?["code"] == "too_many_streams")

            // A client that goes away gives its place back (at the latest with the next heartbeat).
            open.removeAll()
            var status = 0
            for _ in 0..<50 where status != 200 {
                let again = try EventStreamClient(port: port, path: path, key: bob)
                status = await again.readHead()
                if status != 200 { try await Task.sleep(for: .milliseconds(200)) }
            }
            #expect(status == 200)
            // Other requests are not limited by the streams.
            #expect(try await call(port, "GET", "/api/v1/runs/\(id)", key: bob).0 == 200)
        }
    }

    @Test("a client that never reads neither blocks the writers nor holds memory: it is cut off and its place freed")
    func nonReadingClient() async throws {
        let configuration = Self.configuration {
            $0.eventStreams.maxStreamsPerClient = 1
            $0.timeouts.body = .seconds(2)
        }
        try await withServer(configuration) { port, _ in
            let id = try await newRun(port)
            let path = "/api/v1/runs/\(id)/events"
            let stuck = try EventStreamClient(port: port, path: path, receiveBuffer: 4096)
            // Writers go on at full speed while the stream's socket is full: 60 batches of 1,000 log lines of
            // 200 bytes (12 MB of events, far more than the socket buffers hold).
            let line = String(repeating: "x", count: 200)
            let start = ContinuousClock.now
            for round in 0..<60 {
                try await batch(
                    port,
                    id,
                    steps: (round * 10)..<(round * 10 + 10),
                    logs: Array(repeating: line, count: 1000)
                )
            }
            let writing = ContinuousClock.now - start
            #expect(writing < .seconds(60), "writes took \(writing)")
            #expect(try await call(port, "GET", "/healthz").0 == 200)
            // The stuck stream is closed by the slow-client timeout, and its place (one per client) is free.
            var status = 0
            for _ in 0..<60 where status != 200 {
                let next = try EventStreamClient(port: port, path: path)
                status = await next.readHead(seconds: 5)
                if status != 200 { try await Task.sleep(for: .milliseconds(250)) }
            }
            #expect(status == 200)
            withExtendedLifetime(stuck) {}
        }
    }

    @Test("an idle stream sends heartbeats, and a deleted run ends its stream")
    func heartbeatAndDeletion() async throws {
        try await withServer { port, _ in
            let id = try await newRun(port)
            let client = try EventStreamClient(port: port, path: "/api/v1/runs/\(id)/events")
            #expect(await client.readHead() == 200)
            #expect(await client.next()?.name == "state")
            #expect(await client.sawHeartbeat(seconds: 5))
            #expect(try await call(port, "DELETE", "/api/v1/runs/\(id)").0 == 204)
            let end = await client.events(through: "end")
            #expect(end.last?.name == "end")
            #expect(end.last?.data?["status"] == "deleted")
        }
    }

    @Test("a finished run's stream is its state and its end")
    func finishedRun() async throws {
        try await withServer { port, _ in
            let id = try await newRun(port)
            _ = try await call(port, "PATCH", "/api/v1/runs/\(id)", ["status": "failed"])
            let client = try EventStreamClient(port: port, path: "/api/v1/runs/\(id)/events")
            #expect(await client.readHead() == 200)
            let events = await client.events(through: "end")
            #expect(events.map(\.name) == ["state", "end"])
            #expect(events.last?.data?["status"] == "failed")
        }
    }

    @Test("a log's tail is read with one count of its lines")
    func logTailCountsOnce() async throws {
        let counting = Mutex<CountingStore?>(nil)
        let wrap: (SQLiteTrackingStore) -> any TrackingStore & AccountStore & SessionStore & ActivityStore = { sqlite in
            let store = CountingStore(sqlite)
            counting.withLock { $0 = store }
            return store
        }
        try await withServer(store: wrap) { port, _ in
            let store = try #require(counting.withLock { $0 })
            let id = try await newRun(port)
            try await batch(port, id, steps: 0..<1, logs: (0..<30).map { "line \($0)" })
            store.reset()
            let (status, page) = try await call(port, "GET", "/api/v1/runs/\(id)/logs?tail=5&limit=3")
            #expect(status == 200)
            #expect(page?["logs"]?.arrayValue?.map { $0["message"] } == ["line 25", "line 26", "line 27"])
            #expect(page?["next"] == 28)
            #expect(page?["total"] == 30)
            #expect(store.calls == ["logTail": 1], "\(store.calls)")
        }
    }

    @Test("a sign-in checks the key once, in the write that records the session, and answers as before")
    func signInChecksTheKeyOnce() async throws {
        let counting = Mutex<CountingStore?>(nil)
        let keys = Mutex<(ada: String, bob: String)?>(nil)
        let wrap: (SQLiteTrackingStore) -> any TrackingStore & AccountStore & SessionStore & ActivityStore = { sqlite in
            let store = CountingStore(sqlite)
            counting.withLock { $0 = store }
            return store
        }
        let setUp: (SQLiteTrackingStore) async throws -> Void = { store in
            let made = try await Self.users(store)
            keys.withLock { $0 = made }
        }
        try await withServer(store: wrap, setUp: setUp) { port, _ in
            let store = try #require(counting.withLock { $0 })
            let (ada, _) = try #require(keys.withLock { $0 })
            store.reset()
            let (status, body) = try await call(port, "POST", "/api/v1/session", ["api_key": .string(ada)])
            #expect(status == 200)
            #expect(body == ["user": "ada", "is_admin": false])
            #expect(store.keyCalls == ["createSession": 1], "\(store.keyCalls)")
            store.reset()
            let (refused, error) = try await call(port, "POST", "/api/v1/session", ["api_key": "qk_not-a-key"])
            #expect(refused == 401)
            #expect(error?["error"]?["message"]?.stringValue?.hasPrefix("that API key is not valid") == true)
            #expect(store.keyCalls == ["createSession": 1], "\(store.keyCalls)")
        }
    }

    @Test("SIGTERM closes open streams, so `quill serve` still stops at once and exits 0")
    func shutdownEndsStreams() async throws {
        let temp = TemporaryDirectory("quill-events-shutdown")
        let server = try await ServerProcess.start(data: temp.path)
        let created = try await server.request("POST", "/api/v1/runs", json: ["project": "p"])
        let id = try #require(created.body?["id"]?.stringValue)
        let client = try EventStreamClient(port: server.port, path: "/api/v1/runs/\(id)/events")
        #expect(await client.readHead() == 200)
        #expect(await client.next()?.name == "state")
        let start = ContinuousClock.now
        kill(server.process.processIdentifier, SIGTERM)
        // The stream ends (the response's last chunk arrives) and the process exits.
        #expect(await client.next(seconds: 20) == nil)
        #expect(client.ended, "the stream's response ends on shutdown")
        await blocking { server.process.waitUntilExit() }
        #expect(ContinuousClock.now - start < .seconds(15))
        #expect(server.process.terminationReason == .exit)
        #expect(server.process.terminationStatus == 0)
    }
}
