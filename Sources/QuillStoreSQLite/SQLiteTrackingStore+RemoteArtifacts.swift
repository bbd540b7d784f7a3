package import Foundation
import GRDB
package import QuillCore
package import QuillStore

/// Remote artifact requests (`remote_artifact_requests`, migration "v14: remote artifact requests").
extension SQLiteTrackingStore {
    package func requestRemoteArtifact(_ request: NewRemoteArtifact, now: Date) async throws -> RemoteArtifactRequest {
        try request.validate()
        let time = Timestamp.microseconds(now)
        return try await write { db in
            guard try Self.runExists(db, request.run) else { throw Self.missing(request.run) }
            var record = RemoteArtifactRecord(request, now: time)
            try record.insert(db)
            return record.stored
        }
    }

    package func remoteArtifacts(_ run: RunID) async throws -> [RemoteArtifactRequest] {
        try await read { db in
            guard try Self.runExists(db, run) else { throw Self.missing(run) }
            return
                try RemoteArtifactRecord
                .filter(RemoteArtifactRecord.Columns.runID == run.rawValue)
                .order(RemoteArtifactRecord.Columns.id)
                .fetchAll(db)
                .map(\.stored)
        }
    }

    package func remoteArtifact(_ id: Int64) async throws -> RemoteArtifactRequest? {
        try await read { db in try RemoteArtifactRecord.fetchOne(db, key: id)?.stored }
    }

    package func claimRemoteArtifacts(
        device: String,
        lease: Duration,
        limit: Int,
        now: Date
    ) async throws
        -> [RemoteArtifactRequest]
    {
        let time = Timestamp.microseconds(now)
        let expires = lease.expiry(from: time)
        return try await write { db in
            // Pending requests, and those being sent whose lease ended or whose claim is older than the device's
            // registration (its worker restarted: a claim the old process made, perhaps by a long-poll answered
            // after it died, will never be reported).
            let registered = try Int64.fetchOne(
                db,
                sql: "SELECT registered_at FROM devices WHERE name = ?",
                arguments: [device]
            )
            let columns = RemoteArtifactRecord.Columns.self
            let sending = columns.status == RemoteArtifactStatus.sending.rawValue
            var records =
                try RemoteArtifactRecord
                .filter(columns.device == device)
                .filter(
                    columns.status == RemoteArtifactStatus.pending.rawValue
                        || (sending && columns.leaseExpiresAt <= time)
                        || (sending && columns.updatedAt < (registered ?? Int64.min))
                )
                .order(columns.id)
                .limit(max(1, limit))
                .fetchAll(db)
            for index in records.indices {
                records[index].status = .sending
                records[index].claims += 1
                records[index].leaseExpiresAt = expires
                records[index].updatedAt = time
                try records[index].update(db)
            }
            return records.map(\.stored)
        }
    }

    package func finishRemoteArtifact(
        _ id: Int64,
        device: String,
        _ result: RemoteArtifactResult,
        now: Date
    ) async throws -> RemoteArtifactRequest {
        let time = Timestamp.microseconds(now)
        return try await write { db in
            guard var record = try RemoteArtifactRecord.fetchOne(db, key: id) else {
                throw JobStoreText.missingRemoteArtifact(id)
            }
            guard record.status == .sending, record.spec.device == device else {
                throw JobStoreText.remoteArtifactNotSending(
                    id,
                    status: record.status,
                    device: record.spec.device,
                    reportedBy: device
                )
            }
            (record.status, record.size, record.sha256, record.reason) = result.fields
            record.leaseExpiresAt = nil
            record.updatedAt = time
            try record.update(db)
            return record.stored
        }
    }
}
