import Foundation

/// Turns any `Encodable` value into a ``StepValue``, keeping the order properties are encoded in, the
/// type names of structs, and nested steps as steps (with their own hash).
enum StepEncoder {
    /// The value tree of an `Encodable` value.
    static func value<T: Encodable>(of value: T) throws -> StepValue {
        if let step = value as? any Step { return try stepValue(step) }
        if let number = value as? Double { return .double(number) }
        if let number = value as? Float { return .double(Double(number)) }
        if let text = value as? String { return .string(text) }
        let encoder = TreeEncoder(typeName: typeName(of: T.self))
        try value.encode(to: encoder)
        return encoder.storage.finish()
    }

    /// A nested step: its namespace, hash, type name and configuration.
    static func stepValue(_ step: some Step) throws -> StepValue {
        let encoder = TreeEncoder(typeName: typeName(of: type(of: step)))
        try step.encode(to: encoder)
        let config = encoder.storage.finish()
        return .step(
            namespace: type(of: step).namespace,
            hash: CanonicalEncoding.hash(config),
            type: typeName(of: type(of: step)),
            config: config
        )
    }

    /// A type's name without its module: `TrainModel`, `Array<Int>`.
    static func typeName(of type: Any.Type) -> String {
        String(describing: type)
    }
}

/// Where one encoder's value is built.
private final class Slot {
    enum Content {
        case empty
        case value(StepValue)
        case object(type: String?, members: [(String, Slot)])
        case array([Slot])
    }

    var content: Content = .empty

    func finish() -> StepValue {
        switch content {
        case .empty: return .object(type: nil, members: [])
        case .value(let value): return value
        case .object(let type, let members):
            return .object(type: type, members: members.map { StepValue.Member($0.0, $0.1.finish()) })
        case .array(let slots): return .array(slots.map { $0.finish() })
        }
    }
}

private final class TreeEncoder: Encoder {
    let storage = Slot()
    let typeName: String?
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]

    init(typeName: String?, codingPath: [any CodingKey] = []) {
        self.typeName = typeName
        self.codingPath = codingPath
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .object = storage.content {
        } else {
            // A dictionary's keyed container has no struct name.
            let isDictionary = typeName?.hasPrefix("Dictionary<") ?? false
            storage.content = .object(type: isDictionary ? nil : typeName, members: [])
        }
        return KeyedEncodingContainer(KeyedContainer<Key>(slot: storage, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .array = storage.content {} else { storage.content = .array([]) }
        return UnkeyedContainer(slot: storage, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleContainer(slot: storage, codingPath: codingPath)
    }
}

/// Encodes a value into a new slot, through ``StepEncoder`` for values that are not plain scalars.
private func encodeValue<T: Encodable>(_ value: T, codingPath: [any CodingKey]) throws -> Slot {
    let slot = Slot()
    if let step = value as? any Step {
        slot.content = .value(try StepEncoder.stepValue(step))
        return slot
    }
    if let number = value as? Double {
        slot.content = .value(.double(number))
        return slot
    }
    if let number = value as? Float {
        slot.content = .value(.double(Double(number)))
        return slot
    }
    let encoder = TreeEncoder(typeName: StepEncoder.typeName(of: T.self), codingPath: codingPath)
    try value.encode(to: encoder)
    return encoder.storage
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let slot: Slot
    var codingPath: [any CodingKey]

    private func append(_ key: Key, _ child: Slot) {
        guard case .object(let type, var members) = slot.content else { return }
        members.append((key.stringValue, child))
        slot.content = .object(type: type, members: members)
    }

    private func append(_ key: Key, _ value: StepValue) {
        let child = Slot()
        child.content = .value(value)
        append(key, child)
    }

    mutating func encodeNil(forKey key: Key) throws { append(key, .null) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { append(key, .bool(value)) }
    mutating func encode(_ value: String, forKey key: Key) throws { append(key, .string(value)) }
    mutating func encode(_ value: Double, forKey key: Key) throws { append(key, .double(value)) }
    mutating func encode(_ value: Float, forKey key: Key) throws { append(key, .double(Double(value))) }
    mutating func encode(_ value: Int, forKey key: Key) throws { append(key, .integer(String(value))) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { append(key, .integer(String(value))) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { append(key, .integer(String(value))) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { append(key, .integer(String(value))) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { append(key, .integer(String(value))) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { append(key, .integer(String(value))) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { append(key, .integer(String(value))) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { append(key, .integer(String(value))) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { append(key, .integer(String(value))) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { append(key, .integer(String(value))) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        append(key, try encodeValue(value, codingPath: codingPath + [key]))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type,
        forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        let child = Slot()
        child.content = .object(type: nil, members: [])
        append(key, child)
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(slot: child, codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let child = Slot()
        child.content = .array([])
        append(key, child)
        return UnkeyedContainer(slot: child, codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder {
        let encoder = TreeEncoder(typeName: nil, codingPath: codingPath)
        append(Key(stringValue: "super") ?? Key(intValue: 0) ?? preconditionFailureKey(), encoder.storage)
        return encoder
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        let encoder = TreeEncoder(typeName: nil, codingPath: codingPath + [key])
        append(key, encoder.storage)
        return encoder
    }

    private func preconditionFailureKey() -> Key {
        preconditionFailure("a coding key type with neither a \"super\" string key nor an integer key")
    }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let slot: Slot
    var codingPath: [any CodingKey]
    var count: Int {
        if case .array(let slots) = slot.content { return slots.count }
        return 0
    }

    private func append(_ child: Slot) {
        guard case .array(var slots) = slot.content else { return }
        slots.append(child)
        slot.content = .array(slots)
    }

    private func append(_ value: StepValue) {
        let child = Slot()
        child.content = .value(value)
        append(child)
    }

    mutating func encodeNil() throws { append(.null) }
    mutating func encode(_ value: Bool) throws { append(.bool(value)) }
    mutating func encode(_ value: String) throws { append(.string(value)) }
    mutating func encode(_ value: Double) throws { append(.double(value)) }
    mutating func encode(_ value: Float) throws { append(.double(Double(value))) }
    mutating func encode(_ value: Int) throws { append(.integer(String(value))) }
    mutating func encode(_ value: Int8) throws { append(.integer(String(value))) }
    mutating func encode(_ value: Int16) throws { append(.integer(String(value))) }
    mutating func encode(_ value: Int32) throws { append(.integer(String(value))) }
    mutating func encode(_ value: Int64) throws { append(.integer(String(value))) }
    mutating func encode(_ value: UInt) throws { append(.integer(String(value))) }
    mutating func encode(_ value: UInt8) throws { append(.integer(String(value))) }
    mutating func encode(_ value: UInt16) throws { append(.integer(String(value))) }
    mutating func encode(_ value: UInt32) throws { append(.integer(String(value))) }
    mutating func encode(_ value: UInt64) throws { append(.integer(String(value))) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        append(try encodeValue(value, codingPath: codingPath))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type
    ) -> KeyedEncodingContainer<
        NestedKey
    > {
        let child = Slot()
        child.content = .object(type: nil, members: [])
        append(child)
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(slot: child, codingPath: codingPath))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let child = Slot()
        child.content = .array([])
        append(child)
        return UnkeyedContainer(slot: child, codingPath: codingPath)
    }

    mutating func superEncoder() -> any Encoder {
        let encoder = TreeEncoder(typeName: nil, codingPath: codingPath)
        append(encoder.storage)
        return encoder
    }
}

private struct SingleContainer: SingleValueEncodingContainer {
    let slot: Slot
    var codingPath: [any CodingKey]

    private func set(_ value: StepValue) { slot.content = .value(value) }

    mutating func encodeNil() throws { set(.null) }
    mutating func encode(_ value: Bool) throws { set(.bool(value)) }
    mutating func encode(_ value: String) throws { set(.string(value)) }
    mutating func encode(_ value: Double) throws { set(.double(value)) }
    mutating func encode(_ value: Float) throws { set(.double(Double(value))) }
    mutating func encode(_ value: Int) throws { set(.integer(String(value))) }
    mutating func encode(_ value: Int8) throws { set(.integer(String(value))) }
    mutating func encode(_ value: Int16) throws { set(.integer(String(value))) }
    mutating func encode(_ value: Int32) throws { set(.integer(String(value))) }
    mutating func encode(_ value: Int64) throws { set(.integer(String(value))) }
    mutating func encode(_ value: UInt) throws { set(.integer(String(value))) }
    mutating func encode(_ value: UInt8) throws { set(.integer(String(value))) }
    mutating func encode(_ value: UInt16) throws { set(.integer(String(value))) }
    mutating func encode(_ value: UInt32) throws { set(.integer(String(value))) }
    mutating func encode(_ value: UInt64) throws { set(.integer(String(value))) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        let child = try encodeValue(value, codingPath: codingPath)
        slot.content = child.content
    }
}
