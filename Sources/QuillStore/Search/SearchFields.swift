import Foundation
package import QuillCore

/// The rows of the `search_fields` table, the same in every store: every attribute, param (config merged
/// with params), tag and summary value of a run, exactly as ``QueryableRun`` sees it, one row per value, so
/// searches compare and sort in SQL.
///
/// Each row is computed from the run's ``RunDetails/queryable`` (the same values the in-memory evaluation of
/// ``RunQuery`` looks at) and carries what the query language's comparisons need (the columns of
/// `search_fields`):
/// - `kind`: 0 null, 1 false, 2 true, 3 text, 4 any other value (number, array, object);
/// - `isnum`: whether the value reads as a number (`QueryComparison.number`), NaN included;
/// - `num`: that number, NULL for NaN (neither store keeps NaN) and for non-numbers;
/// - `txt`: the value's text (`QueryComparison.text`) in Unicode NFC, so bytewise order and equality in SQL
///   are Swift's `String` order and equality;
/// - `raw`: the text as it is when NFC changed it (pattern matching works on the text as it is), else NULL;
/// - `tm`: for `created`, the time in microseconds;
/// - `json`: the value as JSON, for comparisons evaluated in Swift (see ``SearchQueryTranslator``);
/// - `started_at`: a copy of the run's, so the indexes serve a sort's ties (newest first) too.
///
/// Every write that changes a run's record, params, tags or summary recomputes the run's rows in the same
/// transaction; deleting a run deletes its rows (foreign key cascade).
package struct SearchFieldRow: Sendable, Hashable {
    /// Field codes of the `field` column.
    package enum Code {
        /// A run attribute (`name`, `status`, `created`…).
        package static let attribute = 0
        /// A param or config value.
        package static let param = 1
        /// A tag.
        package static let tag = 2
        /// A summary value.
        package static let summary = 3
    }

    /// `field`: one of ``Code``.
    package var field: Int
    /// `key`.
    package var key: String
    /// `kind`.
    package var kind: Int
    /// `isnum`.
    package var isNumber: Bool
    /// `num`.
    package var number: Double?
    /// `txt`.
    package var text: String
    /// `raw`.
    package var raw: String?
    /// `tm`.
    package var time: Int64?
    /// `json`.
    package var json: String

    /// The rows of a run with these params and tags.
    package static func rows(run: StoredRun, params: [String: JSONValue], tags: [String: String]) -> [SearchFieldRow] {
        let values = RunDetails(run: run, params: params, tags: tags, links: [], metrics: [:]).queryable
        var rows: [SearchFieldRow] = []
        rows.reserveCapacity(values.attributes.count + values.params.count + values.tags.count + values.summary.count)
        for (key, value) in values.attributes { rows.append(SearchFieldRow(Code.attribute, key, value)) }
        for (key, value) in values.params { rows.append(SearchFieldRow(Code.param, key, value)) }
        for (key, value) in values.tags { rows.append(SearchFieldRow(Code.tag, key, .string(value))) }
        for (key, value) in values.summary { rows.append(SearchFieldRow(Code.summary, key, value)) }
        return rows
    }

    /// The row of one value.
    init(_ field: Int, _ key: String, _ value: JSONValue) {
        let number = QueryComparison.number(value)
        let text = QueryComparison.text(value)
        let normalized = Self.normalize(text)
        self.field = field
        self.key = key
        kind = Self.kind(of: value)
        isNumber = number != nil
        self.number = number.flatMap { $0.isNaN ? nil : $0 }
        self.text = normalized
        raw = normalized.utf8.elementsEqual(text.utf8) ? nil : text
        time = field == Code.attribute && key == "created" ? Timestamp.parseMicroseconds(Array(text.utf8)) : nil
        json = JSONWriter.string(value)
    }

    /// The `kind` column for a value.
    package static func kind(of value: JSONValue) -> Int {
        switch value {
        case .null: 0
        case .bool(let flag): flag ? 2 : 1
        case .string: 3
        case .int, .double, .array, .object: 4
        }
    }

    /// Text in Unicode NFC: Swift compares strings by canonical equivalence, in the order of their NFC
    /// scalars, which is the byte order of NFC UTF-8.
    package static func normalize(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return text }
        return text.precomposedStringWithCanonicalMapping
    }
}
