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
        _ = FileBlobStore(sharing: root)
        #expect(FileManager.default.fileExists(atPath: root + "/tmp/upload-1"))
        _ = FileBlobStore(root: root)
        #expect(!FileManager.default.fileExists(atPath: root + "/tmp/upload-1"))
    }
}
