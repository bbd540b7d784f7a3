package import Foundation
package import QuillCore
package import QuillStore

// Not yet on PostgreSQL: every method of this file throws until its helper writes it (issue 15).
extension PostgresStore {
    // MARK: JobStore

    /// Not yet on PostgreSQL.
    package func submitJob(_ job: NewJob, now: Date) async throws -> Job {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func job(_ id: Int64) async throws -> Job? {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func jobs(_ query: JobQuery) async throws -> [Job] {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func jobCounts(projectIDs: [Int64]?) async throws -> [JobStatus: Int] {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func claimJob(_ worker: WorkerCapabilities, lease: Duration, now: Date) async throws -> JobClaim? {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func renewLease(_ attempt: AttemptRef, lease: Duration, now: Date) async throws -> LeaseState {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func finishAttempt(_ attempt: AttemptRef, _ result: AttemptResult, now: Date) async throws -> Job {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func recoverExpiredLeases(now: Date) async throws -> [Job] {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func cancelJob(_ id: Int64, reason: String?, now: Date) async throws -> Job {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func retryJob(_ id: Int64, now: Date) async throws -> Job {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func registerDevice(_ device: NewDevice, lease: Duration, now: Date) async throws -> Device {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func deviceHeartbeat(_ name: String, lease: Duration, now: Date) async throws -> Device {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func unregisterDevice(_ name: String, now: Date) async throws {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func devices(now: Date) async throws -> [Device] {
        throw Self.notYet
    }

    // MARK: RemoteArtifactStore

    /// Not yet on PostgreSQL.
    package func requestRemoteArtifact(_ request: NewRemoteArtifact, now: Date) async throws -> RemoteArtifactRequest {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func remoteArtifacts(_ run: RunID) async throws -> [RemoteArtifactRequest] {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func remoteArtifact(_ id: Int64) async throws -> RemoteArtifactRequest? {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func claimRemoteArtifacts(
        device: String,
        lease: Duration,
        limit: Int,
        now: Date
    ) async throws -> [RemoteArtifactRequest] {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func finishRemoteArtifact(
        _ id: Int64,
        device: String,
        _ result: RemoteArtifactResult,
        now: Date
    ) async throws -> RemoteArtifactRequest {
        throw Self.notYet
    }

}
