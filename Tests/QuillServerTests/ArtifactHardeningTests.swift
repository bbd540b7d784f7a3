import Foundation
import QuillCore
import QuillTesting
import Testing

@Suite("Hardening: artifact quota and record state (issue 9)")
struct ArtifactHardeningTests {
    static let mebibyte = 1 << 20

    /// Distinct bytes for upload `index`.
    static func payload(_ index: Int, size: Int = 2 << 20) -> Data {
        var bytes = Data(repeating: UInt8(truncatingIfNeeded: index), count: size)
        bytes.replaceSubrange(0..<8, with: withUnsafeBytes(of: Int64(index).bigEndian) { Data($0) })
        return bytes
    }

    /// The bytes of every stored blob.
    static func bytesOnDisk(_ server: ServerProcess) -> Int {
        server.blobFiles.reduce(0) { total, file in
            let path = server.data + "/artifacts/sha256/" + file
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            return total + ((attributes?[.size] as? NSNumber)?.intValue ?? 0)
        }
    }

    /// Waits until no upload is in flight on the server (its temporary file is gone).
    static func waitForUploadsToEnd(_ server: ServerProcess) async throws {
        for _ in 0..<200 where !server.temporaryFiles.isEmpty {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(server.temporaryFiles.isEmpty)
    }

    @Test("marking uploads failed frees no quota: 3 of 18 uploads of 2 MiB fit a 6 MiB quota, and the disk holds 6 MiB")
    func failingDoesNotFreeQuota() async throws {
        let temp = TemporaryDirectory("quill-quota")
        let server = try await ServerProcess.start(data: temp.file("data"), extraArguments: ["--quota-mib", "6"])
        let run = try await server.newRun()
        var accepted = 0
        for index in 0..<18 {
            let path = "upload-\(index).bin"
            let response = try await server.put(run, path, Self.payload(index))
            if response.status == 200 {
                accepted += 1
            } else {
                #expect(response.status == 507)
                #expect(response.json?["error"]?["code"] == "quota_exceeded")
            }
            let (patched, body) = try await server.request(
                "PATCH",
                "/api/v1/runs/\(run)/artifacts?path=\(path)",
                json: ["status": "failed"]
            )
            // An uploaded record cannot be failed (its bytes stay); a refused one can.
            #expect(patched == (response.status == 200 ? 409 : 200), "\(index): \(String(describing: body))")
            #expect(Self.bytesOnDisk(server) <= 6 * Self.mebibyte)
        }
        #expect(accepted == 3)
        // gc keeps what records hold and does not change the count.
        let swept = try await BuiltProducts.run(
            BuiltProducts.path("quill"),
            ["artifacts", "gc", "--data", server.data, "--grace-minutes", "0", "--json"]
        )
        #expect(try JSONParser.parse(swept.stdout)["removed"]?.arrayValue?.isEmpty == true, "\(swept.stderr)")
        #expect(try await server.get(run, "upload-0.bin").data == Self.payload(0))
        #expect(try await server.put(run, "one-more.bin", Self.payload(99)).status == 507)
    }

    @Test("replaced versions and deleted runs never leave more bytes on disk than the quota")
    func releasedBytesCount() async throws {
        let temp = TemporaryDirectory("quill-quota")
        let server = try await ServerProcess.start(data: temp.file("data"), extraArguments: ["--quota-mib", "6"])
        // The same path re-uploaded with new bytes: the old version is removed once the new one is stored.
        let run = try await server.newRun()
        for index in 0..<10 {
            #expect(try await server.put(run, "best.ckpt", Self.payload(index)).status == 200, "\(index)")
            #expect(Self.bytesOnDisk(server) <= 6 * Self.mebibyte)
        }
        #expect(try await server.get(run, "best.ckpt").data == Self.payload(9))
        #expect(server.blobFiles.count == 1)
        // Runs uploaded to and deleted: their bytes count until the server removes them for the next upload.
        for index in 100..<110 {
            let scratch = try await server.newRun()
            #expect(try await server.put(scratch, "data.bin", Self.payload(index)).status == 200, "\(index)")
            #expect(Self.bytesOnDisk(server) <= 6 * Self.mebibyte)
            #expect(try await server.request("DELETE", "/api/v1/runs/\(scratch)").status == 204)
        }
        // Bytes another record holds stay on disk.
        #expect(try await server.get(run, "best.ckpt").data == Self.payload(9))
    }

    @Test("an interrupted re-upload leaves the earlier version downloadable")
    func interruptedReupload() async throws {
        let temp = TemporaryDirectory("quill-versions")
        let server = try await ServerProcess.start(data: temp.file("data"))
        let run = try await server.newRun()
        let first = Data("version one".utf8)
        #expect(try await server.put(run, "model.bin", first).status == 200)

        for announce in [false, true] {
            let second = Self.payload(2, size: Self.mebibyte)
            if announce {
                let (status, record) = try await server.request(
                    "POST",
                    "/api/v1/runs/\(run)/artifacts",
                    json: [
                        "path": "model.bin", "size": .int(second.count),
                        "sha256": .string(SHA256.hex(of: Array(second))),
                    ]
                )
                #expect(status == 200)
                #expect(record?["status"] == "uploaded")  // the stored version stays until the new one is in
                #expect(record?["sha256"] == .string(SHA256.hex(of: Array(first))))
                #expect(record?["expected_sha256"] == .string(SHA256.hex(of: Array(second))))
            }
            var connection: RawConnection? = try RawConnection(port: server.port)
            connection?.send(
                "PUT /api/v1/runs/\(run)/artifacts/content?path=model.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Content-Type: application/octet-stream\r\nContent-Length: \(second.count)\r\n\r\n"
                    + String(repeating: "x", count: 100_000)
            )
            try await Task.sleep(for: .milliseconds(200))
            connection = nil  // cut mid-body
            try await Self.waitForUploadsToEnd(server)
            let download = try await server.get(run, "model.bin")
            #expect(download.status == 200, "announced: \(announce)")
            #expect(download.data == first, "announced: \(announce)")
            let (_, list) = try await server.request("GET", "/api/v1/runs/\(run)/artifacts")
            #expect(list?["artifacts"]?.arrayValue?.first?["status"] == "uploaded")
        }
        // The complete new version replaces the old one, whose bytes are then removed.
        let second = Self.payload(2, size: Self.mebibyte)
        #expect(try await server.put(run, "model.bin", second).status == 200)
        #expect(try await server.get(run, "model.bin").data == second)
        #expect(server.blobFiles.count == 1)
    }

    @Test("the announced size and hash hold for every attempt, with or without a stored version")
    func announcementHolds() async throws {
        let temp = TemporaryDirectory("quill-versions")
        let server = try await ServerProcess.start(data: temp.file("data"))
        let run = try await server.newRun()
        let good = Data("hello".utf8)
        for stored in [false, true] {
            let path = stored ? "with-v1.txt" : "fresh.txt"
            if stored { #expect(try await server.put(run, path, Data("v1".utf8)).status == 200) }
            let (status, _) = try await server.request(
                "POST",
                "/api/v1/runs/\(run)/artifacts",
                json: ["path": .string(path), "size": .int(good.count), "sha256": .string(SHA256.hex(of: Array(good)))]
            )
            #expect(status == (stored ? 200 : 201))
            // Wrong bytes, then other wrong bytes (same size, then another size): refused every time.
            for wrong in ["world", "HELLO", "hello, world"] {
                let response = try await server.put(run, path, Data(wrong.utf8))
                #expect(response.status == 409, "\(path): \(wrong)")
                #expect(response.json?["error"]?["code"] == "conflict")
                let (_, record) = try await server.request("GET", "/api/v1/runs/\(run)/artifacts")
                let entry = record?["artifacts"]?.arrayValue?.first { $0["path"] == .string(path) }
                #expect(entry?["expected_sha256"] == .string(SHA256.hex(of: Array(good))), "\(path): \(wrong)")
                #expect(entry?["status"] == (stored ? "uploaded" : "failed"))
                if stored { #expect(try await server.get(run, path).data == Data("v1".utf8)) }
            }
            #expect(try await server.put(run, path, good).status == 200)
            #expect(try await server.get(run, path).data == good)
        }
    }

    @Test(
        "bytes parked by a reclaim the server did not finish go back in place at start-up; a fresh upload (another replica's) stays"
    )
    func parkedBytesReturn() async throws {
        let temp = TemporaryDirectory("quill-versions")
        let data = temp.file("data")
        let bytes = Data("parked bytes".utf8)
        let hash = SHA256.hex(of: Array(bytes))
        try FileManager.default.createDirectory(atPath: data + "/artifacts/tmp", withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: data + "/artifacts/tmp/reclaim-\(hash)-1", contents: bytes))
        #expect(FileManager.default.createFile(atPath: data + "/artifacts/tmp/upload-2", contents: bytes))
        // Leftovers of a process that stopped a day ago; upload-3 is still arriving at another replica.
        for name in ["reclaim-\(hash)-1", "upload-2"] {
            try FileManager.default.setAttributes(
                [.modificationDate: Date().addingTimeInterval(-2 * 86_400)],
                ofItemAtPath: data + "/artifacts/tmp/" + name
            )
        }
        #expect(FileManager.default.createFile(atPath: data + "/artifacts/tmp/upload-3", contents: bytes))
        let server = try await ServerProcess.start(data: data)
        #expect(server.blobFiles == [String(hash.prefix(2)) + "/" + String(hash.dropFirst(2))])
        #expect(server.temporaryFiles == ["upload-3"])
    }

    @Test("a request for several ranges gets the whole file with 200 (as documented), never a partial answer")
    func multipleRanges() async throws {
        let temp = TemporaryDirectory("quill-ranges")
        let server = try await ServerProcess.start(data: temp.file("data"))
        let run = try await server.newRun()
        let bytes = Data("0123456789".utf8)
        #expect(try await server.put(run, "digits.txt", bytes).status == 200)
        let many = "bytes=" + (0..<200).map { "\($0 % 10)-\($0 % 10)" }.joined(separator: ",")
        for range in ["bytes=0-1,5-6", "bytes=0-0, 2-2", many] {
            let response = try await server.get(run, "digits.txt", range: range)
            #expect(response.status == 200)
            #expect(response.data == bytes)
            #expect(response.headers["content-range"] == nil)
        }
    }
}
