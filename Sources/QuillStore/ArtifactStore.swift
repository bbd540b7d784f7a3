public import Foundation
public import QuillCore

/// Where the records of a run's artifacts are kept: one record per (run, path), pointing at bytes stored
/// by their SHA-256.
///
/// The bytes themselves live outside the store, in content-addressed files (the server's data folder), so
/// the same bytes logged twice, under two paths or by two runs, are stored once. A record moves from
/// ``ArtifactStatus/pending`` to ``ArtifactStatus/uploaded`` (with its size and hash) or
/// ``ArtifactStatus/failed``; once uploaded it stays uploaded, naming its stored version, until a newer
/// version is uploaded complete and verified.
///
/// The contract:
/// - ``createArtifact(_:)`` gets or creates the record of a path. The size and hash it announces become the
///   record's expectations for the next upload (``StoredArtifact/expectedSize``,
///   ``StoredArtifact/expectedSHA256``); a request that announces nothing keeps the earlier announcement. A
///   failed record goes back to pending. An uploaded record keeps its stored version: announcing other
///   bytes only records what the next version must be.
/// - Expectations hold for every attempt: a failed upload changes neither them nor the stored version.
/// - ``markArtifactUploaded(_:path:size:sha256:)`` replaces the stored version and clears the expectations.
/// - ``markArtifactFailed(_:path:)`` fails a record with no stored version; one with a stored version keeps
///   it and stays uploaded (a failed attempt at a newer version).
/// - Bytes a namespace's records stop naming (a version replaced, a run deleted) are *released*: they keep
///   counting in ``artifactBytes(namespace:)`` until ``forgetReleasedContent(sha256:)`` says they are gone
///   from disk or held by another record, so the bytes on disk never outgrow a namespace's quota.
/// - Records belong to their run: deleting the run deletes them (and releases their bytes).
/// - Every method on a run that does not exist throws ``QuillError/Code/notFound``; marking a path that
///   has no record does too.
///
/// ```swift
/// let created = try await store.createArtifact(NewArtifact(run: run.id, path: "checkpoints/best.ckpt"))
/// // … store the bytes, hashing them …
/// try await store.markArtifactUploaded(run.id, path: "checkpoints/best.ckpt", size: 1024, sha256: hex)
/// ```
public protocol ArtifactStore: Sendable {
    /// Gets or creates the record of an artifact of a run.
    func createArtifact(_ artifact: NewArtifact) async throws -> ArtifactCreation

    /// Records that a new version of an artifact is stored, complete and verified: its size and SHA-256
    /// (lowercase hexadecimal). The previous version's bytes are released; the expectations are cleared.
    func markArtifactUploaded(_ run: RunID, path: String, size: Int64, sha256: String) async throws -> StoredArtifact

    /// Records that an upload of an artifact failed; a stored earlier version stays, as do the expectations.
    func markArtifactFailed(_ run: RunID, path: String) async throws -> StoredArtifact

    /// The artifacts of a run, ordered by path.
    func artifacts(_ run: RunID) async throws -> [StoredArtifact]

    /// One artifact of a run, or `nil` when the run has no record of that path.
    func artifact(_ run: RunID, path: String) async throws -> StoredArtifact?

    /// The bytes a namespace holds, for its quota: the stored versions of its records and the bytes it
    /// released and that may still be on disk, each distinct content counted once, whatever the records'
    /// status.
    func artifactBytes(namespace: String) async throws -> Int64

    /// Every content hash a record names (a stored version, or an announced one): the blobs garbage
    /// collection must keep.
    func referencedContentHashes() async throws -> Set<String>

    /// Whether some record's stored version has this content hash.
    func storesContent(sha256: String) async throws -> Bool

    /// The content hashes released in a namespace (every namespace when `nil`) that still count against it.
    func releasedContent(namespace: String?) async throws -> Set<String>

    /// Stops counting released bytes of this hash in every namespace: they are gone from disk, or a record
    /// holds them (and its namespace counts them).
    func forgetReleasedContent(sha256: String) async throws

    /// Runs `body`, a garbage collection of blobs, while no upload anywhere records a stored version.
    ///
    /// Replicas of a server share one blob folder and one database, so the lock that keeps a sweep and an
    /// upload apart must be the database's: an upload that waits for it records its version after the sweep,
    /// and then finds its bytes gone if the sweep removed them (``BlobStore`` puts them back). The default
    /// runs `body` at once: a store that only one process writes has nothing to wait for (the blob store's
    /// in-flight uploads and the grace period keep a sweep off bytes being recorded there).
    func whileCollectingBlobs<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result
}

extension ArtifactStore {
    /// Runs `body` at once (see ``ArtifactStore/whileCollectingBlobs(_:)``).
    public func whileCollectingBlobs<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
        try await body()
    }
}

/// Whether an artifact's bytes have arrived.
public enum ArtifactStatus: String, Sendable, Hashable, CaseIterable {
    /// The record exists; the bytes have not arrived (yet).
    case pending
    /// The bytes are stored and match the record's size and hash.
    case uploaded
    /// The upload failed: refused, cut off, or the bytes did not match what the client announced.
    case failed
}

/// A request to record an artifact of a run.
public struct NewArtifact: Sendable, Hashable {
    /// The run the artifact belongs to.
    public var run: RunID
    /// Where the artifact sits among the run's artifacts: relative, `/`-separated (see ``ArtifactPathRules``).
    public var path: String
    /// The size the client announces, checked when the bytes arrive.
    public var expectedSize: Int64?
    /// The SHA-256 the client announces (lowercase hexadecimal), checked when the bytes arrive.
    public var expectedSHA256: String?
    /// When the artifact was logged; now when `nil`.
    public var loggedAt: Date?

    /// Creates a request.
    public init(
        run: RunID,
        path: String,
        expectedSize: Int64? = nil,
        expectedSHA256: String? = nil,
        loggedAt: Date? = nil
    ) {
        self.run = run
        self.path = path
        self.expectedSize = expectedSize
        self.expectedSHA256 = expectedSHA256
        self.loggedAt = loggedAt
    }
}

/// What ``ArtifactStore/createArtifact(_:)`` did.
public struct ArtifactCreation: Sendable, Hashable {
    /// The record, new or existing.
    public var artifact: StoredArtifact
    /// Whether the record is new.
    public var created: Bool

    /// Creates a result.
    public init(artifact: StoredArtifact, created: Bool) {
        self.artifact = artifact
        self.created = created
    }
}

/// The record of one artifact of a run.
public struct StoredArtifact: Sendable, Hashable {
    /// The run it belongs to.
    public var run: RunID
    /// Its path among the run's artifacts, e.g. `checkpoints/best.ckpt`.
    public var path: String
    /// Whether its bytes have arrived.
    public var status: ArtifactStatus
    /// The size of its stored version, in bytes; `nil` while none is stored.
    public var size: Int64?
    /// The SHA-256 of its stored version (lowercase hexadecimal); `nil` while none is stored.
    public var sha256: String?
    /// The size announced for the next upload, checked when its bytes arrive.
    public var expectedSize: Int64?
    /// The SHA-256 announced for the next upload, checked when its bytes arrive.
    public var expectedSHA256: String?
    /// When it was logged.
    public var loggedAt: Date
    /// When its record last changed (created, uploaded or failed).
    public var updatedAt: Date

    /// The last component of the path.
    public var fileName: String {
        path.split(separator: "/").last.map(String.init) ?? path
    }

    /// Creates a record.
    public init(
        run: RunID,
        path: String,
        status: ArtifactStatus,
        size: Int64?,
        sha256: String?,
        expectedSize: Int64? = nil,
        expectedSHA256: String? = nil,
        loggedAt: Date,
        updatedAt: Date
    ) {
        self.run = run
        self.path = path
        self.status = status
        self.size = size
        self.sha256 = sha256
        self.expectedSize = expectedSize
        self.expectedSHA256 = expectedSHA256
        self.loggedAt = loggedAt
        self.updatedAt = updatedAt
    }
}

/// What an artifact path may be.
///
/// Relative and `/`-separated; every component non-empty and not `.` or `..`; no NUL byte, backslash or
/// other control character; at most 1,024 characters (Unicode scalars); normalized to Unicode NFC so that the same name
/// typed on two systems is one artifact. The path is a key, never a file path: bytes are stored by hash.
public enum ArtifactPathRules: Sendable {
    /// The longest path accepted, in Unicode scalars (what JSON Schema's `maxLength` counts).
    public static let maximumLength = 1024

    /// The path in NFC form, or an error that says what is wrong with it.
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/invalidArgument``.
    public static func validate(_ path: String) throws -> String {
        func refuse(_ reason: String) -> QuillError {
            let shown = path.unicodeScalars.map { $0.value < 0x20 ? "\\u{\(String($0.value, radix: 16))}" : String($0) }
                .joined()
            return QuillError(.invalidArgument, "artifact path '\(shown)' is not allowed: \(reason)")
        }
        let normalized = path.precomposedStringWithCanonicalMapping
        guard !normalized.isEmpty else { throw refuse("it is empty") }
        guard normalized.unicodeScalars.count <= maximumLength else {
            throw refuse("it is longer than \(maximumLength) characters")
        }
        if normalized.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7f...0x9f).contains($0.value) }) {
            throw refuse("it contains a NUL byte or another control character")
        }
        guard !normalized.contains("\\") else { throw refuse("it contains a backslash; separate folders with '/'") }
        guard !normalized.hasPrefix("/") else { throw refuse("it is absolute; give a path relative to the run") }
        for component in normalized.split(separator: "/", omittingEmptySubsequences: false) {
            if component.isEmpty { throw refuse("it has an empty component ('//' or a trailing '/')") }
            if component == "." || component == ".." { throw refuse("it has a '.' or '..' component") }
        }
        return normalized
    }
}
