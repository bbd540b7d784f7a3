public import Foundation
public import ServiceLifecycle

/// Where artifact bytes live: immutable blobs named by their SHA-256 (lowercase hexadecimal), beside the
/// records of an ``ArtifactStore`` that point at them.
///
/// The contract:
/// - ``put(_:limits:expected:then:)`` streams bytes in, hashing and counting them as they arrive, and keeps
///   them under their hash only once complete and verified against `expected`; the same bytes put twice are
///   stored once. A blob is never named by anything a client sends, only by its hash.
/// - While the `then` closure of a put runs (the caller records the hash), the blob is *in flight*:
///   ``reclaim(sha256:isStored:)`` leaves it alone, so bytes a record is about to name are never removed.
/// - ``open(sha256:)`` gives a reader that keeps serving the bytes it opened even if the blob is removed
///   meanwhile.
/// - ``list()`` and ``remove(sha256:unchangedSince:)`` are what garbage collection needs
///   (``collectGarbage(records:grace:dryRun:now:)``): a blob changed (stored, or put again) after the cutoff is
///   kept, so a sweep never races an upload that reuses existing bytes.
/// - A store is a `Service`: run it for as long as it is used (in `quill serve`'s `ServiceGroup`); it returns
///   after a graceful shutdown.
///
/// ```swift
/// let uploaded = try await blobs.put(body, limits: BlobLimits(maximumBytes: 5 << 30), expected: BlobExpectation()) {
///     blob in try await records.markArtifactUploaded(run, path: path, size: blob.size, sha256: blob.sha256)
/// }
/// ```
public protocol BlobStore: Service {
    /// Streams bytes into the store, hashing them, and runs `then` with the stored blob while it is in
    /// flight (safe from ``reclaim(sha256:isStored:)``).
    ///
    /// - Parameters:
    ///   - chunks: The bytes, in any chunking; read once, in order.
    ///   - limits: The largest size accepted and the quota the bytes must fit in.
    ///   - expected: The size and hash the bytes must have, as announced.
    ///   - then: Runs once the bytes are stored; its result is returned.
    /// - Throws: ``QuillCore/QuillError`` with code `artifactTooLarge` past ``BlobLimits/maximumBytes``,
    ///   `quotaExceeded` past the quota, `conflict` when the bytes differ from `expected` (then they are not
    ///   kept), `io` when storing fails; or what `then` throws. Nothing partial is left behind after an error
    ///   before `then`.
    func put<Chunks: AsyncSequence, Result>(
        _ chunks: Chunks,
        limits: BlobLimits,
        expected: BlobExpectation,
        then: (StoredBlob) async throws -> Result
    ) async throws -> Result where Chunks.Element: ContiguousBytes

    /// The size of a stored blob, or `nil` when no blob has this hash (or the text is not a SHA-256).
    func size(sha256: String) async throws -> Int64?

    /// Opens a stored blob for reading, or returns `nil` when no blob has this hash.
    func open(sha256: String) async throws -> (any BlobReader)?

    /// Removes a blob no record holds, unless an upload is recording it: `isStored` is asked before and
    /// after the blob is taken away, and the blob is put back when it or the in-flight uploads say the bytes
    /// are wanted.
    ///
    /// - Returns: Whether the bytes are gone.
    func reclaim(sha256: String, isStored: () async throws -> Bool) async throws -> Bool

    /// Every stored blob, for garbage collection.
    func list() async throws -> [BlobListing]

    /// Removes a blob when it was last changed before `cutoff`.
    ///
    /// - Returns: Whether it was removed (`false` when it changed since, or is gone already).
    func remove(sha256: String, unchangedSince cutoff: Date) async throws -> Bool
}

/// Reads one stored blob; the bytes stay readable for the reader's life, even if the blob is removed.
public protocol BlobReader: Sendable {
    /// The blob's size in bytes.
    var size: Int64 { get }

    /// Reads a range of the blob in chunks, handing each to `consume` in order.
    ///
    /// - Throws: ``QuillCore/QuillError`` with code `invalidArgument` for a range outside the blob, `io` when
    ///   reading fails; or what `consume` throws.
    func read(_ range: ClosedRange<Int64>, consume: ([UInt8]) async throws -> Void) async throws
}

/// What a put may take.
public struct BlobLimits: Sendable {
    /// The largest blob accepted.
    public var maximumBytes: Int64
    /// The bytes left in the namespace's quota, or `nil` for no quota.
    public var quotaRemaining: Int64?
    /// Claims each chunk's bytes from the namespace's quota as it arrives; `false` refuses the put.
    public var claim: (@Sendable (Int64) -> Bool)?

    /// Limits with a largest size and an optional quota.
    public init(maximumBytes: Int64, quotaRemaining: Int64? = nil, claim: (@Sendable (Int64) -> Bool)? = nil) {
        self.maximumBytes = maximumBytes
        self.quotaRemaining = quotaRemaining
        self.claim = claim
    }
}

/// The size and hash the bytes of a put must have, as the client announced them.
public struct BlobExpectation: Sendable, Hashable {
    /// The announced size.
    public var size: Int64?
    /// The announced SHA-256, lowercase hexadecimal.
    public var sha256: String?

    /// An expectation; `nil` fields are not checked.
    public init(size: Int64? = nil, sha256: String? = nil) {
        self.size = size
        self.sha256 = sha256
    }
}

/// A blob a put stored.
public struct StoredBlob: Sendable, Hashable {
    /// Its SHA-256, lowercase hexadecimal.
    public var sha256: String
    /// Its size in bytes.
    public var size: Int64

    /// A stored blob.
    public init(sha256: String, size: Int64) {
        self.sha256 = sha256
        self.size = size
    }
}

/// One blob as ``BlobStore/list()`` sees it.
public struct BlobListing: Sendable, Hashable {
    /// Its SHA-256, lowercase hexadecimal.
    public var sha256: String
    /// Its size in bytes.
    public var size: Int64
    /// When it was last stored or put again.
    public var modified: Date

    /// A listing entry.
    public init(sha256: String, size: Int64, modified: Date) {
        self.sha256 = sha256
        self.size = size
        self.modified = modified
    }
}
