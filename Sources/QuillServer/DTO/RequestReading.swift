import Foundation
import QuillCore

/// Reads request JSON strictly: wrong types and unknown fields are errors that name the field.
struct JSONObjectReader {
    let members: [String: JSONValue]
    private let base: String
    private let index: Int?

    /// Where the object is in the request, for error messages (built only when one is needed).
    var path: String { index.map { "\(base)[\($0)]" } ?? base }

    init(_ value: JSONValue, path: String = "body", index: Int? = nil) throws {
        self.base = path
        self.index = index
        guard case .object(let members) = value else {
            throw QuillError(.invalidArgument, "\(index.map { "\(path)[\($0)]" } ?? path) must be a JSON object")
        }
        self.members = members
    }

    /// Refuses fields other than the allowed ones. Pass a stored set: this runs once per metric object.
    func allowOnly(_ allowed: Set<String>) throws {
        for key in members.keys where !allowed.contains(key) {
            let unknown = members.keys.filter { !allowed.contains($0) }.sorted()
            throw QuillError(
                .invalidArgument,
                "unknown field(s) in \(path): \(unknown.joined(separator: ", ")); allowed: \(allowed.sorted().joined(separator: ", "))"
            )
        }
    }

    func string(_ key: String) throws -> String? {
        guard let value = members[key], value != .null else { return nil }
        guard case .string(let text) = value else { throw typeError(key, "a string") }
        try Self.refuseNUL(text, "\(path).\(key)")
        return text
    }

    /// Names, keys and labels become database keys and, later, file names: a NUL byte in one is refused
    /// rather than silently cut.
    static func refuseNUL(_ text: String, _ what: String) throws {
        if text.utf8.contains(0) {
            throw QuillError(.invalidArgument, "\(what) must not contain a NUL byte")
        }
    }

    /// A key of a param or tag map: a non-empty string without NUL bytes.
    func requiredKey(_ key: String) throws -> String {
        let text = try requiredString(key)
        try Self.checkKey(text, "\(path).\(key)")
        return text
    }

    /// Refuses an empty key or one with a NUL byte.
    static func checkKey(_ text: String, _ what: String) throws {
        guard !text.isEmpty else { throw QuillError(.invalidArgument, "\(what) must not be empty") }
        try refuseNUL(text, what)
    }

    /// Refuses a NUL byte in each key and value of a string map (tags), and gives the keys in NFC (see
    /// ``MetricBounds/normalizedKey(_:)``).
    static func stringMap(_ object: [String: JSONValue], field: String) throws -> [String: String] {
        var map: [String: String] = [:]
        map.reserveCapacity(object.count)
        for (key, value) in object {
            try checkKey(key, "a key of \(field)")
            guard case .string(let text) = value else {
                throw QuillError(.invalidArgument, "\(field) values must be strings")
            }
            try refuseNUL(text, "\(field).\(key)")
            map[MetricBounds.normalizedKey(key)] = text
        }
        return map
    }

    func requiredString(_ key: String) throws -> String {
        guard let text = try string(key) else { throw QuillError(.invalidArgument, "\(path).\(key) is required") }
        return text
    }

    func int(_ key: String) throws -> Int? {
        guard let value = members[key], value != .null else { return nil }
        guard let number = value.intValue else { throw typeError(key, "an integer") }
        return number
    }

    /// An integer within `range`. A fraction, a number outside the range or too large for any integer is
    /// refused with a message that names the field and the range, so no client value reaches arithmetic
    /// that could overflow.
    func int(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let value = members[key], value != .null else { return nil }
        guard let number = value.intValue, range.contains(number) else {
            throw typeError(key, "an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    /// A metric value: a number, or one of the strings "NaN", "Infinity", "-Infinity".
    func double(_ key: String) throws -> Double? {
        guard let value = members[key], value != .null else { return nil }
        switch value {
        case .int, .double: return value.doubleValue
        case .string(let text):
            guard let number = JSONValue.nonFiniteDouble(text) else { throw typeError(key, "a number") }
            return number
        default: throw typeError(key, "a number")
        }
    }

    func object(_ key: String) throws -> [String: JSONValue]? {
        guard let value = members[key], value != .null else { return nil }
        guard case .object(let object) = value else { throw typeError(key, "an object") }
        return object
    }

    func array(_ key: String) throws -> [JSONValue]? {
        guard let value = members[key], value != .null else { return nil }
        guard case .array(let array) = value else { throw typeError(key, "an array") }
        return array
    }

    func time(_ key: String) throws -> Date? {
        guard let text = try string(key) else { return nil }
        guard let date = Timestamp.parse(text) else {
            throw QuillError(.invalidArgument, "\(path).\(key) must be an ISO 8601 time such as 2026-11-24T16:20:01Z")
        }
        return date
    }

    private func typeError(_ key: String, _ expected: String) -> QuillError {
        QuillError(.invalidArgument, "\(path).\(key) must be \(expected)")
    }
}
