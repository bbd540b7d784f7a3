import Foundation
import QuillCore
import QuillTesting
import Testing

/// A raw HTTP/1.1 connection to 127.0.0.1, so a test can send a request in pieces.
final class RawConnection {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Platform.streamSocketType, 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else { throw QuillError(.io, "connect failed: \(errno)") }
    }

    deinit { close(fd) }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { Platform.send(fd, $0.baseAddress, $0.count) }
            if count <= 0 { return }
            sent += count
        }
    }

    /// Everything the server sends until it closes the connection or `seconds` pass.
    func receiveAll(seconds: Double) -> String {
        var timeout = timeval(tv_sec: Int(seconds), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            data += buffer[0..<count]
        }
        return String(decoding: data, as: UTF8.self)
    }
}

@Suite("Graceful shutdown")
struct GracefulShutdownTests {
    @Test("SIGTERM lets a request in flight finish and store its batch, then the server exits 0")
    func sigtermDrains() async throws {
        let temp = TemporaryDirectory("quill-shutdown")
        // A long body timeout: on a loaded machine this test may be scheduled again only seconds later, and the
        // default 30 s cut-off of a paused body would end the request it means to keep in flight.
        let server = try await ServerProcess.start(data: temp.path, extraArguments: ["--body-timeout", "600"])
        let created = try await server.request("POST", "/api/v1/runs", json: ["project": "p"])
        let id = try #require(created.body?["id"]?.stringValue)

        let body = JSONWriter.string(["metrics": [["key": "loss", "value": 0.25, "step": 7]]])
        let connection = try RawConnection(port: server.port)
        connection.send(
            "POST /api/v1/runs/\(id)/batch HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n" + String(body.prefix(10))
        )
        // The request is in flight, its body half sent.
        #expect(try await server.waitUntilInFlight(1))
        kill(server.process.processIdentifier, SIGTERM)
        try await Task.sleep(for: .milliseconds(300))
        #expect(server.process.isRunning)  // still draining
        connection.send(String(body.dropFirst(10)))
        let response = connection.receiveAll(seconds: 10)
        #expect(response.hasPrefix("HTTP/1.1 200"), "\(response)")
        #expect(response.contains("\"metrics_written\":1"))
        await server.process.ended()
        #expect(server.process.terminationReason == .exit)
        #expect(server.process.terminationStatus == 0)

        // The batch is in the database.
        let again = try await ServerProcess.start(data: temp.path)
        let history = try await again.request("GET", "/api/v1/runs/\(id)/metrics?key=loss").body
        #expect(history?["points"]?.arrayValue?.first?["step"] == 7)
    }
}
