import Foundation
import QuillCore

extension StoredArtifact {
    /// A record from the columns of an `artifacts` row, as every backend stores them: the run id as text, the
    /// status as its raw value, times in microseconds since the epoch.
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/malformed`` when the run id is not valid.
    package init(
        runID: String,
        path: String,
        status: String,
        size: Int64?,
        sha256: String?,
        expectedSize: Int64?,
        expectedSHA256: String?,
        loggedAtMicroseconds: Int64,
        updatedAtMicroseconds: Int64
    ) throws {
        guard let run = RunID(runID) else {
            throw QuillError(.malformed, "the store holds an invalid run id '\(runID)'")
        }
        self.init(
            run: run,
            path: path,
            status: ArtifactStatus(rawValue: status) ?? .failed,
            size: size,
            sha256: sha256,
            expectedSize: expectedSize,
            expectedSHA256: expectedSHA256,
            loggedAt: Timestamp.date(microseconds: loggedAtMicroseconds),
            updatedAt: Timestamp.date(microseconds: updatedAtMicroseconds)
        )
    }
}
