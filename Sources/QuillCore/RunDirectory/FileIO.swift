import Foundation

/// Small POSIX file helpers: whole-file reads, atomic replacement, appends and advisory locks.
package enum FileIO {
    /// Reads a whole file; `nil` when it does not exist.
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/io`` when it exists but cannot be read.
    package static func read(_ path: String) throws -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw QuillError.posix("opening", path: path, errno: errno)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw QuillError.posix("reading", path: path, errno: errno) }
        var out: [UInt8] = []
        out.reserveCapacity(Int(info.st_size))
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { Platform.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw QuillError.posix("reading", path: path, errno: errno)
            }
            if count == 0 { break }
            out.append(contentsOf: chunk[0..<count])
        }
        return out
    }

    /// Writes all bytes to a descriptor, retrying short writes and interrupts.
    package static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        var offset = 0
        while offset < bytes.count {
            let written = write(fd, bytes.baseAddress.map { $0 + offset }, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw QuillError.posix("writing", path: path, errno: errno)
            }
            offset += written
        }
    }

    /// Writes all bytes to a descriptor.
    package static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws {
        try bytes.withUnsafeBytes { try writeAll(fd, $0, path: path) }
    }

    /// Replaces a file atomically: writes a temporary file beside it, syncs it, renames it over the target
    /// and syncs the directory, so a crash leaves either the old or the new contents, never half of one.
    package static func replaceAtomically(
        _ path: String,
        with bytes: [UInt8],
        permissions: UInt16 = 0o644,
        durable: Bool = true
    ) throws {
        let temporary = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode_t(permissions))
        guard fd >= 0 else { throw QuillError.posix("creating", path: temporary, errno: errno) }
        do {
            try writeAll(fd, bytes, path: temporary)
            if durable, fsync(fd) != 0 { throw QuillError.posix("syncing", path: temporary, errno: errno) }
            close(fd)
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw QuillError.posix("renaming over", path: path, errno: code)
        }
        if durable { syncDirectory(of: path) }
    }

    /// Syncs the directory holding a path so a rename or a new file survives power loss.
    package static func syncDirectory(of path: String) {
        let directory = (path as NSString).deletingLastPathComponent
        let fd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }

    /// Appends bytes to a file, creating it when missing.
    package static func append(_ path: String, _ bytes: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw QuillError.posix("opening", path: path, errno: errno) }
        defer { close(fd) }
        try writeAll(fd, bytes, path: path)
    }

    /// Creates a directory and its parents.
    package static func makeDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw QuillError(
                .io,
                "could not create directory '\(path)'; check permissions and free space",
                underlying: error
            )
        }
    }

    /// Whether a path exists.
    package static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// Runs a body while holding an exclusive advisory lock (`flock`) on a lock file.
    ///
    /// Every Quill writer of a shared run file (`meta.json`, `metrics.jsonl`) takes the run's lock first,
    /// so a `quill run` parent and the program it runs can both update the run safely.
    package static func withLock<T>(_ lockPath: String, _ body: () throws -> T) throws -> T {
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw QuillError.posix("opening lock", path: lockPath, errno: errno) }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            if errno != EINTR { throw QuillError.posix("locking", path: lockPath, errno: errno) }
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }

    /// Every regular file under `root` (followed into subfolders), as `/`-separated paths relative to it with
    /// their sizes, sorted by path; a missing folder has none.
    package static func regularFiles(under root: String) -> [(path: String, size: Int64)] {
        guard let enumerator = FileManager.default.enumerator(atPath: root) else { return [] }
        var files: [(path: String, size: Int64)] = []
        while let relative = enumerator.nextObject() as? String {
            var info = stat()
            guard stat(root + "/" + relative, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
            files.append((relative, Int64(info.st_size)))
        }
        return files.sorted { $0.path < $1.path }
    }
}
