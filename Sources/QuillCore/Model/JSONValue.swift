/// A JSON-like value: what configs, params, summaries and tags hold.
///
/// Numbers are `Double`s or `Int`s; non-finite doubles (NaN, ±infinity) are kept as numbers in memory and
/// written as the strings `"NaN"`, `"Infinity"` and `"-Infinity"` so the files stay strict JSON. Readers
/// also accept the bare tokens `NaN`, `Infinity` and `-Infinity` that Python's `json` module writes.
///
/// ```swift
/// let config: [String: JSONValue] = ["lr": 0.001, "layers": [64, 64], "optimizer": "adam"]
/// ```
public enum JSONValue: Sendable, Hashable {
    /// JSON `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// An integer that fits in 64 bits.
    case int(Int)
    /// Any other number, including NaN and infinities.
    case double(Double)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object. Keys are written sorted.
    case object([String: JSONValue])
}

extension JSONValue {
    /// The value as a `Double` when it is a number (or one of the non-finite strings), else `nil`.
    public var doubleValue: Double? {
        switch self {
        case .int(let value): return Double(value)
        case .double(let value): return value
        case .string(let text): return JSONValue.nonFiniteDouble(text)
        case .bool, .null, .array, .object: return nil
        }
    }

    /// The value as a string when it is one, else `nil`.
    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// The value as an `Int` when it is an integer (or an integral double), else `nil`.
    public var intValue: Int? {
        switch self {
        case .int(let value): return value
        case .double(let value):
            guard value.isFinite, value.rounded() == value, abs(value) < 9.0e18 else { return nil }
            return Int(value)
        default: return nil
        }
    }

    /// The value as a `Bool` when it is one, else `nil`.
    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The object's members when the value is an object, else `nil`.
    public var objectValue: [String: JSONValue]? {
        if case .object(let members) = self { return members }
        return nil
    }

    /// The array's elements when the value is an array, else `nil`.
    public var arrayValue: [JSONValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// Looks up a member of an object by key; `nil` for other values or a missing key.
    ///
    /// Setting a member of an object adds, replaces or (with `nil`) removes it; setting on another value does
    /// nothing.
    public subscript(key: String) -> JSONValue? {
        get { objectValue?[key] }
        set {
            guard case .object(var members) = self else { return }
            members[key] = newValue
            self = .object(members)
        }
    }

    /// Looks up a nested member by a dotted path (`"optimizer.lr"`).
    public func value(atPath path: String) -> JSONValue? {
        var current: JSONValue? = self
        for part in path.split(separator: ".", omittingEmptySubsequences: false) {
            current = current?[String(part)]
        }
        return current
    }

    /// Flattens nested objects into dotted keys (`["optimizer.lr": 0.1]`); other values keep their key.
    public func flattened(prefix: String = "") -> [String: JSONValue] {
        guard case .object(let members) = self else {
            return prefix.isEmpty ? [:] : [prefix: self]
        }
        var result: [String: JSONValue] = [:]
        for (key, value) in members {
            let path = prefix.isEmpty ? key : "\(prefix).\(key)"
            if case .object(let nested) = value, !nested.isEmpty {
                result.merge(value.flattened(prefix: path)) { _, new in new }
            } else {
                result[path] = value
            }
        }
        return result
    }

    /// Maps the strings `"NaN"`, `"Infinity"`, `"-Infinity"` (and `"inf"`, `"-inf"`) to doubles.
    package static func nonFiniteDouble(_ text: String) -> Double? {
        switch text {
        case "NaN", "nan": return .nan
        case "Infinity", "inf", "+Infinity": return .infinity
        case "-Infinity", "-inf": return -.infinity
        default: return nil
        }
    }
}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    /// Creates `null`.
    public init(nilLiteral: ()) { self = .null }
    /// Creates a boolean.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// Creates an integer.
    public init(integerLiteral value: Int) { self = .int(value) }
    /// Creates a double.
    public init(floatLiteral value: Double) { self = .double(value) }
    /// Creates a string.
    public init(stringLiteral value: String) { self = .string(value) }
    /// Creates an array.
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    /// Creates an object; a repeated key keeps its last value.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

extension JSONValue: CustomStringConvertible {
    /// The value as compact JSON text.
    public var description: String { JSONWriter.string(self) }
}
