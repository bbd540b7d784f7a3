public import Foundation

/// A position in the bytes of a JSON text, with the steps the hand-written fast paths need (the SDK's
/// `MetricRowsWriter` and the server's batch decoder read metric rows with it, without building a tree).
///
/// Each step either consumes what it reads and returns it, or returns `nil`/`false`; a caller that gets
/// `nil` gives the text to ``JSONParser`` instead. Strings are taken only when plain (no escapes, no control
/// characters), numbers only by the strict grammar of RFC 8259.
public struct JSONByteCursor {
    /// The text.
    public let bytes: UnsafeBufferPointer<UInt8>
    /// The text's first byte.
    public let base: UnsafePointer<UInt8>
    /// The offset of the next byte to read.
    public var position = 0

    /// A cursor at the start of `bytes`, whose first byte is at `base`.
    @inlinable
    public init(bytes: UnsafeBufferPointer<UInt8>, base: UnsafePointer<UInt8>) {
        self.bytes = bytes
        self.base = base
    }

    /// Skips spaces, tabs, carriage returns and line feeds.
    @inlinable
    public mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x0A, 0x0D, 0x09: position += 1
            default: return
            }
        }
    }

    /// Skips white space, then takes `byte` when it comes next.
    @inlinable
    public mutating func take(_ byte: UInt8) -> Bool {
        skipWhitespace()
        guard position < bytes.count, bytes[position] == byte else { return false }
        position += 1
        return true
    }

    /// Takes `text` (a literal such as `null`) when it comes next.
    @inlinable
    public mutating func word(_ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard position + count <= bytes.count, memcmp(base + position, text.utf8Start, count) == 0 else {
            return false
        }
        position += count
        return true
    }

    /// A string without escapes or control characters, as the range of its content (quotes excluded).
    @inlinable
    public mutating func plainString() -> Range<Int>? {
        guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { return nil }
        let start = position + 1
        var end = start
        while end < bytes.count {
            let byte = bytes[end]
            if byte == UInt8(ascii: "\"") {
                position = end + 1
                return start..<end
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 { return nil }
            end += 1
        }
        return nil
    }

    /// A number by the strict grammar, as its byte range, and whether it is an integer (no fraction or
    /// exponent).
    @inlinable
    public mutating func number() -> (range: Range<Int>, integer: Bool)? {
        let start = position
        var index = position
        func isDigit(_ at: Int) -> Bool {
            at < bytes.count && bytes[at] >= UInt8(ascii: "0") && bytes[at] <= UInt8(ascii: "9")
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard isDigit(index) else { return nil }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if isDigit(index) { return nil }
        } else {
            while isDigit(index) { index += 1 }
        }
        var integer = true
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            integer = false
            index += 1
            guard isDigit(index) else { return nil }
            while isDigit(index) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            integer = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            guard isDigit(index) else { return nil }
            while isDigit(index) { index += 1 }
        }
        position = index
        return (start..<index, integer)
    }
}

/// A cursor points into memory its owner keeps alive; it stays on the thread that made it.
@available(*, unavailable)
extension JSONByteCursor: Sendable {}
