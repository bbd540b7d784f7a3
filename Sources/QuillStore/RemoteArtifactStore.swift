public import Foundation
public import QuillCore

/// Where requests for remote artifacts are kept: files that live on a device (a worker's machine) and that a
/// run asked to record, and, when it asked for a transfer, to copy into its artifacts.
///
/// A request names a run, a device, an absolute path on that device and the artifact path the bytes get
/// (`remote_<device>__<name>`). With `transfer` it waits (``RemoteArtifactStatus/pending``) until the device's
/// worker claims it (``RemoteArtifactStatus/sending``, for a lease), uploads the bytes as an ordinary artifact
/// of the run, and reports it ``RemoteArtifactStatus/done`` or ``RemoteArtifactStatus/failed`` with a reason.
/// Without `transfer` it is ``RemoteArtifactStatus/recorded`` at once: the run names the file, no bytes move.
///
/// The contract:
/// - ``requestRemoteArtifact(_:now:)`` throws ``QuillError/Code/notFound`` for a run that does not exist; it does
///   not check the device (the server does, against the registered devices).
/// - ``claimRemoteArtifacts(device:lease:limit:now:)`` hands out the device's pending requests, oldest first, and
///   requests whose worker claimed them but did not report within its lease (a worker that died mid-transfer) or
///   before the device last registered (its worker restarted, so the claim was an earlier process's): a request
///   is never held by two claims at once, and none is lost.
/// - ``finishRemoteArtifact(_:device:_:now:)`` ends a claimed request of that device; any other request (not
///   claimed, finished, another device's) throws ``QuillError/Code/conflict``, an unknown id
///   ``QuillError/Code/notFound``.
/// - Requests belong to their run: deleting the run deletes them.
public protocol RemoteArtifactStore: Sendable {
    /// Records a request: `pending` with a transfer, `recorded` without one.
    func requestRemoteArtifact(_ request: NewRemoteArtifact, now: Date) async throws -> RemoteArtifactRequest

    /// A run's requests, oldest first.
    func remoteArtifacts(_ run: RunID) async throws -> [RemoteArtifactRequest]

    /// One request, or `nil`.
    func remoteArtifact(_ id: Int64) async throws -> RemoteArtifactRequest?

    /// Claims up to `limit` requests a device's worker should send, `sending` until `now + lease`.
    func claimRemoteArtifacts(
        device: String,
        lease: Duration,
        limit: Int,
        now: Date
    ) async throws
        -> [RemoteArtifactRequest]

    /// Ends a claimed request as its worker reports it.
    func finishRemoteArtifact(
        _ id: Int64,
        device: String,
        _ result: RemoteArtifactResult,
        now: Date
    ) async throws
        -> RemoteArtifactRequest
}

/// Where a remote artifact request stands.
public enum RemoteArtifactStatus: String, Sendable, Hashable, CaseIterable {
    /// Waiting for the device's worker (which may be offline).
    case pending
    /// The device's worker claimed it and is sending the bytes.
    case sending
    /// The bytes are stored as the artifact.
    case done
    /// The worker could not send it; the reason says why.
    case failed
    /// Recorded without a transfer: the run names the file on the device, no bytes were asked for.
    case recorded
}

/// A request for a remote artifact.
public struct NewRemoteArtifact: Sendable, Hashable {
    /// The run that asks.
    public var run: RunID
    /// The device (worker name) the file is on.
    public var device: String
    /// The file's absolute path on the device.
    public var sourcePath: String
    /// The artifact path the bytes get among the run's artifacts (`remote_<device>__<name>`).
    public var artifactPath: String
    /// Whether the worker should send the bytes; otherwise the request only records where the file is.
    public var transfer: Bool
    /// The user who asked, when a signed-in user did.
    public var requestedBy: String?

    /// A request.
    public init(
        run: RunID,
        device: String,
        sourcePath: String,
        artifactPath: String,
        transfer: Bool = true,
        requestedBy: String? = nil
    ) {
        self.run = run
        self.device = device
        self.sourcePath = sourcePath
        self.artifactPath = artifactPath
        self.transfer = transfer
        self.requestedBy = requestedBy
    }

    /// The artifact path of a remote file: `remote_<device>__<name>`.
    public static func artifactPath(device: String, name: String) -> String {
        "remote_\(device)__\(name)"
    }
}

/// A stored request for a remote artifact.
public struct RemoteArtifactRequest: Sendable, Hashable {
    /// Its id.
    public var id: Int64
    /// What was asked.
    public var spec: NewRemoteArtifact
    /// Where it stands.
    public var status: RemoteArtifactStatus
    /// Why it failed, in words, when it did.
    public var reason: String?
    /// The stored bytes' size, once done.
    public var size: Int64?
    /// The stored bytes' SHA-256 (lowercase hexadecimal), once done.
    public var sha256: String?
    /// How many times a worker claimed it.
    public var claims: Int
    /// When it was asked for.
    public var createdAt: Date
    /// When it last changed.
    public var updatedAt: Date

    /// A request.
    public init(
        id: Int64,
        spec: NewRemoteArtifact,
        status: RemoteArtifactStatus,
        reason: String? = nil,
        size: Int64? = nil,
        sha256: String? = nil,
        claims: Int = 0,
        createdAt: Date,
        updatedAt: Date
    ) {
        self.id = id
        self.spec = spec
        self.status = status
        self.reason = reason
        self.size = size
        self.sha256 = sha256
        self.claims = claims
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// How a worker ended a remote artifact request.
public enum RemoteArtifactResult: Sendable, Hashable {
    /// The bytes are stored as the artifact, with this size and SHA-256.
    case done(size: Int64, sha256: String)
    /// The worker could not send the file, for this reason (one line).
    case failed(reason: String)
}
