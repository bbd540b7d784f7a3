package import Foundation
import QuillCore
package import QuillStore

extension FileBlobStore {
    package func put<Chunks: AsyncSequence, Result>(
        _ chunks: Chunks,
        limits: BlobLimits,
        expected: BlobExpectation,
        then: (StoredBlob) async throws -> Result
    ) async throws -> Result where Chunks.Element: ContiguousBytes {
        let (blob, kept) = try await store(chunks, limits: limits, expected: expected)
        // Held until the caller has recorded the hash.
        defer { inFlight.remove(blob.sha256) }
        let result: Result
        do {
            result = try await then(blob)
        } catch {
            if let kept { unlink(kept) }
            throw error
        }
        if let kept { try await restore(kept, as: path(sha256: blob.sha256)) }
        return result
    }

    /// Puts back the bytes a put kept (a second name of the blob in `tmp/`) when a garbage collection on another
    /// replica removed the blob while its record was being written, and drops the second name otherwise.
    ///
    /// A sweep holds the records' collection lock (``QuillStore/ArtifactStore/whileCollectingBlobs(_:)``), which the
    /// recording waits for: a record written after a sweep finds the blob removed here, and one written before
    /// it is seen by the sweep.
    private func restore(_ kept: String, as destination: String) async throws {
        try await BlockingIO.run {
            if FileIO.exists(destination) {
                unlink(kept)
                return
            }
            try Self.makePrivateDirectory((destination as NSString).deletingLastPathComponent)
            guard rename(kept, destination) == 0 else {
                let code = errno
                unlink(kept)
                throw QuillError.posix("restoring", path: destination, errno: code)
            }
        }
    }

    /// Streams bytes into `tmp/`, hashing them, and moves them into place; the hash returned is in flight, and
    /// the path returned, when there is one, is a second name of the blob kept in `tmp/` until it is recorded.
    private func store<Chunks: AsyncSequence>(
        _ chunks: Chunks,
        limits: BlobLimits,
        expected: BlobExpectation
    ) async throws -> (StoredBlob, kept: String?) where Chunks.Element: ContiguousBytes {
        try Self.makePrivateDirectory(root + "/tmp")
        let temporary = "\(root)/tmp/upload-\(UUID().uuidString)"
        let fd = Platform.open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw QuillError.posix("creating", path: temporary, errno: errno) }
        var closed = false
        do {
            var hash = SHA256()
            var received: Int64 = 0
            var gathered: [UInt8] = []
            gathered.reserveCapacity(writeSize)
            for try await chunk in chunks {
                let count = chunk.withUnsafeBytes { raw in
                    // As typed bytes, so the append is one copy rather than a loop over the bytes.
                    gathered.append(contentsOf: raw.assumingMemoryBound(to: UInt8.self))
                    return raw.count
                }
                let (total, overflow) = received.addingReportingOverflow(Int64(count))
                received = overflow ? .max : total
                try Self.check(received, limits)
                if let claim = limits.claim, !claim(Int64(count)) {
                    throw QuillError(
                        .quotaExceeded,
                        "the namespace's artifact quota is used up by stored and in-flight uploads; delete runs or ask the operator to raise --quota-mib"
                    )
                }
                if gathered.count >= writeSize {
                    hash = try await Self.append(gathered, to: fd, path: temporary, hashing: hash)
                    gathered.removeAll(keepingCapacity: true)
                }
            }
            hash = try await Self.append(gathered, to: fd, path: temporary, hashing: hash)
            let digest = hash.hexDigest()
            try Self.verify(digest, received, expected)
            let destination = path(sha256: digest)
            closed = true
            // Held until the caller has recorded the hash (`put` removes it).
            inFlight.add(digest)
            let kept = "\(root)/tmp/keep-\(digest)-\(UUID().uuidString)"
            let keeping: Bool
            do {
                keeping = try await BlockingIO.run {
                    let synced = fsync(fd)
                    let code = errno
                    _ = Platform.close(fd)
                    guard synced == 0 else { throw QuillError.posix("syncing", path: temporary, errno: code) }
                    try Self.moveIntoPlace(temporary, destination)
                    // A filesystem without hard links keeps nothing: the grace period alone protects the bytes.
                    return link(destination, kept) == 0
                }
            } catch {
                inFlight.remove(digest)
                throw error
            }
            return (StoredBlob(sha256: digest, size: received), keeping ? kept : nil)
        } catch {
            if !closed { _ = Platform.close(fd) }
            unlink(temporary)
            throw error
        }
    }

    /// Bytes that differ from what the record announced conflict with the record's state (409): the same
    /// body would be right for a record that announced it.
    private static func verify(_ digest: String, _ size: Int64, _ expected: BlobExpectation) throws {
        if let announced = expected.size, announced != size {
            throw QuillError(
                .conflict,
                "the upload has \(size) bytes but the record announced \(announced); upload the whole file again"
            )
        }
        if let sha256 = expected.sha256, sha256 != digest {
            throw QuillError(
                .conflict,
                "the uploaded bytes have SHA-256 \(digest) but the record announced \(sha256); the file changed or was cut, upload it again"
            )
        }
    }

    private static func check(_ received: Int64, _ limits: BlobLimits) throws {
        if received > limits.maximumBytes {
            throw QuillError(
                .artifactTooLarge,
                "the file is larger than this server's limit of \(limits.maximumBytes) bytes per artifact; split it or ask the operator to raise --max-artifact-mib"
            )
        }
        if let remaining = limits.quotaRemaining, received > remaining {
            throw QuillError(
                .quotaExceeded,
                "the namespace's artifact quota is used up (\(max(0, remaining)) bytes left); delete runs or ask the operator to raise --quota-mib"
            )
        }
    }

    /// Hashes and writes bytes on a Dispatch thread; returns the updated hash.
    private static func append(
        _ bytes: [UInt8],
        to fd: Int32,
        path: String,
        hashing hash: SHA256
    ) async throws -> SHA256 {
        guard !bytes.isEmpty else { return hash }
        return try await BlockingIO.run {
            var hash = hash
            try bytes.withUnsafeBytes { raw in
                hash.update(raw)
                var offset = 0
                while offset < raw.count {
                    let written = write(fd, raw.baseAddress?.advanced(by: offset), raw.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        throw QuillError.posix("writing", path: path, errno: errno)
                    }
                    offset += written
                }
            }
            return hash
        }
    }

    /// Renames a complete temporary file to its hash's path, or drops it when that path exists.
    private static func moveIntoPlace(_ temporary: String, _ destination: String) throws {
        let folder = (destination as NSString).deletingLastPathComponent
        try makePrivateDirectory(folder)
        var info = stat()
        if stat(destination, &info) == 0 {
            unlink(temporary)
            // Fresh again: garbage collection spares blobs changed within its grace period, so bytes that
            // a new record is about to reference are not swept as unreferenced.
            utimes(destination, nil)
            return
        }
        guard rename(temporary, destination) == 0 else {
            let code = errno
            unlink(temporary)
            throw QuillError.posix("renaming into", path: destination, errno: code)
        }
        let directory = Platform.open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directory >= 0 {
            fsync(directory)
            _ = Platform.close(directory)
        }
    }
}
