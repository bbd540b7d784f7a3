import Foundation
public import QuillCore

/// Encodes the wire types as the REST API writes them: compact JSON, object keys sorted, non-finite
/// numbers as the strings `"NaN"`, `"Infinity"` and `"-Infinity"`, times as ``Timestamp`` text
/// (`2026-11-24T16:20:01.123456Z`), and a `nil` optional as `null` (fields marked ``OmittedWhenNil`` are
/// left out instead).
///
/// Use it, not `JSONEncoder`, for anything that goes over the wire: `JSONEncoder` leaves `nil` fields out,
/// writes dates as numbers and refuses NaN.
public struct APIEncoder: Sendable {
    /// An encoder.
    public init() {}

    /// The value as a ``JSONValue`` tree.
    public func encode(_ value: some Encodable) throws -> JSONValue {
        let slot = EncodingSlot()
        try EncodingSlot.encode(value, into: slot, codingPath: [])
        return slot.resolved
    }

    /// The value as compact JSON bytes (no trailing newline).
    public func bytes(_ value: some Encodable) throws -> [UInt8] {
        JSONWriter.bytes(try encode(value))
    }
}

/// One value being encoded: a finished value, an object or an array of further slots.
final class EncodingSlot {
    var value: JSONValue?
    var members: [String: EncodingSlot]?
    var elements: [EncodingSlot]?

    var resolved: JSONValue {
        if let members { return .object(members.mapValues(\.resolved)) }
        if let elements { return .array(elements.map(\.resolved)) }
        return value ?? .object([:])
    }

    /// Encodes `value` into `slot`: the API's own spellings for times, numbers and JSON values, the
    /// type's `encode(to:)` for everything else.
    static func encode(_ value: some Encodable, into slot: EncodingSlot, codingPath: [any CodingKey]) throws {
        switch value {
        case let json as JSONValue: slot.value = json
        case let date as Date: slot.value = .string(Timestamp.string(date))
        case let number as Double: slot.value = .double(number)
        case let number as Int: slot.value = .int(number)
        case let number as Int64: slot.value = .int(Int(number))
        case let text as String: slot.value = .string(text)
        case let flag as Bool: slot.value = .bool(flag)
        default: try value.encode(to: SlotEncoder(slot: slot, codingPath: codingPath))
        }
    }

    func makeObject() {
        if members == nil {
            members = [:]
            elements = nil
            value = nil
        }
    }

    func makeArray() {
        if elements == nil {
            elements = []
            members = nil
            value = nil
        }
    }
}

struct SlotEncoder: Encoder {
    let slot: EncodingSlot
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        slot.makeObject()
        return KeyedEncodingContainer(KeyedSlotContainer<Key>(slot: slot, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        slot.makeArray()
        return UnkeyedSlotContainer(slot: slot, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleSlotContainer(slot: slot, codingPath: codingPath)
    }
}

/// An array index as a coding key.
struct IndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { "\(intValue ?? 0)" }

    init(_ index: Int) { intValue = index }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.intValue = intValue }
}

struct KeyedSlotContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let slot: EncodingSlot
    let codingPath: [any CodingKey]

    private func child(_ key: Key) -> EncodingSlot {
        let child = EncodingSlot()
        slot.members?[key.stringValue] = child
        return child
    }

    mutating func encodeNil(forKey key: Key) throws { child(key).value = .null }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try EncodingSlot.encode(value, into: child(key), codingPath: codingPath + [key])
    }

    // A nil optional is written as null: the API says "no value" that way.
    mutating func encodeIfPresent<T: Encodable>(_ value: T?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
    }
    mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws { try present(value, key) }
    mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws { try present(value, key) }
    mutating func encodeIfPresent(_ value: Double?, forKey key: Key) throws { try present(value, key) }
    mutating func encodeIfPresent(_ value: Float?, forKey key: Key) throws { try present(value, key) }
    mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws { try present(value, key) }
    mutating func encodeIfPresent(_ value: Int8?, forKey key: Key) throws { try present(value, key) }
    mutating func encodeIfPresent(_ value: Int16?, forKey key: Key) throws { try present(value, key) }
    mutating func encodeIfPresent(_ value: Int32?, forKey key: Key) throws { try present(value, key) }
    mutating func encodeIfPresent(_ value: Int64?, forKey key: Key) throws { try present(value, key) }
    mutating func encodeIfPresent(_ value: UInt?, forKey key: Key) throws { try present(value, key) }
    mutating func encodeIfPresent(_ value: UInt8?, forKey key: Key) throws { try present(value, key) }
    mutating func encodeIfPresent(_ value: UInt16?, forKey key: Key) throws { try present(value, key) }
    mutating func encodeIfPresent(_ value: UInt32?, forKey key: Key) throws { try present(value, key) }
    mutating func encodeIfPresent(_ value: UInt64?, forKey key: Key) throws { try present(value, key) }

    private mutating func present<T: Encodable>(_ value: T?, _ key: Key) throws {
        if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type,
        forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        SlotEncoder(slot: child(key), codingPath: codingPath + [key]).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        SlotEncoder(slot: child(key), codingPath: codingPath + [key]).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder { SlotEncoder(slot: slot, codingPath: codingPath) }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        SlotEncoder(slot: child(key), codingPath: codingPath + [key])
    }
}

struct UnkeyedSlotContainer: UnkeyedEncodingContainer {
    let slot: EncodingSlot
    let codingPath: [any CodingKey]
    var count: Int { slot.elements?.count ?? 0 }

    private func next() -> (EncodingSlot, [any CodingKey]) {
        let child = EncodingSlot()
        let path = codingPath + [IndexKey(count)]
        slot.elements?.append(child)
        return (child, path)
    }

    mutating func encodeNil() throws { next().0.value = .null }

    mutating func encode<T: Encodable>(_ value: T) throws {
        let (child, path) = next()
        try EncodingSlot.encode(value, into: child, codingPath: path)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type
    ) -> KeyedEncodingContainer<NestedKey> {
        let (child, path) = next()
        return SlotEncoder(slot: child, codingPath: path).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let (child, path) = next()
        return SlotEncoder(slot: child, codingPath: path).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        let (child, path) = next()
        return SlotEncoder(slot: child, codingPath: path)
    }
}

struct SingleSlotContainer: SingleValueEncodingContainer {
    let slot: EncodingSlot
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws { slot.value = .null }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try EncodingSlot.encode(value, into: slot, codingPath: codingPath)
    }
}

/// A field that is left out of the JSON when it has no value, where the API omits it rather than writing
/// `null` (a run's `dashboard_url`, an API key's `key`, the status's `counts`).
///
/// Decoding reads a missing field and `null` alike as `nil`.
@propertyWrapper
public struct OmittedWhenNil<Value: Codable & Sendable & Hashable>: Codable, Sendable, Hashable {
    /// The value, or `nil` to leave the field out.
    public var wrappedValue: Value?

    /// Wraps a value.
    public init(wrappedValue: Value?) {
        self.wrappedValue = wrappedValue
    }

    /// Decodes the value alone (the keyed overloads below handle a missing field).
    public init(from decoder: any Decoder) throws {
        let single = try decoder.singleValueContainer()
        wrappedValue = single.decodeNil() ? nil : try single.decode(Value.self)
    }

    /// Encodes the value alone (the keyed overloads below leave a `nil` one out).
    public func encode(to encoder: any Encoder) throws {
        var single = encoder.singleValueContainer()
        if let wrappedValue { try single.encode(wrappedValue) } else { try single.encodeNil() }
    }
}

extension KeyedEncodingContainer {
    /// Writes the field only when it has a value.
    public mutating func encode<Value>(_ value: OmittedWhenNil<Value>, forKey key: Key) throws {
        if let wrapped = value.wrappedValue { try encode(wrapped, forKey: key) }
    }
}

extension KeyedDecodingContainer {
    /// Reads a missing field, or `null`, as `nil`.
    public func decode<Value>(_ type: OmittedWhenNil<Value>.Type, forKey key: Key) throws -> OmittedWhenNil<Value> {
        OmittedWhenNil(wrappedValue: try decodeIfPresent(Value.self, forKey: key))
    }
}
