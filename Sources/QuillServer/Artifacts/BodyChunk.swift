import Foundation
import NIOCore

/// A chunk of a request body as the bytes a ``QuillStore/BlobStore`` put reads, without a copy.
struct BodyChunk: ContiguousBytes {
    let buffer: ByteBuffer

    init(_ buffer: ByteBuffer) {
        self.buffer = buffer
    }

    func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try buffer.withUnsafeReadableBytes(body)
    }
}
