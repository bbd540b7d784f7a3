import Foundation
import QuillCore
import QuillTesting
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A `quill serve` process started through an optional wrapper (`strace`), with its output in files.
private final class TracedServer {
    let process = Process()
    let port: Int
    let stderrPath: String

    init(data: String, wrapper: [String] = [], arguments: [String] = []) throws {
        let quill = BuiltProducts.path("quill")
        let command = wrapper + [quill, "serve", "--port", "0", "--data", data] + arguments
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        stderrPath = data + ".stderr"
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        process.standardInput = FileHandle.nullDevice
        try process.run()
        port = try ServeOutput.listeningPort(from: pipe.fileHandleForReading)
    }

    deinit {
        guard process.isRunning else { return }
        // A wrapper (strace) may have inherited a signal mask that blocks SIGTERM: stop the server it runs, and
        // the wrapper ends with it.
        let pid = process.processIdentifier
        let children = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        for child in children.split(separator: " ").compactMap({ Int32($0) }) { kill(child, SIGTERM) }
        if children.isEmpty { process.terminate() }
        process.waitUntilExit()
    }

    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    func post(_ path: String, _ body: JSONValue) async throws -> JSONValue? {
        guard let url = URL(string: "http://127.0.0.1:\(port)\(path)") else { return nil }
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.httpBody = Data(JSONWriter.bytes(body))
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        let (data, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode ?? 0 < 300)
        return try? JSONParser.parse(Array(data))
    }

    /// The status of a GET, or 0 when the request fails.
    func status(_ path: String) async -> Int {
        guard let url = URL(string: "http://127.0.0.1:\(port)\(path)") else { return 0 }
        var request = URLRequest(url: url)
        request.timeoutInterval = 5
        let response = try? await URLSession.shared.data(for: request).1
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }

    /// Waits up to `seconds` for the process to exit.
    func waitForExit(seconds: Double) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
        return !process.isRunning
    }
}

/// The `fsync`/`fdatasync` calls an strace log holds.
private func syncCalls(_ path: String) -> Int {
    let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    return text.split(separator: "\n").filter { $0.contains("fdatasync(") || $0.contains("fsync(") }.count
}

private let straceAvailable = FileManager.default.isExecutableFile(atPath: "/usr/bin/strace")
private let prlimitAvailable = FileManager.default.isExecutableFile(atPath: "/usr/bin/prlimit")

@Suite("Supervision and durability of quill serve")
struct SupervisionTests {
    @Test("when a service fails (its database file is deleted), quill serve logs an error and exits with status 1")
    func failingServiceExitsNonZero() async throws {
        let temp = TemporaryDirectory("quill-supervision")
        let data = temp.path + "/server"
        let server = try TracedServer(data: data)
        _ = try await server.post("/api/v1/runs", ["project": "p"])
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: data + "/quill.db" + suffix) }
        #expect(try await server.waitForExit(seconds: 20), "quill serve kept running without its database")
        #expect(server.process.terminationReason == .exit)
        #expect(server.process.terminationStatus == 1)
        #expect(server.stderr.contains("error"), "\(server.stderr)")
        #expect(server.stderr.contains("removed or replaced"), "\(server.stderr)")
    }

    @Test(
        "every acknowledged batch is synced to disk by default; --durability relaxed does not sync each one",
        .enabled(if: straceAvailable, "needs strace to count fsync calls")
    )
    func acknowledgedMeansSynced() async throws {
        let temp = TemporaryDirectory("quill-durability")
        var counts: [String: Int] = [:]
        for mode in ["full", "relaxed"] {
            let trace = temp.path + "/\(mode).strace"
            let server = try TracedServer(
                data: temp.path + "/\(mode)",
                wrapper: [
                    "/usr/bin/strace", "-I1", "-f", "-qq", "-e", "trace=fsync,fdatasync", "-e", "signal=none", "-o",
                    trace,
                ],
                arguments: ["--durability", mode]
            )
            let id = try #require(try await server.post("/api/v1/runs", ["project": "p"])?["id"]?.stringValue)
            let before = syncCalls(trace)
            for step in 0..<20 {
                _ = try await server.post(
                    "/api/v1/runs/\(id)/batch",
                    ["metrics": [["key": "loss", "value": 0.5, "step": .int(step)]]]
                )
            }
            counts[mode] = syncCalls(trace) - before
        }
        #expect(counts["full"] ?? 0 >= 20, "\(counts)")
        #expect(counts["relaxed"] ?? 99 <= 5, "\(counts)")
    }

    @Test(
        "with 256 open files allowed, 300 idle connections exhaust neither descriptors nor service for long",
        .enabled(if: prlimitAvailable, "needs prlimit to lower the open-file limit")
    )
    func idleConnectionsUnderLowFileLimit() async throws {
        let temp = TemporaryDirectory("quill-fd-limit")
        // The default connection limit under 256 open files is (256 - 128) / 2 = 64.
        let server = try TracedServer(
            data: temp.path + "/server",
            wrapper: ["/usr/bin/prlimit", "--nofile=256:256", "--"],
            arguments: ["--header-timeout", "2"]
        )
        var idle: [RawConnection] = []
        for _ in 0..<300 { idle.append(try RawConnection(port: server.port)) }
        // The idle connections are cut off after the header timeout (those over the limit at once), and
        // requests are served again, though the 300 sockets stay open on the client's side.
        let start = Date()
        var status = 0
        while Date().timeIntervalSince(start) < 20 {
            status = await server.status("/healthz")
            if status == 200 { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(status == 200)
        #expect(Date().timeIntervalSince(start) < 15)
        #expect(server.process.isRunning)
        idle.removeAll()
    }
}
