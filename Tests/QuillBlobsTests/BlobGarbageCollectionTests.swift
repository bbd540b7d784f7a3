import Foundation
import QuillBlobs
import QuillCore
import QuillStore
import QuillStoreSQLite
import QuillTesting
import Testing

@Suite("Blob garbage collection over real records")
struct BlobGarbageCollectionTests {
    @Test("collectGarbage removes old blobs no record names, keeps named and recent ones, and forgets released bytes")
    func collect() async throws {
        let temp = TemporaryDirectory("quill-gc")
        let records = try SQLiteTrackingStore(path: temp.file("quill.db"))
        let blobs = FileBlobStore(root: temp.file("artifacts"))
        let project = try await records.project(namespace: "ada", displayName: "p")
        let kept = try await records.createRun(NewRun(projectID: project.id)).id
        let deleted = try await records.createRun(NewRun(projectID: project.id)).id
        func upload(_ run: RunID, _ path: String, _ text: String) async throws -> String {
            _ = try await records.createArtifact(NewArtifact(run: run, path: path))
            return try await blobs.put(
                BlobChunks(Array(text.utf8)),
                limits: BlobLimits(maximumBytes: 1 << 20),
                expected: BlobExpectation()
            ) { stored in
                _ = try await records.markArtifactUploaded(run, path: path, size: stored.size, sha256: stored.sha256)
                return stored.sha256
            }
        }
        let shared = try await upload(kept, "a.bin", "shared")
        _ = try await upload(deleted, "a.bin", "shared")
        let orphan = try await upload(deleted, "b.bin", "orphan")
        try await records.deleteRun(deleted)
        #expect(try await records.releasedContent(namespace: "ada").contains(orphan))
        #expect(try await records.artifactBytes(namespace: "ada") == Int64("shared".utf8.count + "orphan".utf8.count))

        // Within the grace period everything stays.
        let recent = try await blobs.collectGarbage(records: records, grace: .seconds(3600), dryRun: false)
        #expect(recent.removed.isEmpty)
        #expect(recent.kept == 2)
        // A dry run reports without removing; then the sweep removes the orphan only.
        let later = Date().addingTimeInterval(7200)
        let dry = try await blobs.collectGarbage(records: records, grace: .seconds(3600), dryRun: true, now: later)
        #expect(dry.removed == [orphan])
        #expect(try await blobs.size(sha256: orphan) == 6)
        let swept = try await blobs.collectGarbage(records: records, grace: .seconds(3600), dryRun: false, now: later)
        #expect(swept.removed == [orphan])
        #expect(swept.bytes == 6)
        #expect(swept.kept == 1)
        #expect(try await blobs.size(sha256: orphan) == nil)
        #expect(try await blobs.size(sha256: shared) == 6)
        // The removed bytes no longer count against the namespace.
        #expect(try await !records.releasedContent(namespace: "ada").contains(orphan))
        #expect(try await records.artifactBytes(namespace: "ada") == 6)
        try await records.close()
    }
}
