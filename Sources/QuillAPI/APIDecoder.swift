import Foundation
public import QuillCore

/// Decodes the wire types as the server reads request bodies: strictly, with errors that name the field.
///
/// - A type whose `CodingKeys` are `CaseIterable` refuses members it does not name (`unknown field(s) in
///   body.metrics[3]: …; allowed: …`), as the server does with every request body. Response types keep
///   their keys open, so a client still reads an answer that gained a field.
/// - `null` and a missing member are the same: `nil` for an optional, "is required" otherwise.
/// - Numbers may be the strings `"NaN"`, `"Infinity"` and `"-Infinity"`; an `Int` must be a whole number
///   that fits; a `Date` is ISO 8601 text; a `String` must not contain a NUL byte.
///
/// Every error is a ``QuillError`` with code `invalidArgument` whose message starts with the field's
/// path, `body.metrics[3].value must be a number`.
public struct APIDecoder: Sendable {
    /// A decoder.
    public init() {}

    /// Decodes a value from a parsed JSON value.
    public func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try ValueDecoder.decode(type, value, codingPath: [])
    }

    /// Parses JSON bytes and decodes a value; text that is not JSON is a `malformed` error.
    public func decode<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>) throws -> T {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw QuillError(.malformed, "the body is not valid JSON: \(error)")
        }
        return try decode(type, from: value)
    }

    /// How an error names a field: `body`, `body.metrics[3].value`.
    public static func describe(_ codingPath: [any CodingKey]) -> String {
        var text = "body"
        for key in codingPath {
            if key is IndexKey, let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += "." + key.stringValue
            }
        }
        return text
    }

    /// The error for a field of the wrong kind: `body.x must be <expected>`.
    public static func mismatch(_ codingPath: [any CodingKey], _ expected: String) -> QuillError {
        QuillError(.invalidArgument, "\(describe(codingPath)) must be \(expected)")
    }
}

struct ValueDecoder: Decoder {
    let value: JSONValue
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    /// Decodes `type` from `value`: the API's own spellings for times, numbers and JSON values (one
    /// conformance check, cached per type), the type's `init(from:)` for everything else.
    static func decode<T: Decodable>(_ type: T.Type, _ value: JSONValue, at path: FieldPath) throws -> T {
        if let known = type as? any KnownWireDecodable.Type {
            guard let typed = try known.wireDecode(value, path) as? T else {
                throw APIDecoder.mismatch(path.full, "\(T.self)")
            }
            return typed
        }
        return try T(from: ValueDecoder(value: value, codingPath: path.full))
    }

    static func decode<T: Decodable>(_ type: T.Type, _ value: JSONValue, codingPath: [any CodingKey]) throws -> T {
        try decode(type, value, at: FieldPath(parent: codingPath, key: nil))
    }

    static func string(_ value: JSONValue, _ path: FieldPath) throws -> String {
        guard case .string(let text) = value else { throw APIDecoder.mismatch(path.full, "a string") }
        if text.utf8.contains(0) {
            throw QuillError(.invalidArgument, "\(APIDecoder.describe(path.full)) must not contain a NUL byte")
        }
        return text
    }

    static func double(_ value: JSONValue, _ path: FieldPath) throws -> Double {
        switch value {
        case .int(let number): return Double(number)
        case .double(let number): return number
        case .string(let text):
            guard let number = JSONValue.nonFiniteDouble(text) else {
                throw APIDecoder.mismatch(path.full, "a number")
            }
            return number
        default: throw APIDecoder.mismatch(path.full, "a number")
        }
    }

    static func int(_ value: JSONValue, _ path: FieldPath) throws -> Int {
        guard let number = value.intValue else { throw APIDecoder.mismatch(path.full, "an integer") }
        return number
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = value else { throw APIDecoder.mismatch(codingPath, "a JSON object") }
        let container = KeyedValueContainer<Key>(members: members, codingPath: codingPath)
        // A closed set of keys: a member no key has is refused (the allowed names are listed only then).
        if let closed = Key.self as? any CaseIterable.Type,
            members.keys.contains(where: { Key(stringValue: $0) == nil })
        {
            try container.allowOnly(Self.names(closed))
        }
        return KeyedDecodingContainer(container)
    }

    private static func names<Keys: CaseIterable>(_ type: Keys.Type) -> Set<String> {
        Set(type.allCases.compactMap { ($0 as? any CodingKey)?.stringValue })
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = value else { throw APIDecoder.mismatch(codingPath, "an array") }
        return UnkeyedValueContainer(elements: elements, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleValueContainer(value: value, codingPath: codingPath)
    }
}

struct KeyedValueContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [String: JSONValue]
    let codingPath: [any CodingKey]

    var allKeys: [Key] { members.keys.compactMap { Key(stringValue: $0) } }

    /// Refuses members other than `allowed`, naming them and the allowed ones.
    func allowOnly(_ allowed: Set<String>) throws {
        let unknown = members.keys.filter { !allowed.contains($0) }.sorted()
        guard unknown.isEmpty else {
            throw QuillError(
                .invalidArgument,
                "unknown field(s) in \(APIDecoder.describe(codingPath)): \(unknown.joined(separator: ", ")); allowed: \(allowed.sorted().joined(separator: ", "))"
            )
        }
    }

    func contains(_ key: Key) -> Bool { members[key.stringValue] != nil }

    func decodeNil(forKey key: Key) throws -> Bool { (members[key.stringValue] ?? .null) == .null }

    /// A member that must have a value. A JSON value may be null (a member of a config or of git facts).
    private func required<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T {
        if T.self == JSONValue.self, let value = members[key.stringValue], let json = value as? T { return json }
        guard let value = members[key.stringValue], value != .null else {
            throw QuillError(.invalidArgument, "\(APIDecoder.describe(codingPath + [key])) is required")
        }
        return try ValueDecoder.decode(type, value, at: FieldPath(parent: codingPath, key: key))
    }

    /// A member that may be missing or null (`nil` then).
    private func optional<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T? {
        guard let value = members[key.stringValue], value != .null else { return nil }
        return try ValueDecoder.decode(type, value, at: FieldPath(parent: codingPath, key: key))
    }

    private func integer<T: FixedWidthInteger>(_ number: Int?, _ key: Key) throws -> T? {
        guard let number else { return nil }
        guard let converted = T(exactly: number) else {
            throw APIDecoder.mismatch(codingPath + [key], "an integer from \(T.min) to \(T.max)")
        }
        return converted
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try required(type, key) }
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? { try optional(type, key) }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try required(type, key) }
    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { try optional(type, key) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try required(type, key) }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { try optional(type, key) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try required(type, key) }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { try optional(type, key) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try required(type, key) }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { try optional(type, key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try required(type, key) }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { try optional(type, key) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { Float(try required(Double.self, key)) }
    func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? {
        try optional(Double.self, key).map(Float.init)
    }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 {
        guard let number: Int8 = try integer(try required(Int.self, key), key) else {
            throw APIDecoder.mismatch(codingPath + [key], "an integer")
        }
        return number
    }
    func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? {
        try integer(try optional(Int.self, key), key)
    }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 {
        guard let number: Int16 = try integer(try required(Int.self, key), key) else {
            throw APIDecoder.mismatch(codingPath + [key], "an integer")
        }
        return number
    }
    func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? {
        try integer(try optional(Int.self, key), key)
    }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 {
        guard let number: Int32 = try integer(try required(Int.self, key), key) else {
            throw APIDecoder.mismatch(codingPath + [key], "an integer")
        }
        return number
    }
    func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? {
        try integer(try optional(Int.self, key), key)
    }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt {
        guard let number: UInt = try integer(try required(Int.self, key), key) else {
            throw APIDecoder.mismatch(codingPath + [key], "an integer")
        }
        return number
    }
    func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? {
        try integer(try optional(Int.self, key), key)
    }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 {
        guard let number: UInt8 = try integer(try required(Int.self, key), key) else {
            throw APIDecoder.mismatch(codingPath + [key], "an integer")
        }
        return number
    }
    func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? {
        try integer(try optional(Int.self, key), key)
    }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 {
        guard let number: UInt16 = try integer(try required(Int.self, key), key) else {
            throw APIDecoder.mismatch(codingPath + [key], "an integer")
        }
        return number
    }
    func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? {
        try integer(try optional(Int.self, key), key)
    }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 {
        guard let number: UInt32 = try integer(try required(Int.self, key), key) else {
            throw APIDecoder.mismatch(codingPath + [key], "an integer")
        }
        return number
    }
    func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? {
        try integer(try optional(Int.self, key), key)
    }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 {
        guard let number: UInt64 = try integer(try required(Int.self, key), key) else {
            throw APIDecoder.mismatch(codingPath + [key], "an integer")
        }
        return number
    }
    func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? {
        try integer(try optional(Int.self, key), key)
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type,
        forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try ValueDecoder(value: members[key.stringValue] ?? .null, codingPath: codingPath + [key])
            .container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try ValueDecoder(value: members[key.stringValue] ?? .null, codingPath: codingPath + [key]).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { ValueDecoder(value: .object(members), codingPath: codingPath) }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        ValueDecoder(value: members[key.stringValue] ?? .null, codingPath: codingPath + [key])
    }
}

struct UnkeyedValueContainer: UnkeyedDecodingContainer {
    let elements: [JSONValue]
    let codingPath: [any CodingKey]
    var currentIndex = 0
    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private mutating func next() throws -> (JSONValue, FieldPath) {
        guard currentIndex < elements.count else {
            throw QuillError(.invalidArgument, "\(APIDecoder.describe(codingPath)) has too few elements")
        }
        let path = FieldPath(parent: codingPath, key: IndexKey(currentIndex))
        let value = elements[currentIndex]
        currentIndex += 1
        return (value, path)
    }

    mutating func decodeNil() throws -> Bool {
        guard currentIndex < elements.count, elements[currentIndex] == .null else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (value, path) = try next()
        return try ValueDecoder.decode(type, value, at: path)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type
    ) throws -> KeyedDecodingContainer<NestedKey> {
        let (value, path) = try next()
        return try ValueDecoder(value: value, codingPath: path.full).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let (value, path) = try next()
        return try ValueDecoder(value: value, codingPath: path.full).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        let (value, path) = try next()
        return ValueDecoder(value: value, codingPath: path.full)
    }
}

struct SingleValueContainer: SingleValueDecodingContainer {
    let value: JSONValue
    let codingPath: [any CodingKey]

    func decodeNil() -> Bool { value == .null }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try ValueDecoder.decode(type, value, codingPath: codingPath)
    }
}

extension KeyedDecodingContainer {
    /// An optional integer within `range`; a fraction, text or a number outside it is refused with a
    /// message that names the field and the range, so no client value reaches arithmetic that could
    /// overflow.
    public func decodeIfPresent(_ type: Int.Type, forKey key: Key, in range: ClosedRange<Int>) throws -> Int? {
        guard contains(key), !(try decodeNil(forKey: key)) else { return nil }
        guard let number = try? decode(Int.self, forKey: key), range.contains(number) else {
            throw APIDecoder.mismatch(
                codingPath + [key],
                "an integer from \(range.lowerBound) to \(range.upperBound)"
            )
        }
        return number
    }
}

/// Where a value is: its container's path and its own key, joined only when needed (an error, a nested
/// container), so decoding a leaf allocates no path.
struct FieldPath {
    let parent: [any CodingKey]
    let key: (any CodingKey)?

    var full: [any CodingKey] { key.map { parent + [$0] } ?? parent }
}

/// A value ``APIDecoder`` reads without going through `init(from:)`.
protocol KnownWireDecodable {
    static func wireDecode(_ value: JSONValue, _ path: FieldPath) throws -> Self
}

extension String: KnownWireDecodable {
    static func wireDecode(_ value: JSONValue, _ path: FieldPath) throws -> String {
        try ValueDecoder.string(value, path)
    }
}

extension JSONValue: KnownWireDecodable {
    static func wireDecode(_ value: JSONValue, _ path: FieldPath) throws -> JSONValue { value }
}

extension Double: KnownWireDecodable {
    static func wireDecode(_ value: JSONValue, _ path: FieldPath) throws -> Double {
        try ValueDecoder.double(value, path)
    }
}

extension Int: KnownWireDecodable {
    static func wireDecode(_ value: JSONValue, _ path: FieldPath) throws -> Int { try ValueDecoder.int(value, path) }
}

extension Int64: KnownWireDecodable {
    static func wireDecode(_ value: JSONValue, _ path: FieldPath) throws -> Int64 {
        Int64(try ValueDecoder.int(value, path))
    }
}

extension Bool: KnownWireDecodable {
    static func wireDecode(_ value: JSONValue, _ path: FieldPath) throws -> Bool {
        guard case .bool(let flag) = value else { throw APIDecoder.mismatch(path.full, "a boolean") }
        return flag
    }
}

extension Date: KnownWireDecodable {
    static func wireDecode(_ value: JSONValue, _ path: FieldPath) throws -> Date {
        guard case .string(let text) = value, let date = Timestamp.parse(text) else {
            throw APIDecoder.mismatch(path.full, "an ISO 8601 time such as 2026-11-24T16:20:01Z")
        }
        return date
    }
}
