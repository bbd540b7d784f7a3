import QuillCore

/// The canonical encoding of a step configuration, which its hash is taken over.
///
/// It is JSON with one spelling for every value, so that the same configuration gives the same bytes on
/// every run, machine and release:
/// - objects: members sorted by the UTF-8 bytes of their keys, no white space: `{"a":1,"b":2}`; a
///   struct and a dictionary with the same members encode the same;
/// - arrays: `[1,2]`, in order;
/// - strings: UTF-8, with only `"` and `\` escaped as `\"` and `\\`, and control characters below U+0020
///   as `\u00xx` (lowercase hex); nothing else is escaped;
/// - integers (every Swift integer type): decimal digits, `-` for negatives;
/// - floating-point numbers (`Double`; `Float` is widened to `Double` first): the shortest text that
///   reads back as the same number, as Swift's `description` and Python's `repr` write it (`0.1`,
///   `1e-05`, `5000.0`, `1e+16`); `-0.0` as `-0.0`; NaN and infinities as the strings `"NaN"`,
///   `"Infinity"`, `"-Infinity"`;
/// - `true`, `false`, `null`;
/// - a step inside the configuration: `{"$hash":"<its hash>","$step":"<its namespace>"}`, so a step's hash
///   changes when a dependency's configuration does.
///
/// The hash is the SHA-256 of these bytes, as 64 lowercase hex digits. Test vectors are in
/// `Tests/QuillStepsTests/CanonicalEncodingTests.swift`.
public enum CanonicalEncoding: Sendable {
    /// The canonical bytes of a value.
    public static func bytes(_ value: StepValue) -> [UInt8] {
        var out: [UInt8] = []
        write(value, into: &out)
        return out
    }

    /// The canonical text of a value.
    public static func string(_ value: StepValue) -> String {
        String(decoding: bytes(value), as: UTF8.self)
    }

    /// The hash of a value: the SHA-256 of its canonical bytes, as lowercase hex.
    public static func hash(_ value: StepValue) -> String {
        SHA256.hex(of: bytes(value))
    }

    private static func write(_ value: StepValue, into out: inout [UInt8]) {
        switch value {
        case .null: out += Array("null".utf8)
        case .bool(let flag): out += Array((flag ? "true" : "false").utf8)
        case .integer(let text): out += Array(text.utf8)
        case .double(let number): writeDouble(number, into: &out)
        case .string(let text): writeString(text, into: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                write(element, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(_, let members):
            // Later members with the same key win, as in a dictionary.
            var unique: [String: StepValue] = [:]
            for member in members { unique[member.key] = member.value }
            let sorted = unique.sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }
            out.append(UInt8(ascii: "{"))
            for (index, member) in sorted.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                writeString(member.key, into: &out)
                out.append(UInt8(ascii: ":"))
                write(member.value, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        case .step(let namespace, let hash, _, _):
            out += Array("{\"$hash\":".utf8)
            writeString(hash, into: &out)
            out += Array(",\"$step\":".utf8)
            writeString(namespace, into: &out)
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func writeDouble(_ number: Double, into out: inout [UInt8]) {
        if number.isNaN {
            out += Array("\"NaN\"".utf8)
        } else if number.isInfinite {
            out += Array((number > 0 ? "\"Infinity\"" : "\"-Infinity\"").utf8)
        } else {
            out += Array(number.description.utf8)
        }
    }

    private static func writeString(_ text: String, into out: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0..<0x20:
                out += Array("\\u00".utf8)
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xf)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
