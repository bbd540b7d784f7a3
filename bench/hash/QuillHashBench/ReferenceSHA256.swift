// Quill's own pure-Swift SHA-256 as it was before issue 10 moved `QuillCore.SHA256` onto swift-crypto, kept
// here only so `quill-hash-bench` can measure the two side by side. Not used by Quill itself.
import Foundation

/// The former `QuillCore.SHA256`: an incremental SHA-256 hash (FIPS 180-4), in pure Swift.
///
/// Feed bytes in as many pieces as you like, then read the digest. Whole 64-byte blocks are hashed straight
/// from the caller's memory; only the tail of a piece is copied, into a fixed 64-byte buffer, so hashing a
/// large file costs no allocation per block. Quill stores artifacts by this hash, and cached pipeline steps
/// use it as their content hash.
///
/// ```swift
/// var hash = ReferenceSHA256()
/// hash.update(Array("ab".utf8))
/// hash.update(Array("c".utf8))
/// print(hash.hexDigest())  // ba7816bf…f20015ad
/// ```
struct ReferenceSHA256: Sendable {
    private typealias Words = (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32)
    private typealias Block = (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)

    private var state: Words = (
        0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19
    )
    private var pending: Block = (0, 0, 0, 0, 0, 0, 0, 0)
    private var pendingCount = 0
    private var length: UInt64 = 0

    /// The number of bytes hashed so far.
    var byteCount: UInt64 { length }

    /// Creates an empty hash.
    init() {}

    /// Adds bytes to the hash.
    ///
    /// - Parameter bytes: The bytes, in any number of pieces across calls.
    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        length &+= UInt64(bytes.count)
        var words = state
        var buffer = pending
        var count = pendingCount
        Self.roundConstants.withUnsafeBufferPointer { constants in
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { schedule in
                withUnsafeMutableBytes(of: &buffer) { partial in
                    var offset = 0
                    if count > 0 {
                        let take = min(64 - count, bytes.count)
                        UnsafeMutableRawBufferPointer(rebasing: partial[count..<count + take])
                            .copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[0..<take]))
                        count += take
                        offset = take
                        guard count == 64 else { return }
                        Self.compress(&words, UnsafeRawBufferPointer(partial), 0, schedule, constants)
                        count = 0
                    }
                    while bytes.count - offset >= 64 {
                        Self.compress(&words, bytes, offset, schedule, constants)
                        offset += 64
                    }
                    if offset < bytes.count {
                        let rest = bytes.count - offset
                        UnsafeMutableRawBufferPointer(rebasing: partial[0..<rest])
                            .copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset...]))
                        count = rest
                    }
                }
            }
        }
        state = words
        pending = buffer
        pendingCount = count
    }

    /// Adds bytes to the hash.
    ///
    /// - Parameter bytes: The bytes; contiguous collections (arrays, `Data`, slices) are read in place.
    mutating func update<Bytes: Sequence<UInt8>>(_ bytes: Bytes) {
        let done: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            update(UnsafeRawBufferPointer(buffer))
        }
        if done == nil {
            Array(bytes).withUnsafeBytes { update($0) }
        }
    }

    /// The 32-byte digest of everything added so far. The hash itself is unchanged, so more bytes may follow.
    func finalize() -> [UInt8] {
        var copy = self
        let bits = length &* 8
        var padding: [UInt8] = [0x80]
        let used = (pendingCount + 1) % 64
        padding += [UInt8](repeating: 0, count: used <= 56 ? 56 - used : 120 - used)
        for shift in stride(from: 56, through: 0, by: -8) { padding.append(UInt8(truncatingIfNeeded: bits >> shift)) }
        copy.update(padding)
        var digest: [UInt8] = []
        digest.reserveCapacity(32)
        withUnsafeBytes(of: copy.state) { raw in
            for word in raw.bindMemory(to: UInt32.self) {
                for shift in stride(from: 24, through: 0, by: -8) {
                    digest.append(UInt8(truncatingIfNeeded: word >> shift))
                }
            }
        }
        return digest
    }

    /// The digest of everything added so far as 64 lowercase hexadecimal characters.
    func hexDigest() -> String {
        Self.hex(finalize())
    }

    /// The SHA-256 of some bytes, as lowercase hexadecimal.
    static func hex<Bytes: Sequence<UInt8>>(of bytes: Bytes) -> String {
        var hash = ReferenceSHA256()
        hash.update(bytes)
        return hash.hexDigest()
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

    @inline(__always)
    private static func rotate(_ value: UInt32, _ count: UInt32) -> UInt32 {
        (value >> count) | (value << (32 - count))
    }

    /// Hashes the 64-byte block at `offset` of `bytes` into `state`.
    private static func compress(
        _ state: inout Words,
        _ bytes: UnsafeRawBufferPointer,
        _ offset: Int,
        _ w: UnsafeMutableBufferPointer<UInt32>,
        _ k: UnsafeBufferPointer<UInt32>
    ) {
        for index in 0..<16 {
            w[index] = UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: offset + index * 4, as: UInt32.self))
        }
        for index in 16..<64 {
            let x = w[index - 15]
            let y = w[index - 2]
            let s0 = rotate(x, 7) ^ rotate(x, 18) ^ (x >> 3)
            let s1 = rotate(y, 17) ^ rotate(y, 19) ^ (y >> 10)
            w[index] = w[index - 16] &+ s0 &+ w[index - 7] &+ s1
        }
        var (a, b, c, d, e, f, g, h) = state
        for index in 0..<64 {
            let s1 = rotate(e, 6) ^ rotate(e, 11) ^ rotate(e, 25)
            let choice = (e & f) ^ (~e & g)
            let t1 = h &+ s1 &+ choice &+ k[index] &+ w[index]
            let s0 = rotate(a, 2) ^ rotate(a, 13) ^ rotate(a, 22)
            let majority = (a & b) ^ (a & c) ^ (b & c)
            let t2 = s0 &+ majority
            h = g
            g = f
            f = e
            e = d &+ t1
            d = c
            c = b
            b = a
            a = t1 &+ t2
        }
        state = (
            state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d, state.4 &+ e, state.5 &+ f, state.6 &+ g,
            state.7 &+ h
        )
    }

    private static let roundConstants: [UInt32] = [
        0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
        0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
        0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
        0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
        0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
        0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
        0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
        0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
    ]
}
