import Foundation
import QuillCore
import QuillTesting
import Testing

@Suite("SHA-256 over swift-crypto")
struct SHA256CryptoTests {
    /// 3 MiB and 17 bytes of pseudo-random data: more than the 1 MiB read buffer, not a whole number of blocks.
    static let bytes: [UInt8] = {
        var state: UInt64 = 0x1234_5678_9abc_def1
        return (0..<(3 << 20) + 17).map { _ in
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return UInt8(truncatingIfNeeded: state >> 32)
        }
    }()

    @Test("a file larger than the read buffer matches coreutils sha256sum, and the bytes hashed in memory")
    func largeFile() async throws {
        let temp = TemporaryDirectory("quill-sha-large")
        let path = temp.file("large.bin")
        #expect(FileManager.default.createFile(atPath: path, contents: Data(Self.bytes)))
        let result = try SHA256.hex(ofFileAt: path)
        #expect(result.size == Int64(Self.bytes.count))
        #expect(result.sha256 == SHA256.hex(of: Self.bytes))

        let output = try await BuiltProducts.run("/usr/bin/env", ["sha256sum", path])
        #expect(output.status == 0)
        #expect(output.stdout.prefix(64) == result.sha256)
    }

    @Test("arrays, Data, slices and non-contiguous sequences give one digest; byteCount counts every byte")
    func inputKinds() {
        let message = Array(Self.bytes.prefix(10_000))
        let expected = SHA256.hex(of: message)
        #expect(SHA256.hex(of: Data(message)) == expected)
        #expect(SHA256.hex(of: Self.bytes[0..<10_000]) == expected)
        #expect(SHA256.hex(of: message.lazy.map { $0 }) == expected)
        var pieces = SHA256()
        for start in stride(from: 0, to: message.count, by: 333) {
            message[start..<min(start + 333, message.count)].withUnsafeBytes { pieces.update($0) }
        }
        pieces.update(UnsafeRawBufferPointer(start: nil, count: 0))
        #expect(pieces.byteCount == 10_000)
        #expect(pieces.hexDigest() == expected)
        #expect(pieces.finalize().count == 32)
    }

    @Test("a copy of a hash in progress goes on independently of the original")
    func copies() {
        var original = SHA256()
        original.update(Array("ab".utf8))
        var copy = original
        copy.update(Array("c".utf8))
        original.update(Array("x".utf8))
        #expect(copy.hexDigest() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(original.hexDigest() == SHA256.hex(of: Array("abx".utf8)))
    }
}
