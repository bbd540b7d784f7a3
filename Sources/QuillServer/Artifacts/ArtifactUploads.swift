import Foundation
import Logging
package import QuillCore
import QuillJobs
package import QuillStore

/// Stores an artifact's bytes: the one upload path, used by `PUT /api/v1/runs/{id}/artifacts/content` and by the
/// server's embedded workers when they send a remote artifact (``QuillJobs/ArtifactFileSink``).
///
/// The bytes stream into the content-addressed ``QuillStore/BlobStore``, checked as they arrive against the
/// per-file limit and the namespace's quota (claimed before the first byte when the length is known, so
/// concurrent uploads cannot share the space), then against the size and hash the client announced; the record
/// then names the new version, and the old version's bytes are reclaimed when no record holds them. A failed
/// upload leaves the stored version in place and marks a record without one failed.
package struct ArtifactUploads: Sendable {
    let artifacts: any ArtifactStore
    let blobs: any BlobStore
    let runs: any TrackingStore
    let configuration: ServerConfiguration
    let reservations = QuotaReservations()

    /// The uploads of a server.
    package init(
        artifacts: any ArtifactStore,
        blobs: any BlobStore,
        runs: any TrackingStore,
        configuration: ServerConfiguration
    ) {
        self.artifacts = artifacts
        self.blobs = blobs
        self.runs = runs
        self.configuration = configuration
    }

    /// Stores the bytes of `chunks` as the artifact `path` (checked) of `run`, in `namespace`.
    func store<Chunks: AsyncSequence>(
        _ run: RunID,
        namespace: String,
        path: String,
        length: Int64?,
        chunks: Chunks,
        logger: Logger
    ) async throws -> StoredArtifact where Chunks.Element: ContiguousBytes {
        let record = try await artifacts.createArtifact(NewArtifact(run: run, path: path)).artifact
        var ticket: QuotaReservations.Ticket?
        defer { ticket?.release() }
        do {
            var limits = BlobLimits(maximumBytes: configuration.maxArtifactBytes)
            if let quota = configuration.namespaceQuotaBytes {
                var held = try await artifacts.artifactBytes(namespace: namespace)
                if length.map({ $0 > quota - held - reservations.inFlight(namespace) }) ?? true {
                    // Bytes the namespace released (replaced versions, deleted runs) still count until they
                    // are gone from disk: remove those no record holds, then count again.
                    await reclaim(try await artifacts.releasedContent(namespace: namespace), logger)
                    held = try await artifacts.artifactBytes(namespace: namespace)
                }
                let available = quota - held
                let claims = reservations.ticket(namespace: namespace, available: available)
                ticket = claims
                if let length {
                    // Claimed before the first byte is read, so concurrent uploads cannot share the space.
                    guard claims.claim(length) else {
                        throw ArtifactRoutes.quotaExceeded(length, available - reservations.inFlight(namespace))
                    }
                    limits.quotaRemaining = length
                } else {
                    // No declared length: each chunk is claimed as it arrives.
                    limits.claim = { bytes in claims.claim(bytes) }
                }
            }
            // What the client announced holds for every attempt, whatever became of earlier ones.
            let expected = BlobExpectation(size: record.expectedSize, sha256: record.expectedSHA256)
            // A declared length over the file limit is refused before a byte is read.
            if let length { try ArtifactRoutes.checkLimit(length, configuration) }
            // The blob is safe from reclaims while its record is written.
            let uploaded = try await blobs.put(chunks, limits: limits, expected: expected) { stored in
                try await artifacts.markArtifactUploaded(run, path: path, size: stored.size, sha256: stored.sha256)
            }
            if let previous = record.sha256, previous != uploaded.sha256 {
                await reclaim([previous], logger)
            }
            return uploaded
        } catch {
            // A stored earlier version stays; a record without one is marked failed.
            _ = try? await artifacts.markArtifactFailed(run, path: path)
            throw error
        }
    }

    /// Removes released bytes that no record holds from disk, and stops counting them against any quota
    /// (also when a record holds them: its namespace counts them then). Failures are logged and left for
    /// the next attempt or `quill artifacts gc`.
    func reclaim(_ hashes: Set<String>, _ logger: Logger) async {
        for hash in hashes.sorted() {
            do {
                let gone = try await blobs.reclaim(sha256: hash) { try await artifacts.storesContent(sha256: hash) }
                let forget = try await gone ? true : artifacts.storesContent(sha256: hash)
                if forget { try await artifacts.forgetReleasedContent(sha256: hash) }
            } catch {
                logger.warning("could not reclaim artifact bytes \(hash): \(error)")
            }
        }
    }
}

extension ArtifactUploads: ArtifactFileSink {
    /// Stores a file on this machine as an artifact of a run (a remote artifact an embedded worker sends).
    package func storeArtifact(run: RunID, path: String, file: String) async throws -> (size: Int64, sha256: String) {
        let checked = try ArtifactPathRules.validate(path)
        guard let stored = try await runs.run(run), let project = try await runs.project(id: stored.projectID) else {
            throw QuillError(.notFound, "run '\(run)' not found")
        }
        guard let handle = FileHandle(forReadingAtPath: file) else {
            throw QuillError(.notFound, "\(file) cannot be opened for reading")
        }
        defer { try? handle.close() }
        let length = try handle.seekToEnd()
        try handle.seek(toOffset: 0)
        let uploaded = try await store(
            run,
            namespace: project.namespace,
            path: checked,
            length: Int64(exactly: length),
            chunks: FileChunks(handle: handle),
            logger: Logger(label: "quill.server.artifacts")
        )
        return (uploaded.size ?? Int64(clamping: length), uploaded.sha256 ?? "")
    }
}
