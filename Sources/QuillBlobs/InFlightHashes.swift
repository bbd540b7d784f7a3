import Synchronization

/// The hashes of puts whose bytes are in place but whose record is not written yet, with a count for
/// concurrent puts of the same bytes; ``FileBlobStore/reclaim(sha256:isStored:)`` leaves them alone.
final class InFlightHashes: Sendable {
    private let hashes = Mutex([String: Int]())

    /// Starts one put's hold on a hash.
    func add(_ hash: String) {
        hashes.withLock { $0[hash, default: 0] += 1 }
    }

    /// Ends one put's hold on a hash.
    func remove(_ hash: String) {
        hashes.withLock { state in
            let left = (state[hash] ?? 0) - 1
            state[hash] = left > 0 ? left : nil
        }
    }

    /// Whether any put holds the hash.
    func contains(_ hash: String) -> Bool {
        hashes.withLock { $0[hash] != nil }
    }
}
