import Foundation
import QuillCore
import QuillServer
import QuillTesting
import Testing

// @unchecked Sendable: each test uses a connection from one task at a time, handing it to `blocking` and
// waiting for it to come back.
extension RawConnection: @unchecked Sendable {}

/// Runs blocking socket work on a Dispatch thread, so tests never hold one of the cooperative pool's few
/// threads (other tests in this process, and their timing, need them).
func blocking<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(returning: body()) }
    }
}

extension RawConnection {
    /// ``readUntilClosed(seconds:)`` off the cooperative pool, with the seconds it took (measured on the
    /// Dispatch thread, so a busy test process does not inflate them).
    func waitUntilClosed(seconds: Double) async -> (text: String, closed: Bool, seconds: Double) {
        await blocking {
            let start = Date()
            let result = self.readUntilClosed(seconds: seconds)
            return (result.text, result.closed, elapsed(since: start))
        }
    }

    /// ``readResponse(seconds:)`` off the cooperative pool; the status line, or nil.
    func responseStatus(seconds: Double = 10) async -> String? {
        await blocking { self.readResponse(seconds: seconds)?.status }
    }

    /// Reads until the server closes the connection (end of file or reset) or `seconds` pass; returns what was
    /// read and whether the connection was closed.
    func readUntilClosed(seconds: Double) -> (text: String, closed: Bool) {
        let deadline = Date().addingTimeInterval(seconds)
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while Date() < deadline {
            var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                data += buffer[0..<count]
            } else if count == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                return (String(decoding: data, as: UTF8.self), true)
            }
        }
        return (String(decoding: data, as: UTF8.self), false)
    }

    /// Reads one response with a `Content-Length` body (within `seconds`) and returns its status line and body.
    func readResponse(seconds: Double = 10) -> (status: String, body: String)? {
        let deadline = Date().addingTimeInterval(seconds)
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while Date() < deadline {
            let text = String(decoding: data, as: UTF8.self)
            if let end = text.range(of: "\r\n\r\n") {
                let head = text[..<end.lowerBound]
                let length =
                    head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                let body = Array(text[end.upperBound...].utf8)
                if body.count >= length {
                    return (
                        String(head.split(separator: "\r\n")[0]), String(decoding: body.prefix(length), as: UTF8.self)
                    )
                }
            }
            var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                data += buffer[0..<count]
            } else if count == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                return nil
            }
        }
        return nil
    }
}

/// Seconds since `start`.
private func elapsed(since start: Date) -> Double { Date().timeIntervalSince(start) }

@Suite("Slow and idle clients, and the connection limit")
struct SlowClientTests {
    /// A server with short timeouts, so each test takes seconds.
    static let shortTimeouts = ["--header-timeout", "1", "--idle-timeout", "1.5", "--body-timeout", "1"]

    @Test("a header sent a byte at a time is cut off after --header-timeout with 408, and so is a silent connection")
    func slowlorisHeader() async throws {
        let temp = TemporaryDirectory("quill-slow")
        let server = try await ServerProcess.start(data: temp.path, extraArguments: Self.shortTimeouts)
        let request = Array(
            "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + String(repeating: "a", count: 200)
        )
        let connection = try RawConnection(port: server.port)
        // The byte-at-a-time client runs on a Dispatch thread, so the test process's load cannot slow it.
        let result = await blocking { () -> (text: String, closed: Bool, seconds: Double) in
            let start = Date()
            var text = ""
            for character in request {
                connection.send(String(character))
                let read = connection.readUntilClosed(seconds: 0.1)
                text += read.text
                if read.closed { return (text, true, elapsed(since: start)) }
                if elapsed(since: start) > 15 { break }
            }
            return (text, false, elapsed(since: start))
        }
        #expect(result.closed, "the server kept a slowloris connection open for \(result.seconds) s")
        #expect(result.seconds < 8)
        #expect(result.text.hasPrefix("HTTP/1.1 408"), "\(result.text)")

        let silent = try RawConnection(port: server.port)
        let silentResult = await silent.waitUntilClosed(seconds: 15)
        #expect(silentResult.closed)
        #expect(silentResult.seconds < 8)

        // Meanwhile the server answers normal requests.
        #expect(try await server.request("GET", "/healthz").status == 200)
    }

    @Test("an idle kept-alive connection is closed after --idle-timeout; a busy one is not")
    func idleKeepAlive() async throws {
        let temp = TemporaryDirectory("quill-slow")
        // A longer idle timeout than the other tests', so that a loaded machine's scheduling delays between the
        // busy connection's requests (0.3 s apart, paced on a Dispatch thread) stay far below it.
        let server = try await ServerProcess.start(
            data: temp.path,
            extraArguments: ["--header-timeout", "5", "--idle-timeout", "5", "--body-timeout", "5"]
        )
        let busy = try RawConnection(port: server.port)
        // Requests every 0.3 s for 7 s, more than the idle timeout in all: the connection stays open.
        let busyResult = await blocking { () -> (ok: Int, failedAfter: Double?) in
            let start = Date()
            var ok = 0
            while elapsed(since: start) < 7 {
                busy.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                guard busy.readResponse()?.status == "HTTP/1.1 200 OK" else { return (ok, elapsed(since: start)) }
                ok += 1
                Thread.sleep(forTimeInterval: 0.3)
            }
            return (ok, nil)
        }
        #expect(busyResult.failedAfter == nil, "the busy connection failed after \(busyResult.ok) requests")
        #expect(busyResult.ok >= 5)

        let idle = try RawConnection(port: server.port)
        // Timed from the request: the server's idle clock starts when it has answered, which is after this, while
        // the test may read the answer late on a loaded machine (a late read once made the wait look 2.5 s short).
        let sent = Date()
        idle.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        #expect(await idle.responseStatus() == "HTTP/1.1 200 OK")
        let result = await idle.waitUntilClosed(seconds: 20)
        let sinceRequest = elapsed(since: sent)
        #expect(result.closed, "an idle connection stayed open for \(result.seconds) s")
        #expect(sinceRequest > 4.5, "closed \(sinceRequest) s after the request, before the idle timeout of 5 s")
        #expect(sinceRequest < 20)
    }

    @Test("a stalled upload or batch is cut off after --body-timeout and nothing of it is stored; a slow one is not")
    func stalledBody() async throws {
        let temp = TemporaryDirectory("quill-slow")
        let server = try await ServerProcess.start(data: temp.path, extraArguments: Self.shortTimeouts)
        let created = try await server.request("POST", "/api/v1/runs", json: ["project": "p"])
        let id = try #require(created.body?["id"]?.stringValue)

        // An artifact upload that stops after 64 KiB of 1 MiB.
        let upload = try RawConnection(port: server.port)
        upload.send(
            "PUT /api/v1/runs/\(id)/artifacts/content?path=model.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Content-Type: application/octet-stream\r\nContent-Length: \(1 << 20)\r\n\r\n"
                + String(repeating: "x", count: 64 << 10)
        )
        let uploadResult = await upload.waitUntilClosed(seconds: 15)
        #expect(uploadResult.closed, "a stalled upload stayed open for \(uploadResult.seconds) s")
        #expect(uploadResult.seconds < 8)
        let listed = try await server.request("GET", "/api/v1/runs/\(id)/artifacts").body
        let artifact = listed?["artifacts"]?.arrayValue?.first { $0["path"]?.stringValue == "model.bin" }
        #expect(artifact?["status"]?.stringValue != "uploaded")
        let content = try await server.request("GET", "/api/v1/runs/\(id)/artifacts/content?path=model.bin")
        #expect(content.status != 200)

        // A batch whose body stops halfway.
        let body = JSONWriter.string(["metrics": [["key": "loss", "value": 0.5, "step": 1]]])
        let batch = try RawConnection(port: server.port)
        batch.send(
            "POST /api/v1/runs/\(id)/batch HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Content-Length: \(body.utf8.count)\r\n\r\n" + String(body.prefix(12))
        )
        let batchResult = await batch.waitUntilClosed(seconds: 15)
        #expect(batchResult.closed)
        #expect(batchResult.seconds < 8)
        let history = try await server.request("GET", "/api/v1/runs/\(id)/metrics?key=loss").body
        #expect(history?["points"]?.arrayValue?.isEmpty ?? true)

        // A slow but steady upload: a byte every 0.2 s for 2 s (twice the body timeout in all), paced on a
        // Dispatch thread so that the test process's own load cannot stretch the gaps.
        let content2 = Array("slow and steady")
        let slow = try RawConnection(port: server.port)
        await blocking {
            slow.send(
                "PUT /api/v1/runs/\(id)/artifacts/content?path=slow.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Content-Type: application/octet-stream\r\nContent-Length: \(content2.count)\r\n\r\n"
            )
            for (index, character) in content2.enumerated() {
                if index > 0 && index < 10 { Thread.sleep(forTimeInterval: 0.2) }
                slow.send(String(character))
            }
        }
        #expect(await slow.responseStatus() == "HTTP/1.1 200 OK")
    }

    @Test("over --max-connections a new connection is answered 503 at once; the others work; then service resumes")
    func connectionLimit() async throws {
        let temp = TemporaryDirectory("quill-slow")
        let server = try await ServerProcess.start(data: temp.path, extraArguments: ["--max-connections", "3"])
        var held: [RawConnection] = []
        for _ in 0..<3 {
            let connection = try RawConnection(port: server.port)
            connection.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            #expect(await connection.responseStatus() == "HTTP/1.1 200 OK")
            held.append(connection)
        }

        let extra = try RawConnection(port: server.port)
        let refused = await extra.waitUntilClosed(seconds: 10)
        #expect(refused.closed)
        #expect(refused.text.hasPrefix("HTTP/1.1 503"), "\(refused.text)")
        #expect(refused.seconds < 3)

        // The connections already open still work.
        for connection in held {
            connection.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            #expect(await connection.responseStatus() == "HTTP/1.1 200 OK")
        }

        // Once they go away, new connections are served again.
        held.removeAll()
        var status = 0
        let resumeStart = Date()
        while elapsed(since: resumeStart) < 10 {
            status = (try? await server.request("GET", "/healthz").status) ?? 0
            if status == 200 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(status == 200)
    }

    @Test("quill serve raises its open-file limit and defaults the connection limit under it")
    func defaultConnectionLimit() {
        #expect(FileDescriptorLimit.defaultConnectionLimit(openFiles: 1024) == 448)
        #expect(FileDescriptorLimit.defaultConnectionLimit(openFiles: 1 << 20) == 4096)
        #expect(FileDescriptorLimit.defaultConnectionLimit(openFiles: 64) == 32)
        var limit = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        let raised = FileDescriptorLimit.raiseToHardLimit()
        #expect(raised == Int(clamping: limit.rlim_max))
    }
}
