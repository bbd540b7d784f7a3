import Crypto
import Foundation

/// An incremental SHA-256 hash (FIPS 180-4), computed by swift-crypto: BoringSSL on Linux, which uses the
/// CPU's SHA extensions where it has them (about 1.3 GiB per CPU second on the project's machine, six times
/// Quill's former pure-Swift code; `bench/hash`), and CryptoKit on Apple platforms.
///
/// Feed bytes in as many pieces as you like, then read the digest. Bytes are hashed straight from the
/// caller's memory, so hashing a large file costs no allocation per piece. Quill stores artifacts by this
/// hash, and cached pipeline steps use it as their content hash.
///
/// ```swift
/// var hash = SHA256()
/// hash.update(Array("ab".utf8))
/// hash.update(Array("c".utf8))
/// print(hash.hexDigest())  // ba7816bf…f20015ad
/// ```
public struct SHA256: Sendable {
    private var hasher = Crypto.SHA256()
    private var length: UInt64 = 0

    /// The number of bytes hashed so far.
    public var byteCount: UInt64 { length }

    /// Creates an empty hash.
    public init() {}

    /// Adds bytes to the hash.
    ///
    /// - Parameter bytes: The bytes, in any number of pieces across calls.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        length &+= UInt64(bytes.count)
        hasher.update(bufferPointer: bytes)
    }

    /// Adds bytes to the hash.
    ///
    /// - Parameter bytes: The bytes; contiguous collections (arrays, `Data`, slices) are read in place.
    public mutating func update<Bytes: Sequence<UInt8>>(_ bytes: Bytes) {
        let done: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            update(UnsafeRawBufferPointer(buffer))
        }
        if done == nil {
            Array(bytes).withUnsafeBytes { update($0) }
        }
    }

    /// The 32-byte digest of everything added so far. The hash itself is unchanged, so more bytes may follow.
    public func finalize() -> [UInt8] {
        hasher.finalize().withUnsafeBytes { Array($0) }
    }

    /// The digest of everything added so far as 64 lowercase hexadecimal characters.
    public func hexDigest() -> String {
        Self.hex(finalize())
    }

    /// The SHA-256 of some bytes, as lowercase hexadecimal.
    public static func hex<Bytes: Sequence<UInt8>>(of bytes: Bytes) -> String {
        var hash = SHA256()
        hash.update(bytes)
        return hash.hexDigest()
    }

    /// The SHA-256 of a file's contents, read 1 MiB at a time, as lowercase hexadecimal, with the file's size.
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/io`` when the file cannot be read.
    public static func hex(ofFileAt path: String) throws -> (sha256: String, size: Int64) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw QuillError.posix("opening", path: path, errno: errno) }
        defer { close(fd) }
        var hash = SHA256()
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { chunk.deallocate() }
        while true {
            let count = read(fd, chunk.baseAddress, chunk.count)
            if count < 0 {
                if errno == EINTR { continue }
                throw QuillError.posix("reading", path: path, errno: errno)
            }
            if count == 0 { break }
            hash.update(UnsafeRawBufferPointer(rebasing: chunk[0..<count]))
        }
        return (hash.hexDigest(), Int64(hash.byteCount))
    }

    /// Whether a text is a SHA-256 in lowercase hexadecimal (64 characters of `0-9a-f`).
    public static func isHexDigest(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
