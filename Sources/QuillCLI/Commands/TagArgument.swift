import ArgumentParser

/// A tag on the command line (`quill run --tag`, `quill runs --tag`): a label (`baseline`) or `key=value`.
///
/// `key:value`, the older spelling (and the SDK's), means the same as `key=value`: a label never contains
/// `:`, so it cannot be read two ways. A key cannot contain `:` either, because the run directory writes a
/// key-value tag as `key:value` (whirr's shape).
struct TagArgument: Equatable {
    /// The tag's key, or the label.
    var key: String
    /// The value; `nil` for a label.
    var value: String?

    /// Parses a tag; a usage error that shows the expected form when it is not one.
    static func parse(_ text: String) throws -> TagArgument {
        let tag: TagArgument
        if let equals = text.firstIndex(of: "=") {
            tag = TagArgument(key: String(text[..<equals]), value: String(text[text.index(after: equals)...]))
        } else if let colon = text.firstIndex(of: ":") {
            tag = TagArgument(key: String(text[..<colon]), value: String(text[text.index(after: colon)...]))
        } else {
            tag = TagArgument(key: text, value: nil)
        }
        if tag.key.isEmpty {
            throw ValidationError("the tag '\(text)' has no key; write a label or key=value, e.g. --tag team=nlp")
        }
        if tag.key.contains(":") {
            throw ValidationError(
                "the tag key '\(tag.key)' contains ':', which tag keys cannot; write key=value, e.g. --tag team=nlp"
            )
        }
        return tag
    }

    /// The tag as the SDK's `tags:` parameter takes it: the label, or `key:value`.
    var sdkForm: String {
        value.map { "\(key):\($0)" } ?? key
    }

    /// Whether a run's key-value tags match this filter: the key is present and, for `key=value`, has that
    /// value.
    func matches(_ tagValues: [String: String]) -> Bool {
        guard let present = tagValues[key] else { return false }
        return value.map { $0 == present } ?? true
    }
}
