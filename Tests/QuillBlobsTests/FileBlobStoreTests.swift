import Foundation
import QuillBlobs
import QuillCore
import QuillStore
import QuillTesting
import Testing

@Suite("File blob store")
struct FileBlobStoreTests {
    @Test("conforms to the BlobStore contract", arguments: BlobStoreConformance.allCases)
    func conformance(check: BlobStoreConformance) async throws {
        let temp = TemporaryDirectory("quill-blobs")
        try await check.check(FileBlobStore(root: temp.file("artifacts")))
    }

    @Test("blobs are files named by their hash in private folders, and nothing stays in tmp/")
    func layout() async throws {
        let temp = TemporaryDirectory("quill-blobs")
        let root = temp.file("artifacts")
        let blobs = FileBlobStore(root: root)
        let bytes = Array("hello, blobs".utf8)
        let stored = try await blobs.put(BlobChunks(bytes), limits: BlobLimits(maximumBytes: 100), expected: .init()) {
            $0
        }
        let hash = SHA256.hex(of: bytes)
        let file = root + "/sha256/" + hash.prefix(2) + "/" + hash.dropFirst(2)
        #expect(blobs.path(sha256: stored.sha256) == file)
        #expect(FileManager.default.contents(atPath: file) == Data(bytes))
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/tmp").isEmpty)
        for (path, mode) in [(root, 0o700), (root + "/sha256", 0o700), (root + "/tmp", 0o700), (file, 0o600)] {
            let permissions = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
            #expect(permissions == mode, "\(path)")
        }
    }

    @Test("a shared opening (quill artifacts gc beside a server) leaves the server's uploads in tmp/ alone")
    func sharingLeavesTemporaryFiles() throws {
        let temp = TemporaryDirectory("quill-blobs")
        let root = temp.file("artifacts")
        try temp.write("artifacts/tmp/upload-1", "in flight")
        try Self.age(root + "/tmp/upload-1", days: 2)
        _ = FileBlobStore(sharing: root)
        #expect(FileManager.default.fileExists(atPath: root + "/tmp/upload-1"))
        _ = FileBlobStore(root: root)
        #expect(!FileManager.default.fileExists(atPath: root + "/tmp/upload-1"))
    }

    @Test("a server starting beside replicas on one folder removes only stale leftovers, and puts kept bytes back")
    func startingKeepsOtherReplicasUploads() throws {
        let temp = TemporaryDirectory("quill-blobs")
        let root = temp.file("artifacts")
        let hash = SHA256.hex(of: Array("kept".utf8))
        try temp.write("artifacts/tmp/upload-live", "another replica's upload, still arriving")
        try temp.write("artifacts/tmp/upload-dead", "left by a crash")
        try temp.write("artifacts/tmp/keep-\(hash)-1", "kept")
        for name in ["upload-dead", "keep-\(hash)-1"] { try Self.age(root + "/tmp/" + name, days: 2) }
        let blobs = FileBlobStore(root: root)
        #expect(FileManager.default.fileExists(atPath: root + "/tmp/upload-live"))
        #expect(!FileManager.default.fileExists(atPath: root + "/tmp/upload-dead"))
        #expect(FileManager.default.contents(atPath: blobs.path(sha256: hash)) == Data("kept".utf8))
    }

    @Test("bytes removed by a sweep on another replica while their record is written are put back")
    func putRestoresBytesRemovedWhileRecording() async throws {
        let temp = TemporaryDirectory("quill-blobs")
        let root = temp.file("artifacts")
        let blobs = FileBlobStore(root: root)
        let bytes = Array("recorded after a sweep".utf8)
        let stored = try await blobs.put(BlobChunks(bytes), limits: BlobLimits(maximumBytes: 100), expected: .init()) {
            blob in
            // What another replica's sweep does: it saw no record naming the bytes, and removes them.
            #expect(unlink(blobs.path(sha256: blob.sha256)) == 0)
            return blob
        }
        #expect(FileManager.default.contents(atPath: blobs.path(sha256: stored.sha256)) == Data(bytes))
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/tmp").isEmpty)
        // A failed recording puts nothing back and leaves nothing in tmp/.
        let other = Array("never recorded".utf8)
        await #expect(throws: QuillError.self) {
            try await blobs.put(BlobChunks(other), limits: BlobLimits(maximumBytes: 100), expected: .init()) { blob in
                unlink(blobs.path(sha256: blob.sha256))
                throw QuillError(.conflict, "recording failed")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: blobs.path(sha256: SHA256.hex(of: other))))
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/tmp").isEmpty)
    }

    @Test("two replicas storing the same bytes at once in one folder leave one good blob and nothing in tmp/")
    func replicasStoringTheSameBytes() async throws {
        let temp = TemporaryDirectory("quill-blobs")
        let root = temp.file("artifacts")
        let replicas = [FileBlobStore(root: root), FileBlobStore(sharing: root)]
        var generator = SeededGenerator(seed: 15)
        let bytes = (0..<(3 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let hashes = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<16 {
                let blobs = replicas[index % 2]
                group.addTask {
                    try await blobs.put(
                        BlobChunks(bytes, chunk: 65_536),
                        limits: BlobLimits(maximumBytes: 4 << 20),
                        expected: .init()
                    ) {
                        $0.sha256
                    }
                }
            }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(hashes == [SHA256.hex(of: bytes)])
        #expect(FileManager.default.contents(atPath: replicas[0].path(sha256: SHA256.hex(of: bytes))) == Data(bytes))
        #expect(try await replicas[1].list().map(\.sha256) == [SHA256.hex(of: bytes)])
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/tmp").isEmpty)
    }

    private static func age(_ path: String, days: Double) throws {
        try FileManager.default.setAttributes(
            [.modificationDate: Date().addingTimeInterval(-days * 86_400)],
            ofItemAtPath: path
        )
    }
}
