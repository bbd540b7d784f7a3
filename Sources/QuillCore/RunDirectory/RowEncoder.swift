/// Encodes metric rows as `metrics.jsonl` lines into a reusable byte buffer, as fast as the writer thread
/// can go: no intermediate strings except for the shortest-digits text of each double, and the
/// `YYYY-MM-DDTHH:MM:SS.` part of the timestamp recomputed only when the second changes.
///
/// Not thread-safe: one encoder belongs to one writer thread.
// Not Sendable: owns a raw buffer used by one thread.
package final class RowEncoder {
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// Bytes encoded since the last ``reset()``.
    package private(set) var count = 0
    private var cachedSecond: Int64 = .min
    private var secondPrefix: [UInt8] = []

    /// Creates an encoder with an initial capacity in bytes.
    package init(capacity: Int = 1 << 20) {
        self.capacity = max(capacity, 256)
        self.base = .allocate(capacity: self.capacity)
    }

    deinit {
        base.deallocate()
    }

    /// Forgets the encoded bytes, keeping the buffer.
    package func reset() {
        count = 0
        if capacity > 16 << 20 {
            base.deallocate()
            capacity = 1 << 20
            base = .allocate(capacity: capacity)
        }
    }

    /// Calls `body` with the encoded bytes.
    package func withBytes<T>(_ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    /// The encoded bytes, copied.
    package var bytes: [UInt8] { Array(UnsafeBufferPointer(start: base, count: count)) }

    @inline(__always)
    private func reserve(_ extra: Int) {
        if count + extra > capacity { grow(count + extra) }
    }

    private func grow(_ needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBase.update(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    @inline(__always)
    private func put(_ byte: UInt8) {
        base[count] = byte
        count += 1
    }

    @inline(__always)
    private func put(_ text: StaticString) {
        let length = text.utf8CodeUnitCount
        (base + count).update(from: text.utf8Start, count: length)
        count += length
    }

    @inline(__always)
    private func putInteger(_ value: Int) {
        var magnitude = value.magnitude
        if value < 0 { put(UInt8(ascii: "-")) }
        var digits = 1
        var probe = magnitude
        while probe >= 10 {
            probe /= 10
            digits += 1
        }
        var position = count + digits - 1
        repeat {
            base[position] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
            magnitude /= 10
            position -= 1
        } while magnitude > 0
        count += digits
    }

    @inline(__always)
    private func putFixed(_ value: Int64, digits: Int) {
        var rest = value
        var position = count + digits - 1
        for _ in 0..<digits {
            base[position] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
            rest /= 10
            position -= 1
        }
        count += digits
    }

    /// Appends a JSON string literal: ASCII without escapes is copied as is; anything else goes the slow way.
    @inline(__always)
    private func putString(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            reserve(utf8.count * 6 + 2)
            put(UInt8(ascii: "\""))
            for byte in utf8 {
                if byte >= 0x20 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") {
                    put(byte)
                } else {
                    putEscaped(byte)
                }
            }
            put(UInt8(ascii: "\""))
        }
    }

    private func putEscaped(_ byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\""): put("\\\"")
        case UInt8(ascii: "\\"): put("\\\\")
        case UInt8(ascii: "\n"): put("\\n")
        case UInt8(ascii: "\r"): put("\\r")
        case UInt8(ascii: "\t"): put("\\t")
        default:
            put("\\u00")
            let hex: StaticString = "0123456789abcdef"
            put(hex.utf8Start[Int(byte >> 4)])
            put(hex.utf8Start[Int(byte & 0xF)])
        }
    }

    @inline(__always)
    private func putDouble(_ value: Double) {
        reserve(32)
        if value.isFinite {
            var text = value.description
            text.withUTF8 { utf8 in
                if let source = utf8.baseAddress {
                    (base + count).update(from: source, count: utf8.count)
                    count += utf8.count
                }
            }
        } else if value.isNaN {
            put("\"NaN\"")
        } else if value > 0 {
            put("\"Infinity\"")
        } else {
            put("\"-Infinity\"")
        }
    }

    @inline(__always)
    private func putTimestamp(_ microseconds: Int64) {
        var second = microseconds / 1_000_000
        var micros = microseconds % 1_000_000
        if micros < 0 {
            micros += 1_000_000
            second -= 1
        }
        if second != cachedSecond {
            var prefix: [UInt8] = []
            Timestamp.append(microseconds: second * 1_000_000, into: &prefix)
            secondPrefix = Array(prefix.prefix(20))
            cachedSecond = second
        }
        secondPrefix.withUnsafeBufferPointer { prefix in
            if let source = prefix.baseAddress {
                (base + count).update(from: source, count: prefix.count)
                count += prefix.count
            }
        }
        putFixed(micros, digits: 6)
        put(UInt8(ascii: "Z"))
    }

    /// Appends one row: `{"_idx":…,"_timestamp":"…","step":…,"key":value,…}` and a newline.
    package func appendRow(index: Int, microseconds: Int64, step: Int?, values: [String: Double]) {
        reserve(96)
        put(#"{"_idx":"#)
        putInteger(index)
        put(#","_timestamp":""#)
        putTimestamp(microseconds)
        put(UInt8(ascii: "\""))
        if let step {
            put(#","step":"#)
            putInteger(step)
        }
        for (key, value) in values {
            reserve(1)
            put(UInt8(ascii: ","))
            putString(key)
            reserve(1)
            put(UInt8(ascii: ":"))
            putDouble(value)
        }
        reserve(2)
        put(UInt8(ascii: "}"))
        put(UInt8(ascii: "\n"))
    }
}
