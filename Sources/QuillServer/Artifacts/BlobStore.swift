import Foundation
import NIOCore
import NIOPosix
import QuillCore
import Synchronization

/// Artifact bytes as content-addressed files: `<root>/sha256/ab/<the other 62 hex digits>`.
///
/// An upload streams into a temporary file in `<root>/tmp`, hashed as it arrives, and is renamed into place
/// only once complete and `fsync`ed; when a file of that hash already exists, the temporary file is
/// dropped, so the same bytes are stored once however often they are logged. File names are always made
/// from the hash, never from anything a client sends. Blocking file calls run on NIO's thread pool, in
/// writes of about 1 MiB. Folders are made `0700` and files `0600`: artifact bytes are private data.
///
/// A stored hash stays *in flight* (``InFlight``) from the moment its bytes are in place until the route has
/// recorded it, so ``reclaim(sha256:isStored:)`` never removes bytes a record is about to name.
package struct BlobStore: Sendable {
    /// The folder holding `sha256/` and `tmp/`.
    let root: String
    /// Bytes gathered before one write to the temporary file.
    var writeSize = 1 << 20
    /// Hashes stored but not yet recorded, shared by every copy of this value.
    let inFlight = InFlight()

    /// The hashes of uploads whose bytes are in place but whose record is not written yet, with a count
    /// for concurrent uploads of the same bytes.
    final class InFlight: Sendable {
        private let hashes = Mutex([String: Int]())

        func add(_ hash: String) {
            hashes.withLock { $0[hash, default: 0] += 1 }
        }

        /// Ends one upload's hold on a hash.
        func remove(_ hash: String) {
            hashes.withLock { state in
                let left = (state[hash] ?? 0) - 1
                state[hash] = left > 0 ? left : nil
            }
        }

        func contains(_ hash: String) -> Bool {
            hashes.withLock { $0[hash] != nil }
        }
    }

    /// What an upload may take.
    struct Limits: Sendable {
        /// The largest file accepted.
        var maximumBytes: Int64
        /// The bytes left in the namespace's quota, or `nil` for no quota.
        var quotaRemaining: Int64?
        /// Claims each chunk's bytes from the namespace's quota as it arrives; `false` refuses the upload.
        var claim: (@Sendable (Int64) -> Bool)?
    }

    /// The expected size and hash of an upload, as the client announced them.
    struct Expectation: Sendable {
        /// The announced size.
        var size: Int64?
        /// The announced SHA-256, lowercase hexadecimal.
        var sha256: String?
    }

    /// Opens the store, removing temporary files left by an earlier process; the folders are made private
    /// (`0700`, existing ones too) or on first use.
    init(root: String) {
        self.root = root
        // One server owns a data folder, so nothing in tmp/ is in flight at start-up. Bytes parked by a
        // reclaim that did not finish go back (garbage collection decides about them later).
        for name in (try? FileManager.default.contentsOfDirectory(atPath: root + "/tmp")) ?? [] {
            let parts = name.split(separator: "-")
            if parts.count >= 2, parts[0] == "reclaim", SHA256.isHexDigest(String(parts[1])) {
                let destination = Self.path(root: root, sha256: String(parts[1]))
                let folder = (destination as NSString).deletingLastPathComponent
                if !FileIO.exists(destination), (try? Self.makePrivateDirectory(folder)) != nil,
                    rename(root + "/tmp/" + name, destination) == 0
                {
                    continue
                }
            }
            unlink(root + "/tmp/" + name)
        }
        for folder in [root, root + "/sha256", root + "/tmp"] where FileIO.exists(folder) {
            chmod(folder, 0o700)
        }
    }

    /// The file holding the bytes of a hash.
    func path(sha256: String) -> String {
        Self.path(root: root, sha256: sha256)
    }

    /// The file holding the bytes of a hash in the artifact folder `root`.
    package static func path(root: String, sha256: String) -> String {
        let utf8 = Array(sha256.utf8)
        let prefix = String(decoding: utf8.prefix(2), as: UTF8.self)
        let rest = String(decoding: utf8.dropFirst(2), as: UTF8.self)
        return "\(root)/sha256/\(prefix)/\(rest)"
    }

    /// Removes the bytes of a hash that no record holds, unless an upload is recording them: parks the file
    /// in `tmp/` first, then asks `isStored` and ``InFlight`` again, and puts it back when either says the
    /// bytes are wanted (identical bytes, so a copy an upload placed meanwhile is simply overwritten).
    ///
    /// - Returns: Whether the bytes are gone from disk.
    func reclaim(sha256: String, isStored: () async throws -> Bool) async throws -> Bool {
        guard SHA256.isHexDigest(sha256), !inFlight.contains(sha256), try await !isStored() else { return false }
        let file = path(sha256: sha256)
        try Self.makePrivateDirectory(root + "/tmp")
        let parked = "\(root)/tmp/reclaim-\(sha256)-\(UUID().uuidString)"
        guard rename(file, parked) == 0 else { return errno == ENOENT }
        let wanted = inFlight.contains(sha256) ? true : (try? await isStored()) != false
        if wanted {
            guard rename(parked, file) == 0 else { throw QuillError.posix("restoring", path: file, errno: errno) }
            return false
        }
        unlink(parked)
        return true
    }

    /// Makes a folder (and missing parents) readable by the owner only; an existing one is left as it is.
    private static func makePrivateDirectory(_ path: String) throws {
        if FileIO.exists(path) { return }
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty, parent != path { try makePrivateDirectory(parent) }
        guard mkdir(path, 0o700) == 0 || errno == EEXIST else {
            throw QuillError.posix("creating", path: path, errno: errno)
        }
    }

    /// The size of the stored bytes of a hash, or `nil` when they are not stored.
    func size(sha256: String) -> Int64? {
        guard SHA256.isHexDigest(sha256) else { return nil }
        var info = stat()
        guard stat(path(sha256: sha256), &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int64(info.st_size)
    }

    /// Streams bytes into the store, hashing them, and returns their hash and size.
    ///
    /// The hash returned is in flight: call `inFlight.remove(hash)` once its record is written (or given up).
    ///
    /// - Throws: ``QuillError`` with ``QuillError/Code/artifactTooLarge`` past `limits.maximumBytes`,
    ///   ``QuillError/Code/quotaExceeded`` past `limits.quotaRemaining`, ``QuillError/Code/invalidArgument``
    ///   when the bytes differ from `expected` (they are then not kept), ``QuillError/Code/io`` when writing
    ///   fails. Nothing is left behind in `tmp/` after an error.
    func store<Body: AsyncSequence>(
        _ body: Body,
        limits: Limits,
        expected: Expectation
    ) async throws -> (sha256: String, size: Int64) where Body.Element == ByteBuffer {
        try Self.makePrivateDirectory(root + "/tmp")
        let temporary = "\(root)/tmp/upload-\(UUID().uuidString)"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw QuillError.posix("creating", path: temporary, errno: errno) }
        var closed = false
        do {
            var hash = SHA256()
            var received: Int64 = 0
            var gathered = ByteBuffer()
            for try await buffer in body {
                received += Int64(buffer.readableBytes)
                try Self.check(received, limits)
                if let claim = limits.claim, !claim(Int64(buffer.readableBytes)) {
                    throw QuillError(
                        .quotaExceeded,
                        "the namespace's artifact quota is used up by stored and in-flight uploads; delete runs or ask the operator to raise --quota-mib"
                    )
                }
                var buffer = buffer
                gathered.writeBuffer(&buffer)
                if gathered.readableBytes >= writeSize {
                    hash = try await Self.append(gathered, to: fd, path: temporary, hashing: hash)
                    gathered.clear()
                }
            }
            hash = try await Self.append(gathered, to: fd, path: temporary, hashing: hash)
            let digest = hash.hexDigest()
            try Self.verify(digest, received, expected)
            let destination = path(sha256: digest)
            closed = true
            // Held until the caller has recorded the hash and calls `inFlight.remove`.
            inFlight.add(digest)
            do {
                try await NIOThreadPool.singleton.runIfActive {
                    let synced = fsync(fd)
                    let code = errno
                    close(fd)
                    guard synced == 0 else { throw QuillError.posix("syncing", path: temporary, errno: code) }
                    try Self.moveIntoPlace(temporary, destination)
                }
            } catch {
                inFlight.remove(digest)
                throw error
            }
            return (digest, received)
        } catch {
            if !closed { close(fd) }
            unlink(temporary)
            throw error
        }
    }

    /// Bytes that differ from what the record announced conflict with the record's state (409): the same
    /// body would be right for a record that announced it.
    private static func verify(_ digest: String, _ size: Int64, _ expected: Expectation) throws {
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

    private static func check(_ received: Int64, _ limits: Limits) throws {
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

    /// Hashes and writes a buffer on the thread pool; returns the updated hash.
    private static func append(
        _ buffer: ByteBuffer,
        to fd: Int32,
        path: String,
        hashing hash: SHA256
    ) async throws
        -> SHA256
    {
        guard buffer.readableBytes > 0 else { return hash }
        return try await NIOThreadPool.singleton.runIfActive {
            var hash = hash
            try buffer.withUnsafeReadableBytes { raw in
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
        let directory = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directory >= 0 {
            fsync(directory)
            close(directory)
        }
    }
}
