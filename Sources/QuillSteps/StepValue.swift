public import QuillCore

/// A step's configuration as a tree, in the order its properties were encoded: what the canonical
/// encoding (and so the hash), the dictionary form and the Swift form are all made from.
public indirect enum StepValue: Sendable, Hashable {
    /// An absent optional written explicitly, or `nil`.
    case null
    /// A Boolean.
    case bool(Bool)
    /// An integer of any of Swift's integer types, as decimal text (so `UInt64.max` fits).
    case integer(String)
    /// A floating-point number.
    case double(Double)
    /// Text.
    case string(String)
    /// A sequence.
    case array([StepValue])
    /// A struct, class or dictionary: its type name (`nil` for a dictionary) and its members in order.
    case object(type: String?, members: [Member])
    /// A step inside the configuration: its namespace, its own hash, its type name and its configuration.
    case step(namespace: String, hash: String, type: String, config: StepValue)

    /// One member of an object.
    public struct Member: Sendable, Hashable {
        /// The property name or dictionary key.
        public var key: String
        /// The value.
        public var value: StepValue

        /// Creates a member.
        public init(_ key: String, _ value: StepValue) {
            self.key = key
            self.value = value
        }
    }

    /// The configuration as JSON: nested steps as their full configuration, so it decodes back into the
    /// step (``Step/init(dictionary:)``). NaN and infinities are the strings `"NaN"`, `"Infinity"`,
    /// `"-Infinity"`.
    public var json: JSONValue {
        switch self {
        case .null: return .null
        case .bool(let flag): return .bool(flag)
        case .integer(let text): return Int(text).map(JSONValue.int) ?? .double(Double(text) ?? .nan)
        case .double(let number): return .double(number)
        case .string(let text): return .string(text)
        case .array(let elements): return .array(elements.map(\.json))
        case .object(_, let members):
            var object: [String: JSONValue] = [:]
            for member in members { object[member.key] = member.value.json }
            return .object(object)
        case .step(_, _, _, let config): return config.json
        }
    }

    /// The nested steps directly inside this value (not inside those steps), in order.
    public var nestedSteps: [(namespace: String, hash: String)] {
        switch self {
        case .step(let namespace, let hash, _, _): return [(namespace, hash)]
        case .array(let elements): return elements.flatMap(\.nestedSteps)
        case .object(_, let members): return members.flatMap(\.value.nestedSteps)
        default: return []
        }
    }
}
