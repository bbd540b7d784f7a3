import Foundation
import QuillCore
import QuillTesting
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An HTTP exchange with raw bytes and headers, for the artifact endpoints.
struct RawResponse {
    var status: Int
    var headers: [String: String]
    var data: Data
    var json: JSONValue? { data.isEmpty ? nil : try? JSONParser.parse(Array(data)) }
}

extension ServerProcess {
    func raw(
        _ method: String,
        _ path: String,
        body: Data? = nil,
        file: String? = nil,
        headers: [String: String] = [:]
    ) async throws -> RawResponse {
        let url = try #require(URL(string: "http://127.0.0.1:\(port)\(path)"))
        var request = URLRequest(url: url, timeoutInterval: 300)
        request.httpMethod = method
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let data: Data
        let response: URLResponse
        if let file {
            request.setValue("application/octet-stream", forHTTPHeaderField: "Content-Type")
            (data, response) = try await URLSession.shared.upload(for: request, fromFile: URL(fileURLWithPath: file))
        } else if let body {
            request.setValue("application/octet-stream", forHTTPHeaderField: "Content-Type")
            (data, response) = try await URLSession.shared.upload(for: request, from: body)
        } else {
            (data, response) = try await URLSession.shared.data(for: request)
        }
        let http = response as? HTTPURLResponse
        var fields: [String: String] = [:]
        for (key, value) in http?.allHeaderFields ?? [:] {
            if let key = key as? String, let value = value as? String { fields[key.lowercased()] = value }
        }
        return RawResponse(status: http?.statusCode ?? 0, headers: fields, data: data)
    }

    func newRun(project: String = "vision") async throws -> String {
        let (status, body) = try await request("POST", "/api/v1/runs", json: ["project": .string(project)])
        #expect(status == 201)
        return try #require(body?["id"]?.stringValue)
    }

    func put(_ run: String, _ path: String, _ bytes: Data) async throws -> RawResponse {
        try await raw("PUT", "/api/v1/runs/\(run)/artifacts/content?path=\(Self.encode(path))", body: bytes)
    }

    func get(_ run: String, _ path: String, range: String? = nil) async throws -> RawResponse {
        try await raw(
            "GET",
            "/api/v1/runs/\(run)/artifacts/content?path=\(Self.encode(path))",
            headers: range.map { ["Range": $0] } ?? [:]
        )
    }

    static func encode(_ text: String) -> String {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+?#")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// Every regular file under the data folder, relative to it.
    func filesOnDisk(under folder: String = "") -> [String] {
        let root = data + (folder.isEmpty ? "" : "/" + folder)
        var found: [String] = []
        let enumerator = FileManager.default.enumerator(atPath: root)
        while let relative = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: root + "/" + relative, isDirectory: &isDirectory),
                !isDirectory.boolValue
            {
                found.append(relative)
            }
        }
        return found.sorted()
    }

    var blobFiles: [String] { filesOnDisk(under: "artifacts/sha256") }
    var temporaryFiles: [String] { filesOnDisk(under: "artifacts/tmp") }
}

@Suite("Artifacts on a real server")
struct ArtifactTests {
    @Test("an upload with announced size and hash round-trips; the record and the list show it")
    func roundTrip() async throws {
        let temp = TemporaryDirectory("quill-artifacts")
        let server = try await ServerProcess.start(data: temp.file("data"))
        let run = try await server.newRun()
        let bytes = Data((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let hash = SHA256.hex(of: bytes)
        let (created, record) = try await server.request(
            "POST",
            "/api/v1/runs/\(run)/artifacts",
            json: ["path": "checkpoints/best.ckpt", "size": .int(bytes.count), "sha256": .string(hash)]
        )
        #expect(created == 201)
        #expect(record?["status"] == "pending")
        #expect(record?["file_name"] == "best.ckpt")
        let (again, _) = try await server.request(
            "POST",
            "/api/v1/runs/\(run)/artifacts",
            json: ["path": "checkpoints/best.ckpt", "size": .int(bytes.count), "sha256": .string(hash)]
        )
        #expect(again == 200)

        let uploaded = try await server.put(run, "checkpoints/best.ckpt", bytes)
        #expect(uploaded.status == 200, "\(String(decoding: uploaded.data, as: UTF8.self))")
        #expect(uploaded.json?["status"] == "uploaded")
        #expect(uploaded.json?["sha256"] == .string(hash))
        #expect(uploaded.json?["size"] == .int(bytes.count))

        let downloaded = try await server.get(run, "checkpoints/best.ckpt")
        #expect(downloaded.status == 200)
        #expect(downloaded.data == bytes)
        #expect(downloaded.headers["accept-ranges"] == "bytes")
        #expect(downloaded.headers["content-length"] == String(bytes.count))

        let (listed, list) = try await server.request("GET", "/api/v1/runs/\(run)/artifacts")
        #expect(listed == 200)
        let entry = try #require(list?["artifacts"]?.arrayValue?.first)
        #expect(entry["path"] == "checkpoints/best.ckpt")
        #expect(entry["status"] == "uploaded")
        #expect(entry["modified_at"]?.stringValue != nil)
        #expect(server.blobFiles == [String(hash.prefix(2)) + "/" + String(hash.dropFirst(2))])
        #expect(server.temporaryFiles.isEmpty)

        let missing = try await server.get(run, "nope.bin")
        #expect(missing.status == 404)
        let (ghost, _) = try await server.request("GET", "/api/v1/runs/zzzz9999/artifacts")
        #expect(ghost == 404)
    }

    @Test("the same bytes under two paths and two runs are stored once")
    func deduplicated() async throws {
        let temp = TemporaryDirectory("quill-artifacts")
        let server = try await ServerProcess.start(data: temp.file("data"))
        let first = try await server.newRun()
        let second = try await server.newRun(project: "other")
        let bytes = Data(repeating: 7, count: 300_000)
        for (run, path) in [(first, "a.bin"), (first, "copy/a.bin"), (second, "a.bin")] {
            #expect(try await server.put(run, path, bytes).status == 200)
        }
        #expect(try await server.put(second, "b.bin", Data("other".utf8)).status == 200)
        #expect(server.blobFiles.count == 2)
        #expect(try await server.get(second, "a.bin").data == bytes)
        // Deleting a run deletes its records, not the bytes another run still uses.
        #expect(try await server.request("DELETE", "/api/v1/runs/\(first)").status == 204)
        #expect(try await server.get(second, "a.bin").data == bytes)
    }

    @Test("single byte ranges give 206 with Content-Range; past the end gives 416")
    func ranges() async throws {
        let temp = TemporaryDirectory("quill-artifacts")
        let server = try await ServerProcess.start(data: temp.file("data"))
        let run = try await server.newRun()
        let bytes = Data("0123456789".utf8)
        #expect(try await server.put(run, "digits.txt", bytes).status == 200)
        for (range, expected, contentRange) in [
            ("bytes=2-5", "2345", "bytes 2-5/10"), ("bytes=7-", "789", "bytes 7-9/10"),
            ("bytes=-3", "789", "bytes 7-9/10"), ("bytes=8-100", "89", "bytes 8-9/10"),
            ("bytes=-50", "0123456789", "bytes 0-9/10"),
        ] {
            let response = try await server.get(run, "digits.txt", range: range)
            #expect(response.status == 206, "\(range)")
            #expect(String(decoding: response.data, as: UTF8.self) == expected, "\(range)")
            #expect(response.headers["content-range"] == contentRange, "\(range)")
        }
        for range in ["bytes=10-", "bytes=-0"] {
            let response = try await server.get(run, "digits.txt", range: range)
            #expect(response.status == 416, "\(range)")
            #expect(response.headers["content-range"] == "bytes */10")
            #expect(response.json?["error"]?["code"] == "range_not_satisfiable")
        }
        // Malformed or multiple ranges are ignored: the whole file.
        for range in ["bytes=5-2", "items=0-1", "bytes=0-1,3-4"] {
            let response = try await server.get(run, "digits.txt", range: range)
            #expect(response.status == 200, "\(range)")
            #expect(response.data == bytes)
        }
    }

    @Test("a file over the per-file limit is refused with 413 artifact_too_large and leaves nothing behind")
    func sizeLimit() async throws {
        let temp = TemporaryDirectory("quill-artifacts")
        let server = try await ServerProcess.start(
            data: temp.file("data"),
            extraArguments: ["--max-artifact-mib", "1"]
        )
        let run = try await server.newRun()
        let (announced, body) = try await server.request(
            "POST",
            "/api/v1/runs/\(run)/artifacts",
            json: ["path": "big.bin", "size": .int(2 << 20)]
        )
        #expect(announced == 413)
        #expect(body?["error"]?["code"] == "artifact_too_large")
        let response = try await server.put(run, "big.bin", Data(repeating: 1, count: 2 << 20))
        #expect(response.status == 413)
        #expect(response.json?["error"]?["code"] == "artifact_too_large")
        let (_, record) = try await server.request("GET", "/api/v1/runs/\(run)/artifacts")
        #expect(record?["artifacts"]?.arrayValue?.first?["status"] == "failed")
        #expect(server.temporaryFiles.isEmpty)
        #expect(server.blobFiles.isEmpty)
        // Exactly the limit is fine.
        #expect(try await server.put(run, "big.bin", Data(repeating: 1, count: 1 << 20)).status == 200)
    }

    @Test("a streamed body without Content-Length is cut off at the limit as it arrives")
    func sizeLimitWhileStreaming() async throws {
        let temp = TemporaryDirectory("quill-artifacts")
        let server = try await ServerProcess.start(
            data: temp.file("data"),
            extraArguments: ["--max-artifact-mib", "1"]
        )
        let run = try await server.newRun()
        let url = try #require(
            URL(string: "http://127.0.0.1:\(server.port)/api/v1/runs/\(run)/artifacts/content?path=s.bin")
        )
        var request = URLRequest(url: url)
        request.httpMethod = "PUT"
        request.httpBodyStream = InputStream(data: Data(repeating: 2, count: 3 << 20))
        request.setValue("application/octet-stream", forHTTPHeaderField: "Content-Type")
        let (data, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 413)
        #expect(try JSONParser.parse(Array(data))["error"]?["code"] == "artifact_too_large")
        #expect(server.temporaryFiles.isEmpty)
        #expect(server.blobFiles.isEmpty)
    }

    @Test("two uploads in flight at once cannot share the quota's last space")
    func concurrentQuota() async throws {
        let temp = TemporaryDirectory("quill-artifacts")
        // A long body timeout keeps the first upload in flight however late this test is scheduled again.
        let server = try await ServerProcess.start(
            data: temp.file("data"),
            extraArguments: ["--quota-mib", "1", "--body-timeout", "600"]
        )
        let run = try await server.newRun()
        let size = 700_000
        let first = try RawConnection(port: server.port)
        first.send(
            "PUT /api/v1/runs/\(run)/artifacts/content?path=first.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Content-Type: application/octet-stream\r\nContent-Length: \(size)\r\nConnection: close\r\n\r\n"
        )
        // The first upload is in flight, then has claimed its 700,000 bytes (its handler claims at once, before
        // reading the body).
        #expect(try await server.waitUntilInFlight(1))
        try await Task.sleep(for: .milliseconds(300))
        let second = try await server.put(run, "second.bin", Data(repeating: 2, count: size))
        #expect(second.status == 507)
        #expect(second.json?["error"]?["code"] == "quota_exceeded")
        first.send(String(repeating: "a", count: size))
        #expect(first.receiveAll(seconds: 10).hasPrefix("HTTP/1.1 200"))
        #expect(server.blobFiles.count == 1)
        // Once the first upload ended, its claim is gone: what is left of the quota is usable again.
        #expect(try await server.put(run, "small.bin", Data(repeating: 3, count: 100_000)).status == 200)

        // An upload without a declared length claims its chunks as they arrive.
        let (_, project) = try await server.request(
            "POST",
            "/api/v1/projects",
            json: ["name": "x", "namespace": "grace"]
        )
        let created = try await server.request("POST", "/api/v1/runs", json: ["project_id": project?["id"] ?? .null])
        let other = try #require(created.body?["id"]?.stringValue)
        let chunked = try RawConnection(port: server.port)
        chunked.send(
            "PUT /api/v1/runs/\(other)/artifacts/content?path=chunked.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                + String(size, radix: 16) + "\r\n" + String(repeating: "c", count: size) + "\r\n"
        )
        #expect(try await server.waitUntilInFlight(1))
        try await Task.sleep(for: .milliseconds(300))
        let squeezed = try await server.put(other, "late.bin", Data(repeating: 4, count: 400_000))
        #expect(squeezed.status == 507, "the chunked upload's 700,000 bytes are claimed")
        chunked.send("0\r\n\r\n")
        #expect(chunked.receiveAll(seconds: 10).hasPrefix("HTTP/1.1 200"))
    }

    @Test("quill artifacts gc removes bytes no record names, keeps shared and recent ones, and has a dry run")
    func garbageCollection() async throws {
        let temp = TemporaryDirectory("quill-artifacts")
        let data = temp.file("data")
        let server = try await ServerProcess.start(data: data)
        let kept = try await server.newRun()
        let deleted = try await server.newRun()
        let shared = Data("shared bytes".utf8)
        #expect(try await server.put(kept, "model.bin", shared).status == 200)
        #expect(try await server.put(deleted, "model.bin", shared).status == 200)
        #expect(try await server.put(deleted, "only-here.bin", Data("orphan to be".utf8)).status == 200)
        #expect(server.blobFiles.count == 2)
        #expect(try await server.request("DELETE", "/api/v1/runs/\(deleted)").status == 204)

        let quill = BuiltProducts.path("quill")
        let recent = try await BuiltProducts.run(quill, ["artifacts", "gc", "--data", data, "--json"])
        #expect(try JSONParser.parse(recent.stdout)["removed"]?.arrayValue?.isEmpty == true, "\(recent.stderr)")
        let dry = try await BuiltProducts.run(
            quill,
            ["artifacts", "gc", "--data", data, "--grace-minutes", "0", "--dry-run"]
        )
        #expect(dry.stdout.contains("would remove 1 unreferenced blob(s)"), "\(dry.stdout)\(dry.stderr)")
        #expect(server.blobFiles.count == 2)
        let swept = try await BuiltProducts.run(
            quill,
            ["artifacts", "gc", "--data", data, "--grace-minutes", "0", "--json"]
        )
        let report = try JSONParser.parse(swept.stdout)
        #expect(report["removed"]?.arrayValue?.count == 1)
        #expect(report["kept"] == 1)
        #expect(server.blobFiles.count == 1)
        #expect(try await server.get(kept, "model.bin").data == shared)
        let missing = try await BuiltProducts.run(quill, ["artifacts", "gc", "--data", temp.file("nothing")])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("no server data"))
    }

    @Test("uploads past the namespace quota are refused with 507 quota_exceeded")
    func quota() async throws {
        let temp = TemporaryDirectory("quill-artifacts")
        let server = try await ServerProcess.start(data: temp.file("data"), extraArguments: ["--quota-mib", "1"])
        let run = try await server.newRun()
        #expect(try await server.put(run, "a.bin", Data(repeating: 1, count: 700_000)).status == 200)
        let refused = try await server.put(run, "b.bin", Data(repeating: 2, count: 700_000))
        #expect(refused.status == 507)
        #expect(refused.json?["error"]?["code"] == "quota_exceeded")
        #expect(server.temporaryFiles.isEmpty)
        #expect(server.blobFiles.count == 1)
        // Another namespace has its own quota.
        let (_, project) = try await server.request(
            "POST",
            "/api/v1/projects",
            json: ["name": "x", "namespace": "grace"]
        )
        let (_, other) = try await server.request(
            "POST",
            "/api/v1/runs",
            json: ["project_id": project?["id"] ?? .null]
        )
        let otherRun = try #require(other?["id"]?.stringValue)
        #expect(try await server.put(otherRun, "b.bin", Data(repeating: 2, count: 700_000)).status == 200)
    }

    @Test("paths with .., absolute paths, NUL, backslashes or empty parts are refused; odd unicode is kept safely")
    func unsafePaths() async throws {
        let temp = TemporaryDirectory("quill-artifacts")
        let server = try await ServerProcess.start(data: temp.file("data"))
        let run = try await server.newRun()
        let bad = [
            "../escape.txt", "a/../../escape.txt", "/etc/escape.txt", "a\u{0}b", "a\\..\\escape.txt", "a//b", "./a",
            "a/", "", "..", String(repeating: "x", count: 1025), "tab\there",
        ]
        for path in bad {
            let (status, body) = try await server.request(
                "POST",
                "/api/v1/runs/\(run)/artifacts",
                json: ["path": .string(path)]
            )
            #expect(status == 400, "\(path.debugDescription)")
            #expect(body?["error"]?["code"] == "invalid_argument")
            let put = try await server.put(run, path, Data("escape".utf8))
            #expect(put.status == 400, "\(path.debugDescription)")
        }
        // Missing path parameter.
        let noPath = try await server.raw("PUT", "/api/v1/runs/\(run)/artifacts/content", body: Data("x".utf8))
        #expect(noPath.status == 400)
        // Nothing named escape anywhere near the data folder, and nothing stored.
        let near = FileManager.default.enumerator(atPath: temp.path)?.allObjects.compactMap { $0 as? String } ?? []
        #expect(!near.contains { $0.contains("escape") })
        #expect(server.blobFiles.isEmpty)

        // Unicode: NFD is stored as NFC; right-to-left marks and emoji are just characters of a key.
        let decomposed = "re\u{301}sume\u{301}/\u{202E}fdp.exe 🚀.txt"
        #expect(try await server.put(run, decomposed, Data("ok".utf8)).status == 200)
        let (_, list) = try await server.request("GET", "/api/v1/runs/\(run)/artifacts")
        let stored = try #require(list?["artifacts"]?.arrayValue?.first?["path"]?.stringValue)
        #expect(stored == decomposed.precomposedStringWithCanonicalMapping)
        #expect(try await server.get(run, stored).data == Data("ok".utf8))
        #expect(server.filesOnDisk().allSatisfy { !$0.contains("sume") })
    }

    @Test("bytes that differ from the announced hash or size are refused and the record is failed")
    func mismatch() async throws {
        let temp = TemporaryDirectory("quill-artifacts")
        let server = try await ServerProcess.start(data: temp.file("data"))
        let run = try await server.newRun()
        _ = try await server.request(
            "POST",
            "/api/v1/runs/\(run)/artifacts",
            json: ["path": "m.bin", "sha256": .string(SHA256.hex(of: Array("expected".utf8)))]
        )
        let response = try await server.put(run, "m.bin", Data("something else".utf8))
        #expect(response.status == 409)  // the bytes conflict with what the record announced
        let (_, list) = try await server.request("GET", "/api/v1/runs/\(run)/artifacts")
        #expect(list?["artifacts"]?.arrayValue?.first?["status"] == "failed")
        #expect(server.blobFiles.isEmpty)
        _ = try await server.request("POST", "/api/v1/runs/\(run)/artifacts", json: ["path": "n.bin", "size": 3])
        #expect(try await server.put(run, "n.bin", Data("four".utf8)).status == 409)
        // Marking failed by hand, and retrying after a failure.
        _ = try await server.request("POST", "/api/v1/runs/\(run)/artifacts", json: ["path": "p.bin"])
        let (patched, record) = try await server.request(
            "PATCH",
            "/api/v1/runs/\(run)/artifacts?path=p.bin",
            json: ["status": "failed"]
        )
        #expect(patched == 200)
        #expect(record?["status"] == "failed")
        #expect(try await server.put(run, "m.bin", Data("expected".utf8)).status == 200)
        #expect(try await server.get(run, "p.bin").status == 404)
    }

    @Test("a 64 MiB file is streamed up and down")
    func large() async throws {
        let temp = TemporaryDirectory("quill-artifacts")
        let server = try await ServerProcess.start(data: temp.file("data"))
        let run = try await server.newRun()
        let source = temp.file("large.bin")
        _ = FileManager.default.createFile(atPath: source, contents: nil)
        let handle = try #require(FileHandle(forWritingAtPath: source))
        var chunk = Data(count: 1 << 20)
        for index in 0..<64 {
            chunk[0] = UInt8(index)
            chunk[chunk.count - 1] = UInt8(255 - index)
            handle.write(chunk)
        }
        try handle.close()
        let uploaded = try await server.raw(
            "PUT",
            "/api/v1/runs/\(run)/artifacts/content?path=large.bin",
            file: source
        )
        #expect(uploaded.status == 200, "\(String(decoding: uploaded.data, as: UTF8.self))")
        #expect(uploaded.json?["size"] == .int(64 << 20))
        let url = try #require(
            URL(string: "http://127.0.0.1:\(server.port)/api/v1/runs/\(run)/artifacts/content?path=large.bin")
        )
        let (location, response) = try await URLSession.shared.download(from: url)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        let attributes = try FileManager.default.attributesOfItem(atPath: location.path)
        #expect((attributes[.size] as? NSNumber)?.intValue == 64 << 20)
        #expect(FileManager.default.contentsEqual(atPath: location.path, andPath: source))
        let tail = try await server.get(run, "large.bin", range: "bytes=-1")
        #expect(tail.data == Data([255 - 63]))
    }
}
