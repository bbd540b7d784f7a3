package import Foundation
import QuillCore
package import QuillStore
import ServiceLifecycle

/// Artifact bytes as content-addressed files on a local or shared file system:
/// `<root>/sha256/ab/<the other 62 hex digits>`.
///
/// A put streams into a temporary file in `<root>/tmp`, hashed as it arrives, and is renamed into place only
/// once complete and `fsync`ed; when a file of that hash already exists, the temporary file is dropped (and
/// the existing file touched, so garbage collection's grace period protects it), so the same bytes are stored
/// once however often they are logged. File names are always made from the hash, never from anything a client
/// sends. Blocking file calls run on Dispatch threads, in writes of about 1 MiB. Folders are made `0700` and
/// files `0600`: artifact bytes are private data.
///
/// One server process owns a folder: opening it removes what an earlier process left in `tmp/` (and puts back
/// bytes a reclaim had parked there). `quill artifacts gc` may sweep it meanwhile from another process.
package struct FileBlobStore: BlobStore {
    /// The folder holding `sha256/` and `tmp/`.
    package let root: String
    /// Bytes gathered before one write to the temporary file.
    package var writeSize = 1 << 20
    /// Bytes read per chunk of a download.
    package var readSize = 256 << 10
    /// Hashes stored but not yet recorded, shared by every copy of this value.
    let inFlight = InFlightHashes()

    /// Opens the store of `root` for a server, removing temporary files an earlier process left there; the
    /// folders are made private (`0700`, existing ones too) or on first use.
    ///
    /// Replicas of a server may share the folder, so only files unchanged for `staleAfter` seconds are taken
    /// for leftovers: another replica's upload in flight writes its file as bytes arrive. Bytes parked by a
    /// reclaim or kept for a put (see ``put(_:limits:expected:then:)``) that did not finish go back to their
    /// place when it is empty (garbage collection decides about them later).
    package init(root: String, staleAfter: TimeInterval = 86_400) {
        self.root = root
        let cutoff = Date().addingTimeInterval(-staleAfter)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: root + "/tmp")) ?? [] {
            let file = root + "/tmp/" + name
            guard let found = Self.regularFile(file), found.modified < cutoff else { continue }
            let parts = name.split(separator: "-")
            if parts.count >= 2, parts[0] == "reclaim" || parts[0] == "keep", SHA256.isHexDigest(String(parts[1])) {
                let destination = Self.path(root: root, sha256: String(parts[1]))
                let folder = (destination as NSString).deletingLastPathComponent
                if !FileIO.exists(destination), (try? Self.makePrivateDirectory(folder)) != nil,
                    rename(file, destination) == 0
                {
                    continue
                }
            }
            unlink(file)
        }
        for folder in [root, root + "/sha256", root + "/tmp"] where FileIO.exists(folder) {
            chmod(folder, 0o700)
        }
    }

    /// Opens the store of `root` for a one-shot command (`quill artifacts gc`) that may run beside a server:
    /// leaves `tmp/`, which holds the server's uploads in flight, alone.
    package init(sharing root: String) {
        self.root = root
    }

    /// The file holding the bytes of a hash.
    package func path(sha256: String) -> String {
        Self.path(root: root, sha256: sha256)
    }

    /// The file holding the bytes of a hash in the blob folder `root`.
    package static func path(root: String, sha256: String) -> String {
        let utf8 = Array(sha256.utf8)
        let prefix = String(decoding: utf8.prefix(2), as: UTF8.self)
        let rest = String(decoding: utf8.dropFirst(2), as: UTF8.self)
        return "\(root)/sha256/\(prefix)/\(rest)"
    }

    /// Has nothing to keep alive: waits for the graceful shutdown (or cancellation) and returns.
    package func run() async throws {
        try? await gracefulShutdown()
    }

    package func size(sha256: String) async throws -> Int64? {
        guard SHA256.isHexDigest(sha256) else { return nil }
        return Self.regularFile(path(sha256: sha256))?.size
    }

    package func open(sha256: String) async throws -> (any BlobReader)? {
        guard SHA256.isHexDigest(sha256) else { return nil }
        let file = path(sha256: sha256)
        let chunkSize = readSize
        return try await BlockingIO.run { try FileBlobReader(path: file, chunkSize: chunkSize) }
    }

    /// Removes the bytes of a hash that no record holds, unless a put is recording them: parks the file in
    /// `tmp/` first, then asks `isStored` and the in-flight puts again, and puts it back when either says the
    /// bytes are wanted (identical bytes, so a copy a put placed meanwhile is simply overwritten).
    package func reclaim(sha256: String, isStored: () async throws -> Bool) async throws -> Bool {
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

    /// Every file under `sha256/` named by a hash; never looks in `tmp/`, where puts in flight live.
    package func list() async throws -> [BlobListing] {
        let root = root
        return try await BlockingIO.run {
            let manager = FileManager.default
            let base = root + "/sha256"
            var listed: [BlobListing] = []
            for prefix in (try? manager.contentsOfDirectory(atPath: base)) ?? [] where prefix.count == 2 {
                for rest in (try? manager.contentsOfDirectory(atPath: base + "/" + prefix)) ?? [] {
                    let hash = prefix + rest
                    guard SHA256.isHexDigest(hash), let file = Self.regularFile("\(base)/\(prefix)/\(rest)") else {
                        continue
                    }
                    listed.append(BlobListing(sha256: hash, size: file.size, modified: file.modified))
                }
            }
            return listed
        }
    }

    package func remove(sha256: String, unchangedSince cutoff: Date) async throws -> Bool {
        guard SHA256.isHexDigest(sha256) else { return false }
        let file = path(sha256: sha256)
        guard let found = Self.regularFile(file), found.modified < cutoff else { return false }
        guard unlink(file) == 0 else {
            if errno == ENOENT { return false }
            throw QuillError.posix("removing", path: file, errno: errno)
        }
        return true
    }

    /// The size and modification time of a regular file, or `nil` when there is none.
    static func regularFile(_ path: String) -> (size: Int64, modified: Date)? {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return (Int64(info.st_size), Platform.modificationDate(of: info))
    }

    /// Makes a folder (and missing parents) readable by the owner only; an existing one is left as it is.
    static func makePrivateDirectory(_ path: String) throws {
        if FileIO.exists(path) { return }
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty, parent != path { try makePrivateDirectory(parent) }
        guard mkdir(path, 0o700) == 0 || errno == EEXIST else {
            throw QuillError.posix("creating", path: path, errno: errno)
        }
    }
}
