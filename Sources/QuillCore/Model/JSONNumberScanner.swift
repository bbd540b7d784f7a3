/// Finds where a JSON number ends, by the strict grammar of RFC 8259, for the hand-written fast paths that
/// read metric rows (the SDK's sync transcoder and the server's batch decoder) without building a tree.
public enum JSONNumberScanner: Sendable {
    /// The end of the number that starts at `start` in `bytes`, and whether it is an integer (no fraction or
    /// exponent); `nil` when no valid number starts there.
    @inlinable
    public static func scan(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> (end: Int, integer: Bool)? {
        var index = start
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
        return (index, integer)
    }
}
