/// A run's identifier: eight lowercase letters and digits, unique under the Quill home.
///
/// Runs are named on the command line by id, by a unique prefix of the id, or by name.
public struct RunID: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The id's text.
    public let rawValue: String

    /// Wraps an existing id. Any non-empty text of letters, digits, `-` and `_` is accepted, so ids of runs
    /// written by other tools (`local-20261124-101500-ab12cd`) can be read.
    public init?(_ rawValue: String) {
        guard !rawValue.isEmpty, rawValue.count <= 128,
            rawValue.utf8.allSatisfy({ byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                    || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
            }), rawValue != ".", rawValue != ".."
        else { return nil }
        self.rawValue = rawValue
    }

    /// A new random id.
    public static func random() -> RunID {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        var generator = SystemRandomNumberGenerator()
        let text = String((0..<8).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
        guard let id = RunID(text) else { preconditionFailure("generated ids use the id alphabet") }
        return id
    }

    /// The id's text.
    public var description: String { rawValue }

    /// Orders ids by their text.
    public static func < (lhs: RunID, rhs: RunID) -> Bool { lhs.rawValue < rhs.rawValue }
}
