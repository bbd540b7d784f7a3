import Foundation
import QuillCore
public import QuillStore
import Synchronization
public import Testing

/// The behaviour every ``BlobStore`` must have, run on a fresh, empty store:
/// `@Test(arguments: BlobStoreConformance.allCases)`.
public enum BlobStoreConformance: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case putAndReadRoundTrip
    case sameBytesAreStoredOnce
    case emptyBlob
    case limitsRefuseAndKeepNothing
    case expectationsMustMatch
    case inFlightBlobsAreNotReclaimed
    case reclaimAsksTheRecords
    case readersOutliveRemoval
    case removeKeepsRecentBlobs
    case unknownHashesAreAbsent

    /// The check's name in test output.
    public var testDescription: String { rawValue }

    /// Runs the check on an empty store.
    public func check(_ blobs: any BlobStore) async throws {
        switch self {
        case .putAndReadRoundTrip: try await roundTrip(blobs)
        case .sameBytesAreStoredOnce: try await storedOnce(blobs)
        case .emptyBlob: try await empty(blobs)
        case .limitsRefuseAndKeepNothing: try await limits(blobs)
        case .expectationsMustMatch: try await expectations(blobs)
        case .inFlightBlobsAreNotReclaimed: try await inFlight(blobs)
        case .reclaimAsksTheRecords: try await reclaim(blobs)
        case .readersOutliveRemoval: try await readers(blobs)
        case .removeKeepsRecentBlobs: try await remove(blobs)
        case .unknownHashesAreAbsent: try await unknown(blobs)
        }
    }

    /// `count` bytes that differ from those of another `seed`.
    static func bytes(_ count: Int, seed: UInt8 = 1) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed) &* 7 &+ ($0 >> 8)) }
    }

    static let noLimits = BlobLimits(maximumBytes: 1 << 40)

    /// Puts bytes in chunks of `chunk` bytes and returns what was stored.
    @discardableResult
    static func put(
        _ blobs: any BlobStore,
        _ bytes: [UInt8],
        chunk: Int = 1000,
        limits: BlobLimits = noLimits,
        expected: BlobExpectation = BlobExpectation()
    ) async throws -> StoredBlob {
        try await blobs.put(BlobChunks(bytes, chunk: chunk), limits: limits, expected: expected) { $0 }
    }

    /// Every byte of a range, read through a reader.
    static func read(_ reader: any BlobReader, _ range: ClosedRange<Int64>) async throws -> [UInt8] {
        var collected: [UInt8] = []
        try await reader.read(range) { collected += $0 }
        return collected
    }

    private func roundTrip(_ blobs: any BlobStore) async throws {
        // Larger than any sensible write buffer, in odd chunks, so buffering is crossed.
        let bytes = Self.bytes(3 << 20 | 12345)
        let stored = try await Self.put(blobs, bytes, chunk: 65_537)
        #expect(stored.sha256 == SHA256.hex(of: bytes))
        #expect(stored.size == Int64(bytes.count))
        #expect(try await blobs.size(sha256: stored.sha256) == Int64(bytes.count))
        let reader = try #require(try await blobs.open(sha256: stored.sha256))
        #expect(reader.size == Int64(bytes.count))
        #expect(try await Self.read(reader, 0...Int64(bytes.count - 1)) == bytes)
        #expect(try await Self.read(reader, 5...5) == [bytes[5]])
        let tail = Int64(bytes.count - 70_000)...Int64(bytes.count - 1)
        #expect(try await Self.read(reader, tail) == Array(bytes[Int(tail.lowerBound)...]))
        await #expect(throws: QuillError.self) { try await Self.read(reader, 0...Int64(bytes.count)) }
        let listed = try await blobs.list()
        #expect(listed.map(\.sha256) == [stored.sha256])
        #expect(listed.first?.size == Int64(bytes.count))
    }

    private func storedOnce(_ blobs: any BlobStore) async throws {
        let bytes = Self.bytes(10_000)
        let first = try await Self.put(blobs, bytes, chunk: 100)
        let second = try await Self.put(blobs, bytes, chunk: 7_000)
        #expect(first == second)
        let other = try await Self.put(blobs, Self.bytes(10_000, seed: 2))
        #expect(other.sha256 != first.sha256)
        #expect(Set(try await blobs.list().map(\.sha256)) == [first.sha256, other.sha256])
    }

    private func empty(_ blobs: any BlobStore) async throws {
        let stored = try await Self.put(blobs, [])
        #expect(stored.size == 0)
        #expect(stored.sha256 == SHA256.hex(of: [UInt8]()))
        #expect(try await blobs.size(sha256: stored.sha256) == 0)
        #expect(try await blobs.open(sha256: stored.sha256)?.size == 0)
    }

    private func limits(_ blobs: any BlobStore) async throws {
        let bytes = Self.bytes(5000)
        try await expectError(.artifactTooLarge) {
            try await Self.put(blobs, bytes, limits: BlobLimits(maximumBytes: 4999))
        }
        try await expectError(.quotaExceeded) {
            try await Self.put(blobs, bytes, limits: BlobLimits(maximumBytes: 1 << 20, quotaRemaining: 100))
        }
        // A claim that refuses the second chunk stops the put there.
        let claims = ClaimCounter(allowed: 1)
        try await expectError(.quotaExceeded) {
            try await Self.put(
                blobs,
                bytes,
                chunk: 1000,
                limits: BlobLimits(maximumBytes: 1 << 20, claim: { _ in claims.claim() })
            )
        }
        #expect(claims.calls == 2)
        #expect(try await blobs.list().isEmpty)
        #expect(try await blobs.size(sha256: SHA256.hex(of: bytes)) == nil)
        // Exactly at the limits is allowed.
        let stored = try await Self.put(blobs, bytes, limits: BlobLimits(maximumBytes: 5000, quotaRemaining: 5000))
        #expect(stored.size == 5000)
    }

    private func expectations(_ blobs: any BlobStore) async throws {
        let bytes = Self.bytes(2000)
        let hash = SHA256.hex(of: bytes)
        try await expectError(.conflict) {
            try await Self.put(blobs, bytes, expected: BlobExpectation(size: 1999))
        }
        try await expectError(.conflict) {
            try await Self.put(blobs, bytes, expected: BlobExpectation(sha256: String(repeating: "0", count: 64)))
        }
        #expect(try await blobs.list().isEmpty)
        let stored = try await Self.put(blobs, bytes, expected: BlobExpectation(size: 2000, sha256: hash))
        #expect(stored.sha256 == hash)
    }

    private func inFlight(_ blobs: any BlobStore) async throws {
        let bytes = Self.bytes(3000)
        let hash = try await blobs.put(BlobChunks(bytes), limits: Self.noLimits, expected: BlobExpectation()) {
            (stored: StoredBlob) async throws -> String in
            // No record names it yet, but the put is recording it.
            let reclaimed = try await blobs.reclaim(sha256: stored.sha256) { false }
            let size = try await blobs.size(sha256: stored.sha256)
            #expect(!reclaimed)
            #expect(size == 3000)
            return stored.sha256
        }
        // What `then` throws comes out of the put, and the bytes are still there.
        await #expect(throws: QuillError.self) {
            try await blobs.put(BlobChunks(bytes), limits: Self.noLimits, expected: BlobExpectation()) { _ in
                throw QuillError(.io, "the record could not be written")
            }
        }
        #expect(try await blobs.size(sha256: hash) == 3000)
        #expect(try await blobs.reclaim(sha256: hash) { false })
        #expect(try await blobs.size(sha256: hash) == nil)
    }

    private func reclaim(_ blobs: any BlobStore) async throws {
        let stored = try await Self.put(blobs, Self.bytes(4000))
        // A record holds it: kept.
        #expect(try await !blobs.reclaim(sha256: stored.sha256) { true })
        // A record appears while the blob is taken away: put back.
        let answers = ClaimCounter(allowed: 1)
        #expect(try await !blobs.reclaim(sha256: stored.sha256) { !answers.claim() })
        #expect(answers.calls == 2)
        #expect(try await blobs.size(sha256: stored.sha256) == 4000)
        #expect(try await blobs.reclaim(sha256: stored.sha256) { false })
        #expect(try await blobs.list().isEmpty)
        // Gone already counts as gone.
        #expect(try await blobs.reclaim(sha256: stored.sha256) { false })
    }

    private func readers(_ blobs: any BlobStore) async throws {
        let bytes = Self.bytes(300_000)
        let stored = try await Self.put(blobs, bytes)
        let reader = try #require(try await blobs.open(sha256: stored.sha256))
        #expect(try await blobs.reclaim(sha256: stored.sha256) { false })
        #expect(try await blobs.open(sha256: stored.sha256) == nil)
        #expect(try await Self.read(reader, 0...Int64(bytes.count - 1)) == bytes)
    }

    private func remove(_ blobs: any BlobStore) async throws {
        let stored = try await Self.put(blobs, Self.bytes(1000))
        let modified = try #require(try await blobs.list().first?.modified)
        #expect(try await !blobs.remove(sha256: stored.sha256, unchangedSince: modified.addingTimeInterval(-3600)))
        #expect(try await blobs.size(sha256: stored.sha256) == 1000)
        #expect(try await blobs.remove(sha256: stored.sha256, unchangedSince: Date().addingTimeInterval(3600)))
        #expect(try await blobs.size(sha256: stored.sha256) == nil)
        #expect(try await !blobs.remove(sha256: stored.sha256, unchangedSince: Date().addingTimeInterval(3600)))
    }

    private func unknown(_ blobs: any BlobStore) async throws {
        let missing = String(repeating: "ab", count: 32)
        #expect(try await blobs.size(sha256: missing) == nil)
        #expect(try await blobs.open(sha256: missing) == nil)
        for bad in ["../../etc/passwd", "", String(repeating: "g", count: 64), "AB" + String(missing.dropFirst(2))] {
            #expect(try await blobs.size(sha256: bad) == nil)
            #expect(try await blobs.open(sha256: bad) == nil)
            #expect(try await !blobs.reclaim(sha256: bad) { false })
            #expect(try await !blobs.remove(sha256: bad, unchangedSince: Date().addingTimeInterval(3600)))
        }
        #expect(try await blobs.list().isEmpty)
    }

    private func expectError(
        _ code: QuillError.Code,
        sourceLocation: SourceLocation = #_sourceLocation,
        _ body: () async throws -> Void
    ) async throws {
        do {
            try await body()
            Issue.record("expected a QuillError with code \(code)", sourceLocation: sourceLocation)
        } catch let error as QuillError {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        }
    }
}

/// Bytes as an async sequence of chunks, the shape a ``BlobStore`` put reads.
public struct BlobChunks: AsyncSequence, Sendable {
    /// Each chunk.
    public typealias Element = [UInt8]

    private let chunks: [[UInt8]]

    /// Splits `bytes` into chunks of `chunk` bytes (the last one shorter).
    public init(_ bytes: [UInt8], chunk: Int = 1000) {
        let size = Swift.max(1, chunk)
        chunks = stride(from: 0, to: bytes.count, by: size).map { Array(bytes[$0..<Swift.min($0 + size, bytes.count)]) }
    }

    /// Iterates the chunks.
    public struct AsyncIterator: AsyncIteratorProtocol, Sendable {
        var remaining: ArraySlice<[UInt8]>

        /// The next chunk, or `nil` at the end.
        public mutating func next() async -> [UInt8]? {
            remaining.popFirst()
        }
    }

    /// An iterator over the chunks.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(remaining: chunks[...])
    }
}

/// Answers `true` for the first `allowed` calls, then `false`, and counts the calls.
final class ClaimCounter: Sendable {
    private let state: Mutex<(calls: Int, allowed: Int)>

    init(allowed: Int) {
        state = Mutex((calls: 0, allowed: allowed))
    }

    var calls: Int { state.withLock { $0.calls } }

    func claim() -> Bool {
        state.withLock { state in
            state.calls += 1
            return state.calls <= state.allowed
        }
    }
}
