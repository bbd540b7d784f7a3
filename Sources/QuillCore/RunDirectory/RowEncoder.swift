/// Encodes metric rows as `metrics.jsonl` lines into a reusable byte buffer, as fast as the writer thread
/// can go: one capacity check per row, writes through a raw pointer held in a local (no exclusivity
/// checks per byte), no intermediate strings except the shortest-digits text of each double, and the
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
    private let secondPrefix: UnsafeMutablePointer<UInt8>
    private static let prefixLength = 20

    /// Creates an encoder with an initial capacity in bytes.
    package init(capacity: Int = 1 << 20) {
        self.capacity = max(capacity, 256)
        self.base = .allocate(capacity: self.capacity)
        self.secondPrefix = .allocate(capacity: Self.prefixLength)
        secondPrefix.initialize(repeating: UInt8(ascii: "0"), count: Self.prefixLength)
    }

    deinit {
        base.deallocate()
        secondPrefix.deallocate()
    }

    /// Forgets the encoded bytes, keeping the buffer (or shrinking it when a huge row grew it).
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

    /// Appends one row: `{"_idx":…,"_timestamp":"…","step":…,"key":value,…}` and a newline.
    package func appendRow(index: Int, microseconds: Int64, step: Int?, values: [String: Double]) {
        encode(index: index, microseconds: microseconds, step: step, values: values)
    }

    /// Appends one row whose keys are written in the order given.
    package func appendRow(index: Int, microseconds: Int64, step: Int?, pairs: KeyValuePairs<String, Double>) {
        encode(index: index, microseconds: microseconds, step: step, values: pairs)
    }

    /// Appends one row whose keys are written in the order of the array (a row built at run time, such as
    /// one handed over by the C ABI as key and value arrays).
    package func appendRow(index: Int, microseconds: Int64, step: Int?, list: [(key: String, value: Double)]) {
        encode(index: index, microseconds: microseconds, step: step, values: list)
    }

    @inline(__always)
    private func encode<Values: Sequence>(index: Int, microseconds: Int64, step: Int?, values: Values)
    where Values.Element == (key: String, value: Double) {
        // An upper bound of the row's size: the fixed part, then per key its escaped name and a double.
        var bound = 96
        for (key, _) in values { bound += key.utf8.count * 6 + 36 }
        if count + bound > capacity { grow(count + bound) }

        var out = base + count
        out = Self.put(#"{"_idx":"#, at: out)
        out = Self.putInteger(index, at: out)
        out = Self.put(#","_timestamp":""#, at: out)
        out = putTimestamp(microseconds, at: out)
        out.pointee = UInt8(ascii: "\"")
        out += 1
        if let step {
            out = Self.put(#","step":"#, at: out)
            out = Self.putInteger(step, at: out)
        }
        for (key, value) in values {
            out.pointee = UInt8(ascii: ",")
            // Keys go to the file in NFC, as the server stores them (ASCII keys pass through unchanged).
            out = Self.putString(MetricBounds.normalizedKey(key), at: out + 1)
            out.pointee = UInt8(ascii: ":")
            out = Self.putDouble(value, at: out + 1)
        }
        out[0] = UInt8(ascii: "}")
        out[1] = UInt8(ascii: "\n")
        count = out + 2 - base
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
    private static func put(_ text: StaticString, at out: UnsafeMutablePointer<UInt8>) -> UnsafeMutablePointer<UInt8> {
        let length = text.utf8CodeUnitCount
        out.update(from: text.utf8Start, count: length)
        return out + length
    }

    @inline(__always)
    private static func putInteger(_ value: Int, at start: UnsafeMutablePointer<UInt8>) -> UnsafeMutablePointer<UInt8> {
        var out = start
        var magnitude = value.magnitude
        if value < 0 {
            out.pointee = UInt8(ascii: "-")
            out += 1
        }
        var digits = 1
        var probe = magnitude
        while probe >= 10 {
            probe /= 10
            digits += 1
        }
        var position = digits - 1
        repeat {
            out[position] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
            magnitude /= 10
            position -= 1
        } while magnitude > 0
        return out + digits
    }

    /// Writes a JSON string literal: bytes that need no escape are copied as they are.
    @inline(__always)
    private static func putString(_ text: String, at start: UnsafeMutablePointer<UInt8>) -> UnsafeMutablePointer<UInt8>
    {
        var text = text
        return text.withUTF8 { utf8 in
            var out = start
            out.pointee = UInt8(ascii: "\"")
            out += 1
            for byte in utf8 {
                if byte >= 0x20 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") {
                    out.pointee = byte
                    out += 1
                } else {
                    out = putEscaped(byte, at: out)
                }
            }
            out.pointee = UInt8(ascii: "\"")
            return out + 1
        }
    }

    private static func putEscaped(_ byte: UInt8, at out: UnsafeMutablePointer<UInt8>) -> UnsafeMutablePointer<UInt8> {
        switch byte {
        case UInt8(ascii: "\""): return put("\\\"", at: out)
        case UInt8(ascii: "\\"): return put("\\\\", at: out)
        case UInt8(ascii: "\n"): return put("\\n", at: out)
        case UInt8(ascii: "\r"): return put("\\r", at: out)
        case UInt8(ascii: "\t"): return put("\\t", at: out)
        default:
            let hex: StaticString = "0123456789abcdef"
            let next = put("\\u00", at: out)
            next[0] = hex.utf8Start[Int(byte >> 4)]
            next[1] = hex.utf8Start[Int(byte & 0xF)]
            return next + 2
        }
    }

    @inline(__always)
    private static func putDouble(_ value: Double, at out: UnsafeMutablePointer<UInt8>) -> UnsafeMutablePointer<UInt8> {
        if value.isFinite {
            var text = value.description
            return text.withUTF8 { utf8 in
                guard let source = utf8.baseAddress else { return out }
                out.update(from: source, count: utf8.count)
                return out + utf8.count
            }
        }
        if value.isNaN { return put("\"NaN\"", at: out) }
        return value > 0 ? put("\"Infinity\"", at: out) : put("\"-Infinity\"", at: out)
    }

    @inline(__always)
    private func putTimestamp(_ microseconds: Int64, at out: UnsafeMutablePointer<UInt8>) -> UnsafeMutablePointer<UInt8>
    {
        var second = microseconds / 1_000_000
        var micros = microseconds % 1_000_000
        if micros < 0 {
            micros += 1_000_000
            second -= 1
        }
        if second != cachedSecond {
            var text: [UInt8] = []
            Timestamp.append(microseconds: second * 1_000_000, into: &text)
            for index in 0..<Self.prefixLength { secondPrefix[index] = text[index] }
            cachedSecond = second
        }
        out.update(from: secondPrefix, count: Self.prefixLength)
        var position = Self.prefixLength + 5
        for _ in 0..<6 {
            out[position] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: micros % 10)
            micros /= 10
            position -= 1
        }
        out[Self.prefixLength + 6] = UInt8(ascii: "Z")
        return out + Self.prefixLength + 7
    }
}
