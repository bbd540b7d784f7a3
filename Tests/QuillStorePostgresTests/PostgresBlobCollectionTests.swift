import Foundation
import PostgresNIO
import QuillBlobs
import QuillCore
import QuillStore
import QuillStorePostgres
import QuillTesting
import Testing

/// `quill artifacts gc` against uploads on other replicas: two stores on one database share one blob folder.
@Suite("PostgreSQL blob collection lock")
struct PostgresBlobCollectionTests {
    @Test("an upload on another replica waits for a running sweep before it records its bytes")
    func uploadWaitsForSweep() async throws {
        let location = try await TestPostgres.database("blob_lock_wait")
        let sweeper = try PostgresStore(location: location, maximumConnections: 3)
        let uploader = try PostgresStore(location: location, maximumConnections: 3)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await sweeper.run() }
            group.addTask { try await uploader.run() }
            defer { group.cancelAll() }
            let project = try await uploader.project(namespace: "ada", displayName: "p")
            let run = try await uploader.createRun(NewRun(projectID: project.id)).id
            _ = try await uploader.createArtifact(NewArtifact(run: run, path: "model.bin"))

            let (sweeping, sweepStarted) = AsyncStream.makeStream(of: Void.self)
            let (release, releaseSweep) = AsyncStream.makeStream(of: Void.self)
            let sweep = Task {
                try await sweeper.whileCollectingBlobs {
                    sweepStarted.yield()
                    for await _ in release { break }
                }
            }
            for await _ in sweeping { break }
            let upload = Task {
                try await uploader.markArtifactUploaded(
                    run,
                    path: "model.bin",
                    size: 3,
                    sha256: String(repeating: "a", count: 64)
                )
            }
            // The upload's transaction waits on the sweep's lock: the database shows one advisory lock not granted.
            #expect(try await Self.waitForWaitingAdvisoryLock(on: sweeper, seconds: 60))
            #expect(try await uploader.artifact(run, path: "model.bin")?.status == .pending)
            releaseSweep.yield()
            try await sweep.value
            #expect(try await upload.value.status == .uploaded)
        }
    }

    @Test("a sweep and uploads of the same bytes on two replicas never leave a record without its blob")
    func sweepsNeverRemoveRecordedBytes() async throws {
        let location = try await TestPostgres.database("blob_lock_race")
        let first = try PostgresStore(location: location, maximumConnections: 4)
        let second = try PostgresStore(location: location, maximumConnections: 4)
        let temp = TemporaryDirectory("quill-blob-race")
        let root = temp.file("artifacts")
        let uploads = FileBlobStore(root: root)
        let sweeps = FileBlobStore(sharing: root)
        let bytes = Array("the same bytes, uploaded again and again".utf8)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await first.run() }
            group.addTask { try await second.run() }
            defer { group.cancelAll() }
            let project = try await first.project(namespace: "ada", displayName: "p")
            for round in 0..<40 {
                // The bytes lose their record (the run that held them is deleted), then a new run uploads them
                // again through the first replica while the second sweeps with no grace period.
                let old = try await first.createRun(NewRun(projectID: project.id)).id
                _ = try await first.createArtifact(NewArtifact(run: old, path: "a.bin"))
                try await Self.upload(bytes, to: old, uploads, first)
                try await first.deleteRun(old)
                let run = try await first.createRun(NewRun(projectID: project.id)).id
                _ = try await first.createArtifact(NewArtifact(run: run, path: "a.bin"))
                async let swept = sweeps.collectGarbage(records: second, grace: .zero, dryRun: false)
                async let stored = Self.upload(bytes, to: run, uploads, first)
                _ = try await (swept, stored)
                let record = try #require(try await first.artifact(run, path: "a.bin"))
                #expect(record.status == .uploaded)
                #expect(
                    FileManager.default.fileExists(atPath: uploads.path(sha256: SHA256.hex(of: bytes))),
                    "round \(round): the record names bytes a sweep removed"
                )
            }
        }
    }

    private static func upload(
        _ bytes: [UInt8],
        to run: RunID,
        _ blobs: FileBlobStore,
        _ store: PostgresStore
    ) async throws {
        _ = try await blobs.put(
            BlobChunks(bytes),
            limits: BlobLimits(maximumBytes: 1 << 20),
            expected: BlobExpectation()
        ) {
            blob in try await store.markArtifactUploaded(run, path: "a.bin", size: blob.size, sha256: blob.sha256)
        }
    }

    private static func waitForWaitingAdvisoryLock(on store: PostgresStore, seconds: Double) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            let waiting = try await store.withConnection { connection in
                var count: Int64 = 0
                for try await value in try await connection.query(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
                    logger: store.logger
                ).decode(Int64.self) {
                    count = value
                }
                return count
            }
            if waiting > 0 { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return false
    }
}
