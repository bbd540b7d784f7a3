public import Foundation

/// What a garbage collection removed (or, in a dry run, would remove).
public struct BlobSweepReport: Sendable, Hashable {
    /// The blobs, by SHA-256, in hash order.
    public var removed: [String] = []
    /// Their bytes.
    public var bytes: Int64 = 0
    /// Blobs kept: referenced, or changed within the grace period.
    public var kept = 0

    /// An empty report.
    public init() {}
}

extension BlobStore {
    /// Removes the blobs no record names any more (after runs were deleted or versions replaced), keeping every
    /// blob changed within `grace`, and stops counting removed released bytes against their namespace's quota.
    ///
    /// The blobs are listed first and the records asked which hashes they name afterwards, so a record written
    /// before that question protects its blob; a blob a new upload reuses is changed by that put, so the grace
    /// period protects it while its record is written. It can run while the server runs, and while other
    /// replicas upload: the whole sweep holds the records' collection lock
    /// (``ArtifactStore/whileCollectingBlobs(_:)``), which uploads wait for before recording their bytes.
    ///
    /// - Parameters:
    ///   - records: The artifact records that name blobs.
    ///   - grace: Blobs changed more recently are kept whatever the records say.
    ///   - dryRun: Report without removing anything.
    ///   - now: The current time (tests pass their own).
    public func collectGarbage(
        records: any ArtifactStore,
        grace: Duration,
        dryRun: Bool,
        now: Date = Date()
    ) async throws -> BlobSweepReport {
        try await records.whileCollectingBlobs {
            try await sweep(records: records, grace: grace, dryRun: dryRun, now: now)
        }
    }

    /// The sweep of ``collectGarbage(records:grace:dryRun:now:)``, run under the records' collection lock.
    private func sweep(
        records: any ArtifactStore,
        grace: Duration,
        dryRun: Bool,
        now: Date
    ) async throws -> BlobSweepReport {
        let listed = try await list()
        let referenced = try await records.referencedContentHashes()
        let seconds = Double(grace.components.seconds) + Double(grace.components.attoseconds) / 1e18
        let cutoff = now.addingTimeInterval(-seconds)
        var report = BlobSweepReport()
        for blob in listed.sorted(by: { $0.sha256 < $1.sha256 }) {
            guard !referenced.contains(blob.sha256), blob.modified < cutoff else {
                report.kept += 1
                continue
            }
            let removed = try await dryRun ? true : remove(sha256: blob.sha256, unchangedSince: cutoff)
            if removed {
                report.removed.append(blob.sha256)
                report.bytes += blob.size
            } else {
                report.kept += 1
            }
        }
        if !dryRun {
            // Released bytes stop counting against a quota once they are gone, or a record holds them again.
            for hash in try await records.releasedContent(namespace: nil).sorted() {
                let gone = try await size(sha256: hash) == nil
                if try await gone ? true : records.storesContent(sha256: hash) {
                    try await records.forgetReleasedContent(sha256: hash)
                }
            }
        }
        return report
    }
}
