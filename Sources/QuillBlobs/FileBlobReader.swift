import Foundation
import QuillCore
import QuillStore

/// An open blob file; the descriptor is closed when the reader goes away, and keeps the bytes readable even
/// if the file is removed meanwhile.
final class FileBlobReader: BlobReader {
    let size: Int64
    private let descriptor: Int32
    private let path: String
    private let chunkSize: Int

    /// Opens a file, or returns `nil` when it does not exist.
    init?(path: String, chunkSize: Int = 256 << 10) throws {
        let descriptor = Platform.open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { return nil }
            throw QuillError.posix("opening", path: path, errno: errno)
        }
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            _ = Platform.close(descriptor)
            return nil
        }
        self.descriptor = descriptor
        self.path = path
        self.size = Int64(info.st_size)
        self.chunkSize = max(1, chunkSize)
    }

    deinit { _ = Platform.close(descriptor) }

    func read(_ range: ClosedRange<Int64>, consume: ([UInt8]) async throws -> Void) async throws {
        guard range.lowerBound >= 0, range.upperBound < size else {
            throw QuillError(
                .invalidArgument,
                "bytes \(range.lowerBound)-\(range.upperBound) are outside the \(size)-byte blob; ask for a range within it"
            )
        }
        var offset = range.lowerBound
        while offset <= range.upperBound {
            let count = Int(min(Int64(chunkSize), range.upperBound - offset + 1))
            let chunk = try await BlockingIO.run { [self, offset] in try self.chunk(at: offset, count: count) }
            try await consume(chunk)
            offset += Int64(chunk.count)
        }
    }

    /// Reads `count` bytes at `offset`, all of them (a file that shrank is an error).
    private func chunk(at offset: Int64, count: Int) throws -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            initialized = 0
            while initialized < count {
                let got = pread(
                    descriptor,
                    buffer.baseAddress?.advanced(by: initialized),
                    count - initialized,
                    off_t(offset) + off_t(initialized)
                )
                if got < 0 {
                    if errno == EINTR { continue }
                    throw QuillError.posix("reading", path: path, errno: errno)
                }
                if got == 0 {
                    throw QuillError(
                        .io,
                        "the blob file '\(path)' ended early; it was changed on disk, run `quill artifacts gc` and upload it again"
                    )
                }
                initialized += got
            }
        }
    }
}
