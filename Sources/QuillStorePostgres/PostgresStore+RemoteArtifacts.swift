package import Foundation
import PostgresNIO
package import QuillCore
package import QuillStore

/// Remote artifact requests (`remote_artifact_requests`) on PostgreSQL; claimed with `FOR UPDATE SKIP LOCKED`,
/// so workers polling different replicas never hold one request at once.
extension PostgresStore {
    package func requestRemoteArtifact(_ request: NewRemoteArtifact, now: Date) async throws -> RemoteArtifactRequest {
        try request.validate()
        let time = Timestamp.microseconds(now)
        let status: RemoteArtifactStatus = request.transfer ? .pending : .recorded
        return try await transaction { connection in
            // The run is kept (not deleted) until the request is in.
            let run = try await connection.query(
                "SELECT 1 FROM runs WHERE id = \(request.run.rawValue) FOR KEY SHARE",
                logger: logger
            ).collect()
            guard !run.isEmpty else { throw Self.requestedRunMissing(request.run) }
            let rows = try await connection.query(
                """
                INSERT INTO remote_artifact_requests (
                    run_id, device, source_path, artifact_path, transfer, status, claims, requested_by, created_at,
                    updated_at
                ) VALUES (
                    \(request.run.rawValue), \(request.device), \(request.sourcePath), \(request.artifactPath),
                    \(request.transfer), \(status.rawValue), 0, \(request.requestedBy), \(time), \(time)
                )
                RETURNING \(unescaped: PostgresJobRows.remoteArtifactColumns)
                """,
                logger: logger
            ).collect()
            guard let row = rows.first else { throw QuillError(.io, "the remote artifact request was not stored") }
            // Workers waiting for requests wake on every replica.
            if request.transfer { try await announce(.jobs, on: connection) }
            return try PostgresJobRows.remoteArtifact(row)
        }
    }

    package func remoteArtifacts(_ run: RunID) async throws -> [RemoteArtifactRequest] {
        try await withConnection { connection in
            let exists = try await connection.query("SELECT 1 FROM runs WHERE id = \(run.rawValue)", logger: logger)
                .collect()
            guard !exists.isEmpty else { throw Self.requestedRunMissing(run) }
            return try await connection.query(
                """
                SELECT \(unescaped: PostgresJobRows.remoteArtifactColumns) FROM remote_artifact_requests
                WHERE run_id = \(run.rawValue)
                ORDER BY id
                """,
                logger: logger
            ).collect().map(PostgresJobRows.remoteArtifact)
        }
    }

    package func remoteArtifact(_ id: Int64) async throws -> RemoteArtifactRequest? {
        try await withConnection { connection in
            try await connection.query(
                "SELECT \(unescaped: PostgresJobRows.remoteArtifactColumns) FROM remote_artifact_requests WHERE id = \(id)",
                logger: logger
            ).collect().first.map(PostgresJobRows.remoteArtifact)
        }
    }

    package func claimRemoteArtifacts(
        device: String,
        lease: Duration,
        limit: Int,
        now: Date
    ) async throws -> [RemoteArtifactRequest] {
        let time = Timestamp.microseconds(now)
        let expires = lease.expiry(from: time)
        return try await transaction { connection in
            // Pending requests, and those being sent whose lease ended or whose claim is older than the device's
            // registration (its worker restarted: a claim the old process made will never be reported). Rows
            // another claimer is taking are passed over.
            let rows = try await connection.query(
                """
                UPDATE remote_artifact_requests
                SET status = 'sending', claims = claims + 1, lease_expires_at = \(expires), updated_at = \(time)
                WHERE id IN (
                    SELECT id FROM remote_artifact_requests
                    WHERE device = \(device) AND (
                        status = 'pending'
                        OR (status = 'sending' AND lease_expires_at <= \(time))
                        OR (status = 'sending' AND updated_at < (SELECT registered_at FROM devices WHERE name = \(device)))
                    )
                    ORDER BY id
                    LIMIT \(max(1, limit))
                    FOR UPDATE SKIP LOCKED
                )
                RETURNING \(unescaped: PostgresJobRows.remoteArtifactColumns)
                """,
                logger: logger
            ).collect()
            return try rows.map(PostgresJobRows.remoteArtifact).sorted { $0.id < $1.id }
        }
    }

    package func finishRemoteArtifact(
        _ id: Int64,
        device: String,
        _ result: RemoteArtifactResult,
        now: Date
    ) async throws -> RemoteArtifactRequest {
        let time = Timestamp.microseconds(now)
        return try await transaction { connection in
            let rows = try await connection.query(
                """
                SELECT \(unescaped: PostgresJobRows.remoteArtifactColumns) FROM remote_artifact_requests
                WHERE id = \(id)
                FOR UPDATE
                """,
                logger: logger
            ).collect()
            guard let row = rows.first else { throw JobStoreText.missingRemoteArtifact(id) }
            let request = try PostgresJobRows.remoteArtifact(row)
            guard request.status == .sending, request.spec.device == device else {
                throw JobStoreText.remoteArtifactNotSending(
                    id,
                    status: request.status,
                    device: request.spec.device,
                    reportedBy: device
                )
            }
            let fields = result.fields
            let updated = try await connection.query(
                """
                UPDATE remote_artifact_requests
                SET status = \(fields.status.rawValue), size = \(fields.size), sha256 = \(fields.sha256),
                    reason = \(fields.reason), lease_expires_at = NULL, updated_at = \(time)
                WHERE id = \(id)
                RETURNING \(unescaped: PostgresJobRows.remoteArtifactColumns)
                """,
                logger: logger
            ).collect()
            guard let stored = updated.first else { throw JobStoreText.missingRemoteArtifact(id) }
            return try PostgresJobRows.remoteArtifact(stored)
        }
    }

    /// An unknown run's error (the tracking store's words).
    static func requestedRunMissing(_ id: RunID) -> QuillError {
        QuillError(.notFound, "run '\(id)' not found")
    }
}
