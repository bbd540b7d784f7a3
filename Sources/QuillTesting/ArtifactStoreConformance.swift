import Foundation
import QuillCore
public import QuillStore
public import Testing

/// The behaviour every ``ArtifactStore`` backend must have, run on a fresh store:
/// `@Test(arguments: ArtifactStoreConformance.allCases)`.
public enum ArtifactStoreConformance: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case createIsGetOrCreate
    case uploadedAndFailed
    case newExpectationsReopenARecord
    case expectationsHoldAcrossFailures
    case listingIsOrderedByPath
    case namespaceBytesCountEachContentOnce
    case recordsGoWithTheirRun
    case missingRunsAndPathsAreNotFound

    /// The check's name in test output.
    public var testDescription: String { rawValue }

    /// Runs the check on an empty store.
    public func check(_ store: any TrackingStore & ArtifactStore) async throws {
        switch self {
        case .createIsGetOrCreate: try await getOrCreate(store)
        case .uploadedAndFailed: try await statuses(store)
        case .newExpectationsReopenARecord: try await reopen(store)
        case .expectationsHoldAcrossFailures: try await expectationsHold(store)
        case .listingIsOrderedByPath: try await listing(store)
        case .namespaceBytesCountEachContentOnce: try await namespaceBytes(store)
        case .recordsGoWithTheirRun: try await cascade(store)
        case .missingRunsAndPathsAreNotFound: try await missing(store)
        }
    }

    static let hashA = String(repeating: "a", count: 64)
    static let hashB = String(repeating: "b", count: 64)

    private func newRun(_ store: any TrackingStore, namespace: String = "ada") async throws -> RunID {
        let project = try await store.project(namespace: namespace, displayName: "p")
        return try await store.createRun(NewRun(projectID: project.id)).id
    }

    private func getOrCreate(_ store: any TrackingStore & ArtifactStore) async throws {
        let run = try await newRun(store)
        let logged = Date(timeIntervalSince1970: 1_700_000_000)
        let first = try await store.createArtifact(
            NewArtifact(run: run, path: "checkpoints/best.ckpt", expectedSize: 3, loggedAt: logged)
        )
        #expect(first.created)
        #expect(first.artifact.status == .pending)
        #expect(first.artifact.expectedSize == 3)
        #expect(first.artifact.size == nil)
        #expect(first.artifact.fileName == "best.ckpt")
        #expect(first.artifact.loggedAt == logged)
        let again = try await store.createArtifact(NewArtifact(run: run, path: "checkpoints/best.ckpt"))
        #expect(!again.created)
        #expect(again.artifact == first.artifact)
        #expect(try await store.artifact(run, path: "checkpoints/best.ckpt") == first.artifact)
        #expect(try await store.artifact(run, path: "checkpoints") == nil)
    }

    private func statuses(_ store: any TrackingStore & ArtifactStore) async throws {
        let run = try await newRun(store)
        _ = try await store.createArtifact(NewArtifact(run: run, path: "a.bin"))
        let uploaded = try await store.markArtifactUploaded(run, path: "a.bin", size: 10, sha256: Self.hashA)
        #expect(uploaded.status == .uploaded)
        #expect(uploaded.size == 10)
        #expect(uploaded.sha256 == Self.hashA)
        // Re-creating an uploaded record with the same expectations changes nothing.
        let same = try await store.createArtifact(
            NewArtifact(run: run, path: "a.bin", expectedSize: 10, expectedSHA256: Self.hashA)
        )
        #expect(!same.created)
        #expect(same.artifact.status == .uploaded)
        #expect(same.artifact.expectedSHA256 == nil)
        // Failing an attempt on an uploaded record keeps its stored version.
        let kept = try await store.markArtifactFailed(run, path: "a.bin")
        #expect(kept.status == .uploaded)
        #expect(kept.sha256 == Self.hashA)
        _ = try await store.createArtifact(NewArtifact(run: run, path: "b.bin"))
        #expect(try await store.markArtifactFailed(run, path: "b.bin").status == .failed)
        // A failed record goes back to pending when it is created again (a retry).
        let retried = try await store.createArtifact(NewArtifact(run: run, path: "b.bin"))
        #expect(retried.artifact.status == .pending)
    }

    private func reopen(_ store: any TrackingStore & ArtifactStore) async throws {
        let run = try await newRun(store)
        _ = try await store.createArtifact(NewArtifact(run: run, path: "model.bin"))
        _ = try await store.markArtifactUploaded(run, path: "model.bin", size: 10, sha256: Self.hashA)
        // Announcing a new version keeps the stored one until the new one is uploaded.
        let newer = try await store.createArtifact(
            NewArtifact(run: run, path: "model.bin", expectedSize: 20, expectedSHA256: Self.hashB)
        )
        #expect(!newer.created)
        #expect(newer.artifact.status == .uploaded)
        #expect(newer.artifact.sha256 == Self.hashA)
        #expect(newer.artifact.size == 10)
        #expect(newer.artifact.expectedSHA256 == Self.hashB)
        #expect(newer.artifact.expectedSize == 20)
        let failed = try await store.markArtifactFailed(run, path: "model.bin")
        #expect(failed.status == .uploaded)
        #expect(failed.sha256 == Self.hashA)
        #expect(failed.expectedSHA256 == Self.hashB)
        #expect(try await store.artifactBytes(namespace: "ada") == 10)
        // The new version replaces the old one; the old bytes are released and still count until forgotten.
        let replaced = try await store.markArtifactUploaded(run, path: "model.bin", size: 20, sha256: Self.hashB)
        #expect(replaced.sha256 == Self.hashB)
        #expect(replaced.expectedSHA256 == nil)
        #expect(replaced.expectedSize == nil)
        #expect(try await store.releasedContent(namespace: "ada") == [Self.hashA])
        #expect(try await store.releasedContent(namespace: nil) == [Self.hashA])
        #expect(try await store.artifactBytes(namespace: "ada") == 30)
        #expect(try await !store.storesContent(sha256: Self.hashA))
        #expect(try await store.storesContent(sha256: Self.hashB))
        try await store.forgetReleasedContent(sha256: Self.hashA)
        #expect(try await store.artifactBytes(namespace: "ada") == 20)
        #expect(try await store.releasedContent(namespace: "ada").isEmpty)
    }

    private func expectationsHold(_ store: any TrackingStore & ArtifactStore) async throws {
        let run = try await newRun(store)
        _ = try await store.createArtifact(
            NewArtifact(run: run, path: "a.bin", expectedSize: 3, expectedSHA256: Self.hashA)
        )
        #expect(try await store.markArtifactFailed(run, path: "a.bin").status == .failed)
        // A retry that announces nothing keeps the announcement; so does another failure.
        let retried = try await store.createArtifact(NewArtifact(run: run, path: "a.bin")).artifact
        #expect(retried.status == .pending)
        #expect(retried.expectedSize == 3)
        #expect(retried.expectedSHA256 == Self.hashA)
        _ = try await store.markArtifactFailed(run, path: "a.bin")
        let again = try #require(try await store.artifact(run, path: "a.bin"))
        #expect(again.expectedSize == 3)
        #expect(again.expectedSHA256 == Self.hashA)
        #expect(again.sha256 == nil)
        // A failed record holds no bytes; an announced hash is still kept from garbage collection.
        #expect(try await store.artifactBytes(namespace: "ada") == 0)
        #expect(try await store.referencedContentHashes() == [Self.hashA])
    }

    private func listing(_ store: any TrackingStore & ArtifactStore) async throws {
        let run = try await newRun(store)
        let other = try await newRun(store)
        for path in ["z.txt", "a/b.txt", "a.txt", "é/ü.txt"] {
            _ = try await store.createArtifact(NewArtifact(run: run, path: path))
        }
        _ = try await store.createArtifact(NewArtifact(run: other, path: "other.txt"))
        let paths = try await store.artifacts(run).map(\.path)
        #expect(paths == ["a.txt", "a/b.txt", "z.txt", "é/ü.txt"])
        #expect(try await store.artifacts(other).map(\.path) == ["other.txt"])
    }

    private func namespaceBytes(_ store: any TrackingStore & ArtifactStore) async throws {
        let first = try await newRun(store)
        let second = try await newRun(store)
        let elsewhere = try await newRun(store, namespace: "grace")
        for (run, path, size, hash) in [
            (first, "a", Int64(100), Self.hashA), (first, "copy-of-a", 100, Self.hashA), (second, "a", 100, Self.hashA),
            (second, "b", 7, Self.hashB), (elsewhere, "a", 100, Self.hashA),
        ] {
            _ = try await store.createArtifact(NewArtifact(run: run, path: path))
            _ = try await store.markArtifactUploaded(run, path: path, size: size, sha256: hash)
        }
        _ = try await store.createArtifact(NewArtifact(run: second, path: "pending", expectedSize: 1000))
        #expect(try await store.artifactBytes(namespace: "ada") == 107)
        // Bytes count whatever the record's status: marking records failed frees nothing.
        for (run, path) in [(first, "a"), (first, "copy-of-a"), (second, "a"), (second, "b"), (second, "pending")] {
            _ = try await store.markArtifactFailed(run, path: path)
        }
        #expect(try await store.artifactBytes(namespace: "ada") == 107)
        #expect(try await store.artifactBytes(namespace: "grace") == 100)
        #expect(try await store.artifactBytes(namespace: "nobody") == 0)
    }

    private func cascade(_ store: any TrackingStore & ArtifactStore) async throws {
        let run = try await newRun(store)
        _ = try await store.createArtifact(NewArtifact(run: run, path: "a"))
        _ = try await store.markArtifactUploaded(run, path: "a", size: 5, sha256: Self.hashA)
        #expect(try await store.referencedContentHashes() == [Self.hashA])
        try await store.deleteRun(run)
        // The run's bytes are released: they count until they are gone from disk.
        #expect(try await store.artifactBytes(namespace: "ada") == 5)
        #expect(try await store.releasedContent(namespace: "ada") == [Self.hashA])
        #expect(try await store.referencedContentHashes().isEmpty)
        #expect(try await !store.storesContent(sha256: Self.hashA))
        try await store.forgetReleasedContent(sha256: Self.hashA)
        #expect(try await store.artifactBytes(namespace: "ada") == 0)
        await #expect(throws: QuillError.self) { try await store.artifacts(run) }
    }

    private func missing(_ store: any TrackingStore & ArtifactStore) async throws {
        let ghost = try #require(RunID("ghost123"))
        let run = try await newRun(store)
        for attempt in [
            { _ = try await store.createArtifact(NewArtifact(run: ghost, path: "a")) },
            { _ = try await store.artifacts(ghost) },
            { _ = try await store.artifact(ghost, path: "a") },
            { _ = try await store.markArtifactUploaded(run, path: "never-created", size: 1, sha256: Self.hashA) },
            { _ = try await store.markArtifactFailed(run, path: "never-created") },
        ] as [@Sendable () async throws -> Void] {
            do {
                try await attempt()
                Issue.record("expected not found")
            } catch let error as QuillError {
                #expect(error.code == .notFound)
            }
        }
    }
}
