package import Foundation

/// A file's bytes, 1 MiB at a time: what ``BlobStore/put(_:limits:expected:then:)`` streams from a file (the
/// server's embedded uploads, `quill import`).
package struct FileChunks: AsyncSequence {
    /// Each chunk.
    package typealias Element = Data
    /// The open file, read from its current offset to its end.
    package let handle: FileHandle

    /// Chunks of `handle`.
    package init(handle: FileHandle) {
        self.handle = handle
    }

    /// Reads the next chunk; `nil` at the end of the file.
    package struct AsyncIterator: AsyncIteratorProtocol {
        let handle: FileHandle

        /// The next chunk, or `nil` at the end.
        package mutating func next() async throws -> Data? {
            let data = try handle.read(upToCount: 1 << 20)
            return data.flatMap { $0.isEmpty ? nil : $0 }
        }
    }

    /// An iterator from the file's current offset.
    package func makeAsyncIterator() -> AsyncIterator { AsyncIterator(handle: handle) }
}

/// Bytes already in memory, as one chunk (none when empty).
package struct DataChunks: AsyncSequence {
    /// Each chunk.
    package typealias Element = Data
    /// The bytes.
    package let data: Data

    /// One chunk of `data`.
    package init(data: Data) {
        self.data = data
    }

    /// Gives the bytes once.
    package struct AsyncIterator: AsyncIteratorProtocol {
        var data: Data?

        /// The bytes the first time, then `nil`.
        package mutating func next() async throws -> Data? {
            defer { data = nil }
            return data.flatMap { $0.isEmpty ? nil : $0 }
        }
    }

    /// An iterator over the one chunk.
    package func makeAsyncIterator() -> AsyncIterator { AsyncIterator(data: data) }
}
