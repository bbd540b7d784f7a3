import Foundation
import GRDB
import QuillCore
import QuillStore

/// A row of `artifacts`: one artifact record of a run, unique by (run, path); see ``ArtifactSchema``.
struct ArtifactRecord: FetchableRecord, TableRecord, Sendable {
    static let databaseTableName = "artifacts"

    /// The table's columns.
    enum Columns {
        static let runID = Column("run_id")
        static let path = Column("path")
        static let status = Column("status")
        static let size = Column("size")
        static let sha256 = Column("sha256")
        static let expectedSize = Column("expected_size")
        static let expectedSHA256 = Column("expected_sha256")
        static let loggedAt = Column("logged_at")
        static let updatedAt = Column("updated_at")
    }

    var runID: String
    var path: String
    var status: String
    var size: Int64?
    var sha256: String?
    var expectedSize: Int64?
    var expectedSHA256: String?
    /// Times are microseconds since the epoch.
    var loggedAt: Int64
    var updatedAt: Int64

    init(row: Row) {
        runID = row[Columns.runID]
        path = row[Columns.path]
        status = row[Columns.status]
        size = row[Columns.size]
        sha256 = row[Columns.sha256]
        expectedSize = row[Columns.expectedSize]
        expectedSHA256 = row[Columns.expectedSHA256]
        loggedAt = row[Columns.loggedAt]
        updatedAt = row[Columns.updatedAt]
    }

    /// The artifact, as the store's protocols give it.
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/malformed`` when the row's run id is not valid.
    func stored() throws -> StoredArtifact {
        try StoredArtifact(
            runID: runID,
            path: path,
            status: status,
            size: size,
            sha256: sha256,
            expectedSize: expectedSize,
            expectedSHA256: expectedSHA256,
            loggedAtMicroseconds: loggedAt,
            updatedAtMicroseconds: updatedAt
        )
    }
}
