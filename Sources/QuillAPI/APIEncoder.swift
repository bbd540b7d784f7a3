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

    /// The value as compact JSON bytes (no trailing newline): the same bytes as writing ``encode(_:)``'s
    /// tree with `JSONWriter`, without building the tree.
    public func bytes(_ value: some Encodable) throws -> [UInt8] {
        let slot = EncodingSlot()
        try EncodingSlot.encode(value, into: slot, codingPath: [])
        var out: [UInt8] = []
        slot.write(into: &out)
        return out
    }
}

/// One value being encoded: a finished value, an object or an array of further slots.
final class EncodingSlot {
    /// A member or element: a finished value, or a slot still being filled.
    enum Node {
        case value(JSONValue)
        case slot(EncodingSlot)

        var resolved: JSONValue {
            switch self {
            case .value(let value): value
            case .slot(let slot): slot.resolved
            }
        }

        func write(into out: inout [UInt8]) {
            switch self {
            case .value(let value): JSONWriter.write(value, into: &out, indent: nil, level: 0)
            case .slot(let slot): slot.write(into: &out)
            }
        }
    }

    var value: JSONValue?
    /// An object's members in the order they were encoded (a repeated name: the last counts).
    var members: [(name: String, node: Node)]?
    var elements: [EncodingSlot]?

    var resolved: JSONValue {
        if let members {
            return .object(
                Dictionary(members.map { ($0.name, $0.node.resolved) }, uniquingKeysWith: { _, last in last })
            )
        }
        if let elements { return .array(elements.map(\.resolved)) }
        return value ?? .object([:])
    }

    /// Writes the value as `JSONWriter` writes its tree: members sorted by name, compact.
    func write(into out: inout [UInt8]) {
        if let members {
            let sorted = members.enumerated().sorted {
                $0.element.name < $1.element.name || ($0.element.name == $1.element.name && $0.offset < $1.offset)
            }
            out.append(UInt8(ascii: "{"))
            var first = true
            for (position, entry) in sorted.enumerated() {
                if position + 1 < sorted.count, sorted[position + 1].element.name == entry.element.name { continue }
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                JSONWriter.appendString(entry.element.name, into: &out)
                out.append(UInt8(ascii: ":"))
                entry.element.node.write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        } else if let elements {
            out.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                element.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        } else {
            JSONWriter.write(value ?? .object([:]), into: &out, indent: nil, level: 0)
        }
    }

    /// Encodes `value` into `slot`: the API's own spellings for times, numbers and JSON values, the
    /// type's `encode(to:)` for everything else.
    static func encode<T: Encodable>(_ value: T, into slot: EncodingSlot, codingPath: [any CodingKey]) throws {
        if let known = known(value) {
            slot.value = known
        } else {
            try value.encode(to: SlotEncoder(slot: slot, codingPath: codingPath))
        }
    }

    /// The JSON of the values the API spells itself (one conformance check, cached per type): strings,
    /// numbers, times, JSON values, and maps of them (configs, params, tags) in one step.
    @inline(__always)
    static func known<T>(_ value: T) -> JSONValue? {
        (value as? any KnownWireValue)?.wireJSON
    }

    func makeObject() {
        if members == nil {
            members = []
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
        slot.members?.append((key.stringValue, .slot(child)))
        return child
    }

    mutating func encodeNil(forKey key: Key) throws { slot.members?.append((key.stringValue, .value(.null))) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        if let known = EncodingSlot.known(value) {
            slot.members?.append((key.stringValue, .value(known)))
        } else {
            try value.encode(to: SlotEncoder(slot: child(key), codingPath: codingPath))
        }
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
        SlotEncoder(slot: child(key), codingPath: codingPath).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        SlotEncoder(slot: child(key), codingPath: codingPath).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder { SlotEncoder(slot: slot, codingPath: codingPath) }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        SlotEncoder(slot: child(key), codingPath: codingPath)
    }
}

struct UnkeyedSlotContainer: UnkeyedEncodingContainer {
    let slot: EncodingSlot
    let codingPath: [any CodingKey]
    var count: Int { slot.elements?.count ?? 0 }

    private func next() -> (EncodingSlot, [any CodingKey]) {
        let child = EncodingSlot()
        slot.elements?.append(child)
        return (child, codingPath)
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

/// A value ``APIEncoder`` writes without going through `encode(to:)`.
protocol KnownWireValue {
    var wireJSON: JSONValue { get }
}

extension String: KnownWireValue {
    var wireJSON: JSONValue { .string(self) }
}

extension JSONValue: KnownWireValue {
    var wireJSON: JSONValue { self }
}

extension Date: KnownWireValue {
    var wireJSON: JSONValue { .string(Timestamp.string(self)) }
}

extension Double: KnownWireValue {
    var wireJSON: JSONValue { .double(self) }
}

extension Int: KnownWireValue {
    var wireJSON: JSONValue { .int(self) }
}

extension Int64: KnownWireValue {
    var wireJSON: JSONValue { .int(Int(self)) }
}

extension Bool: KnownWireValue {
    var wireJSON: JSONValue { .bool(self) }
}

extension Dictionary: KnownWireValue where Key == String, Value: KnownWireValue {
    var wireJSON: JSONValue {
        // Configs and params are maps of JSON values already: shared, not copied.
        if let object = self as? [String: JSONValue] { return .object(object) }
        return .object(mapValues(\.wireJSON))
    }
}
