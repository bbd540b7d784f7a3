import Foundation
import GRDB
import QuillCore
import QuillStore

/// A row of `remote_artifact_requests`: one file a run asked a device for.
struct RemoteArtifactRecord: FetchableRecord, MutablePersistableRecord, Sendable {
    static let databaseTableName = "remote_artifact_requests"

    /// The table's columns.
    enum Columns {
        static let id = Column("id")
        static let runID = Column("run_id")
        static let device = Column("device")
        static let sourcePath = Column("source_path")
        static let artifactPath = Column("artifact_path")
        static let transfer = Column("transfer")
        static let status = Column("status")
        static let reason = Column("reason")
        static let size = Column("size")
        static let sha256 = Column("sha256")
        static let claims = Column("claims")
        static let leaseExpiresAt = Column("lease_expires_at")
        static let requestedBy = Column("requested_by")
        static let createdAt = Column("created_at")
        static let updatedAt = Column("updated_at")
    }

    var id: Int64?
    var spec: NewRemoteArtifact
    var status: RemoteArtifactStatus
    var reason: String?
    var size: Int64?
    var sha256: String?
    var claims: Int
    /// Times in microseconds since the epoch.
    var leaseExpiresAt: Int64?
    var createdAt: Int64
    var updatedAt: Int64

    init(_ spec: NewRemoteArtifact, now: Int64) {
        self.spec = spec
        status = spec.transfer ? .pending : .recorded
        claims = 0
        createdAt = now
        updatedAt = now
    }

    init(row: Row) throws {
        id = row[Columns.id]
        guard let run = RunID(row[Columns.runID] as String) else {
            throw QuillError(.malformed, "a remote artifact request names an invalid run id")
        }
        spec = NewRemoteArtifact(
            run: run,
            device: row[Columns.device],
            sourcePath: row[Columns.sourcePath],
            artifactPath: row[Columns.artifactPath],
            transfer: row[Columns.transfer],
            requestedBy: row[Columns.requestedBy]
        )
        status = RemoteArtifactStatus(rawValue: row[Columns.status]) ?? .failed
        reason = row[Columns.reason]
        size = row[Columns.size]
        sha256 = row[Columns.sha256]
        claims = row[Columns.claims]
        leaseExpiresAt = row[Columns.leaseExpiresAt]
        createdAt = row[Columns.createdAt]
        updatedAt = row[Columns.updatedAt]
    }

    func encode(to container: inout PersistenceContainer) {
        container[Columns.id] = id
        container[Columns.runID] = spec.run.rawValue
        container[Columns.device] = spec.device
        container[Columns.sourcePath] = spec.sourcePath
        container[Columns.artifactPath] = spec.artifactPath
        container[Columns.transfer] = spec.transfer
        container[Columns.status] = status.rawValue
        container[Columns.reason] = reason
        container[Columns.size] = size
        container[Columns.sha256] = sha256
        container[Columns.claims] = claims
        container[Columns.leaseExpiresAt] = leaseExpiresAt
        container[Columns.requestedBy] = spec.requestedBy
        container[Columns.createdAt] = createdAt
        container[Columns.updatedAt] = updatedAt
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }

    /// The request as the store's value.
    var stored: RemoteArtifactRequest {
        RemoteArtifactRequest(
            id: id ?? 0,
            spec: spec,
            status: status,
            reason: reason,
            size: size,
            sha256: sha256,
            claims: claims,
            createdAt: Timestamp.date(microseconds: createdAt),
            updatedAt: Timestamp.date(microseconds: updatedAt)
        )
    }
}
