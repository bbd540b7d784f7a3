package import Foundation
package import QuillCore

/// How an artifact record changes (``ArtifactStore``'s contract), in one place for every backend.
///
/// A backend reads the record in the transaction of the write, asks for the record it becomes, and writes
/// every column of it back. Each function returns the whole new record, so the backends hold no rule of
/// their own.
///
/// ```swift
/// let existing = try requireArtifact(run, path)
/// let next = ArtifactTransitions.failed(existing, now: Date())
/// try write(next)
/// ```
package enum ArtifactTransitions: Sendable {
    /// A new record: pending, expecting what the request announces, logged when the request says (now when
    /// it does not).
    package static func created(_ request: NewArtifact, now: Date) -> StoredArtifact {
        StoredArtifact(
            run: request.run,
            path: request.path,
            status: .pending,
            size: nil,
            sha256: nil,
            expectedSize: request.expectedSize,
            expectedSHA256: request.expectedSHA256,
            loggedAt: request.loggedAt ?? now,
            updatedAt: now
        )
    }

    /// An existing record asked for again, or `nil` when nothing changes (the record is returned as it is).
    ///
    /// An announcement replaces the earlier one; none keeps it. Announcing the bytes already stored asks for
    /// nothing new. A failed record goes back to pending; a stored version stays as it is either way.
    package static func reannounced(_ existing: StoredArtifact, by request: NewArtifact, now: Date) -> StoredArtifact? {
        let announces = request.expectedSize != nil || request.expectedSHA256 != nil
        var expectedSize = announces ? request.expectedSize : existing.expectedSize
        var expectedSHA256 = announces ? request.expectedSHA256 : existing.expectedSHA256
        if let stored = existing.sha256, expectedSHA256 == stored, expectedSize == nil || expectedSize == existing.size
        {
            expectedSize = nil
            expectedSHA256 = nil
        }
        let status: ArtifactStatus = existing.status == .failed ? .pending : existing.status
        if status == existing.status, expectedSize == existing.expectedSize, expectedSHA256 == existing.expectedSHA256 {
            return nil
        }
        var next = existing
        next.status = status
        next.expectedSize = expectedSize
        next.expectedSHA256 = expectedSHA256
        next.loggedAt = request.loggedAt ?? existing.loggedAt
        next.updatedAt = now
        return next
    }

    /// A record whose new version is stored, complete and verified: it names that version, and the
    /// expectations are cleared.
    package static func uploaded(_ existing: StoredArtifact, size: Int64, sha256: String, now: Date) -> StoredArtifact {
        var next = existing
        next.status = .uploaded
        next.size = size
        next.sha256 = sha256
        next.expectedSize = nil
        next.expectedSHA256 = nil
        next.updatedAt = now
        return next
    }

    /// A record whose upload failed: failed when it has no stored version; one with a stored version keeps
    /// it and stays uploaded (the failure was an attempt at a newer one). Expectations stay.
    package static func failed(_ existing: StoredArtifact, now: Date) -> StoredArtifact {
        var next = existing
        next.status = existing.sha256 == nil ? .failed : .uploaded
        next.updatedAt = now
        return next
    }

    /// The error of marking a path that has no record.
    package static func missing(_ run: RunID, path: String) -> QuillError {
        QuillError(
            .notFound,
            "run '\(run)' has no artifact '\(path)'; create its record with POST /api/v1/runs/\(run)/artifacts"
        )
    }
}
