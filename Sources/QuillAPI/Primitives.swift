import QuillCore

// Generated forwarding of the primitive Codable requirements to the generic paths.

extension KeyedSlotContainer {
    mutating func encode(_ value: Bool, forKey key: Key) throws { try encode(Primitive(value), forKey: key) }
    mutating func encode(_ value: String, forKey key: Key) throws { try encode(Primitive(value), forKey: key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { try encode(Primitive(value), forKey: key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { try encode(Primitive(value), forKey: key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { try encode(Primitive(value), forKey: key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { try encode(Primitive(value), forKey: key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { try encode(Primitive(value), forKey: key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try encode(Primitive(value), forKey: key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { try encode(Primitive(value), forKey: key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { try encode(Primitive(value), forKey: key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { try encode(Primitive(value), forKey: key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { try encode(Primitive(value), forKey: key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try encode(Primitive(value), forKey: key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try encode(Primitive(value), forKey: key) }
}

extension UnkeyedSlotContainer {
    mutating func encode(_ value: Bool) throws { try encode(Primitive(value)) }
    mutating func encode(_ value: String) throws { try encode(Primitive(value)) }
    mutating func encode(_ value: Double) throws { try encode(Primitive(value)) }
    mutating func encode(_ value: Float) throws { try encode(Primitive(value)) }
    mutating func encode(_ value: Int) throws { try encode(Primitive(value)) }
    mutating func encode(_ value: Int8) throws { try encode(Primitive(value)) }
    mutating func encode(_ value: Int16) throws { try encode(Primitive(value)) }
    mutating func encode(_ value: Int32) throws { try encode(Primitive(value)) }
    mutating func encode(_ value: Int64) throws { try encode(Primitive(value)) }
    mutating func encode(_ value: UInt) throws { try encode(Primitive(value)) }
    mutating func encode(_ value: UInt8) throws { try encode(Primitive(value)) }
    mutating func encode(_ value: UInt16) throws { try encode(Primitive(value)) }
    mutating func encode(_ value: UInt32) throws { try encode(Primitive(value)) }
    mutating func encode(_ value: UInt64) throws { try encode(Primitive(value)) }
}

extension SingleSlotContainer {
    mutating func encode(_ value: Bool) throws { try encode(Primitive(value)) }
    mutating func encode(_ value: String) throws { try encode(Primitive(value)) }
    mutating func encode(_ value: Double) throws { try encode(Primitive(value)) }
    mutating func encode(_ value: Float) throws { try encode(Primitive(value)) }
    mutating func encode(_ value: Int) throws { try encode(Primitive(value)) }
    mutating func encode(_ value: Int8) throws { try encode(Primitive(value)) }
    mutating func encode(_ value: Int16) throws { try encode(Primitive(value)) }
    mutating func encode(_ value: Int32) throws { try encode(Primitive(value)) }
    mutating func encode(_ value: Int64) throws { try encode(Primitive(value)) }
    mutating func encode(_ value: UInt) throws { try encode(Primitive(value)) }
    mutating func encode(_ value: UInt8) throws { try encode(Primitive(value)) }
    mutating func encode(_ value: UInt16) throws { try encode(Primitive(value)) }
    mutating func encode(_ value: UInt32) throws { try encode(Primitive(value)) }
    mutating func encode(_ value: UInt64) throws { try encode(Primitive(value)) }
}

extension UnkeyedValueContainer {
    mutating func decode(_ type: Bool.Type) throws -> Bool { try decode(Primitive<Bool>.self).value }
    mutating func decode(_ type: String.Type) throws -> String { try decode(Primitive<String>.self).value }
    mutating func decode(_ type: Double.Type) throws -> Double { try decode(Primitive<Double>.self).value }
    mutating func decode(_ type: Float.Type) throws -> Float { try decode(Primitive<Float>.self).value }
    mutating func decode(_ type: Int.Type) throws -> Int { try decode(Primitive<Int>.self).value }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try decode(Primitive<Int8>.self).value }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try decode(Primitive<Int16>.self).value }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try decode(Primitive<Int32>.self).value }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try decode(Primitive<Int64>.self).value }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try decode(Primitive<UInt>.self).value }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try decode(Primitive<UInt8>.self).value }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try decode(Primitive<UInt16>.self).value }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try decode(Primitive<UInt32>.self).value }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try decode(Primitive<UInt64>.self).value }
}

extension SingleValueContainer {
    func decode(_ type: Bool.Type) throws -> Bool { try decode(Primitive<Bool>.self).value }
    func decode(_ type: String.Type) throws -> String { try decode(Primitive<String>.self).value }
    func decode(_ type: Double.Type) throws -> Double { try decode(Primitive<Double>.self).value }
    func decode(_ type: Float.Type) throws -> Float { try decode(Primitive<Float>.self).value }
    func decode(_ type: Int.Type) throws -> Int { try decode(Primitive<Int>.self).value }
    func decode(_ type: Int8.Type) throws -> Int8 { try decode(Primitive<Int8>.self).value }
    func decode(_ type: Int16.Type) throws -> Int16 { try decode(Primitive<Int16>.self).value }
    func decode(_ type: Int32.Type) throws -> Int32 { try decode(Primitive<Int32>.self).value }
    func decode(_ type: Int64.Type) throws -> Int64 { try decode(Primitive<Int64>.self).value }
    func decode(_ type: UInt.Type) throws -> UInt { try decode(Primitive<UInt>.self).value }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try decode(Primitive<UInt8>.self).value }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try decode(Primitive<UInt16>.self).value }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try decode(Primitive<UInt32>.self).value }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try decode(Primitive<UInt64>.self).value }
}

/// A primitive value routed through the generic `encode`/`decode` paths, which know the API's spellings.
struct Primitive<Value: Codable>: Codable {
    var value: Value

    init(_ value: Value) { self.value = value }

    init(from decoder: any Decoder) throws {
        guard let decoder = decoder as? ValueDecoder else {
            value = try decoder.singleValueContainer().decode(Value.self)
            return
        }
        if Value.self is any FixedWidthInteger.Type, !(Value.self is Int.Type), !(Value.self is Int64.Type) {
            let number = try ValueDecoder.int(decoder.value, FieldPath(parent: decoder.codingPath, key: nil))
            guard let converted = Self.integer(number) else {
                throw APIDecoder.mismatch(decoder.codingPath, "an integer that fits \(Value.self)")
            }
            value = converted
        } else if Value.self is Float.Type,
            let converted = Float(
                try ValueDecoder.double(decoder.value, FieldPath(parent: decoder.codingPath, key: nil))
            ) as? Value
        {
            value = converted
        } else {
            value = try ValueDecoder.decode(Value.self, decoder.value, codingPath: decoder.codingPath)
        }
    }

    private static func integer(_ number: Int) -> Value? {
        guard let type = Value.self as? any FixedWidthInteger.Type else { return nil }
        return convert(number, to: type) as? Value
    }

    private static func convert<T: FixedWidthInteger>(_ number: Int, to type: T.Type) -> T? { T(exactly: number) }

    func encode(to encoder: any Encoder) throws {
        guard let encoder = encoder as? SlotEncoder else {
            var single = encoder.singleValueContainer()
            try single.encode(value)
            return
        }
        switch value {
        case let number as Float: encoder.slot.value = .double(Double(number))
        case let number as any FixedWidthInteger:
            guard let integer = Int(exactly: number) else {
                encoder.slot.value = .double(Double(number))
                return
            }
            encoder.slot.value = .int(integer)
        default: try EncodingSlot.encode(value, into: encoder.slot, codingPath: encoder.codingPath)
        }
    }
}
