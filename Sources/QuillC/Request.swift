import QuillCore

/// A JSON object handed over by the caller (a request or a query), read field by field with its types
/// checked: a field that is missing or `null` reads as `nil`, a field of the wrong type or a field this
/// function does not know is an `invalid_argument` error naming it.
struct Request {
    /// The object's members.
    let members: [String: JSONValue]
    /// The parameter's name in messages (`request_json`).
    let name: String

    /// Parses a request and refuses fields outside `known`.
    ///
    /// - Throws: ``QuillError`` with code `invalid_argument` for NULL, bad UTF-8, bad JSON, a non-object or
    ///   an unknown field.
    init(_ pointer: UnsafePointer<CChar>?, _ name: String, known: Set<String>) throws {
        members = try parseObject(pointer, name)
        self.name = name
        let unknown = Set(members.keys).subtracting(known)
        if !unknown.isEmpty {
            throw QuillError(
                .invalidArgument,
                "\(name) has unknown field(s) \(unknown.sorted().joined(separator: ", ")); known fields: \(known.sorted().joined(separator: ", "))"
            )
        }
    }

    private func present(_ key: String) -> JSONValue? {
        guard let value = members[key] else { return nil }
        if case .null = value { return nil }
        return value
    }

    private func wrongType(_ key: String, _ expected: String) -> QuillError {
        QuillError(.invalidArgument, "\(name).\(key) must be \(expected)")
    }

    /// A string field.
    func string(_ key: String) throws -> String? {
        guard let value = present(key) else { return nil }
        guard let text = value.stringValue else { throw wrongType(key, "a string") }
        return text
    }

    /// A string field that, when given, is not empty.
    func nonEmptyString(_ key: String) throws -> String? {
        guard let text = try string(key) else { return nil }
        guard !text.isEmpty else { throw wrongType(key, "a non-empty string") }
        return text
    }

    /// A boolean field.
    func bool(_ key: String) throws -> Bool? {
        guard let value = present(key) else { return nil }
        guard let flag = value.boolValue else { throw wrongType(key, "true or false") }
        return flag
    }

    /// An integer field (an integral double such as `5.0` is accepted).
    func int(_ key: String) throws -> Int? {
        guard let value = present(key) else { return nil }
        guard let number = value.intValue else { throw wrongType(key, "an integer") }
        return number
    }

    /// A finite number field.
    func double(_ key: String) throws -> Double? {
        guard let value = present(key) else { return nil }
        switch value {
        case .int, .double:
            guard let number = value.doubleValue, number.isFinite else { throw wrongType(key, "a finite number") }
            return number
        default: throw wrongType(key, "a number")
        }
    }

    /// An object field.
    func object(_ key: String) throws -> [String: JSONValue]? {
        guard let value = present(key) else { return nil }
        guard let members = value.objectValue else { throw wrongType(key, "a JSON object") }
        return members
    }

    /// An array-of-strings field.
    func strings(_ key: String) throws -> [String]? {
        guard let value = present(key) else { return nil }
        guard let elements = value.arrayValue else { throw wrongType(key, "an array of strings") }
        return try elements.map { element in
            guard let text = element.stringValue else { throw wrongType(key, "an array of strings") }
            return text
        }
    }

    /// An array field.
    func array(_ key: String) throws -> [JSONValue]? {
        guard let value = present(key) else { return nil }
        guard let elements = value.arrayValue else { throw wrongType(key, "an array") }
        return elements
    }
}
