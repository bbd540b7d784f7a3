import Foundation
import QuillAPI

/// MLflow's run order: the `order_by` clauses (`metrics.acc DESC`, `params.lr`, `attributes.start_time`),
/// then start time, newest first (unless a clause orders by it), then run id, as MLflow's SQL store sorts.
///
/// Each clause sorts runs that have the key first, in either direction: a metric's numbers, then its NaN
/// values, then runs without it; other keys' values, then runs without them. Params, tags and string
/// attributes compare as text (by Unicode scalar, as SQLite compares UTF-8), times as milliseconds.
struct MLflowRunOrder: Sendable, Hashable {
    /// One `order_by` clause.
    struct Key: Sendable, Hashable {
        /// `metric`, `parameter`, `tag` or `attribute`.
        var kind: MLflowSearchFilter.Kind
        /// The key; attributes by MLflow's canonical name.
        var key: String
        var ascending: Bool
    }

    var keys: [Key]

    /// Parses MLflow's `order_by` list.
    init(parsing clauses: [String]) throws(MLflowHTTPError) {
        var keys: [Key] = []
        for clause in clauses {
            let key = try Self.key(clause)
            if keys.contains(where: { $0.kind == key.kind && $0.key == key.key }) {
                throw MLflowSearchFilter.invalid(
                    "`order_by` contains duplicate fields: [" + clauses.map { "'\($0)'" }.joined(separator: ", ") + "]"
                )
            }
            keys.append(key)
        }
        self.keys = keys
    }

    init(keys: [Key]) {
        self.keys = keys
    }

    /// MLflow's `parse_order_by_for_search_runs`.
    static func key(_ clause: String) throws(MLflowHTTPError) -> Key {
        let (name, ascending) = try parseClause(clause)
        let identifier = try MLflowSearchFilter.identifier(name, validAttributes: MLflowSearchFilter.orderAttributes)
        guard identifier.kind != .dataset else { throw MLflowSearchFilter.invalid("Invalid identifier type 'dataset'") }
        let key =
            identifier.kind == .attribute ? MLflowSearchFilter.canonicalAttribute(identifier.key) : identifier.key
        return Key(kind: identifier.kind, key: key, ascending: ascending)
    }

    /// MLflow's `_parse_order_by_string`: the identifier's text (quotes removed as `shlex` does) and the
    /// direction.
    static func parseClause(_ clause: String) throws(MLflowHTTPError) -> (name: String, ascending: Bool) {
        let unparsable = MLflowSearchFilter.invalid("Invalid order_by clause '\(clause)'. Could not be parsed.")
        let tokens = MLflowSearchLexer.tokenize(clause)
        guard let first = tokens.first, first.kind == .identifier, tokens.count <= 2 else { throw unparsable }
        var ascending = true
        if tokens.count == 2 {
            guard tokens[1].kind == .keyword, tokens[1].word == "ASC" || tokens[1].word == "DESC" else {
                if tokens[1].kind == .identifier {
                    throw MLflowSearchFilter.invalid("Invalid ordering key in order_by clause '\(clause)'.")
                }
                throw unparsable
            }
            ascending = tokens[1].word == "ASC"
        }
        // MLflow turns backquotes into double quotes and lets `shlex` remove them.
        return (shlexUnquoted(first.raw.replacingOccurrences(of: "`", with: "\"")), ascending)
    }

    /// A word with `shlex`'s quotes removed (`metrics."a b"` is `metrics.a b`).
    private static func shlexUnquoted(_ text: String) -> String {
        var result = ""
        var quote: Character?
        for character in text {
            if let open = quote {
                if character == open { quote = nil } else { result.append(character) }
            } else if character == "\"" || character == "'" {
                quote = character
            } else {
                result.append(character)
            }
        }
        return result
    }

    /// Whether the order names the start time (then the default newest-first tie-break is left out).
    var ordersByStartTime: Bool { keys.contains { $0.kind == .attribute && $0.key == "start_time" } }

    /// Whether `lhs` comes before `rhs`.
    func precedes(_ lhs: MLflowRunValues, _ rhs: MLflowRunValues) -> Bool {
        for key in keys {
            let order = Self.compare(key, lhs, rhs)
            if order != 0 { return order < 0 }
        }
        if !ordersByStartTime, lhs.startTime != rhs.startTime { return lhs.startTime > rhs.startTime }
        return lhs.runID.utf8.lexicographicallyPrecedes(rhs.runID.utf8)
    }

    /// A sortable value of one key.
    enum SortValue: Equatable {
        case number(Double)
        case text(String)
    }

    /// The bucket (0 value, 1 NaN, 2 missing for metrics; 0 value, 1 missing otherwise) and the value.
    static func sortValue(_ key: Key, _ run: MLflowRunValues) -> (bucket: Int, value: SortValue?) {
        switch key.kind {
        case .metric:
            guard let value = run.metrics[key.key] else { return (2, nil) }
            return value.isNaN ? (1, nil) : (0, .number(value))
        case .parameter: return run.params[key.key].map { (0, .text($0)) } ?? (1, nil)
        case .tag: return run.tags[key.key].map { (0, .text($0)) } ?? (1, nil)
        case .dataset: return (1, nil)
        case .attribute:
            switch key.key {
            case "start_time": return (0, .number(Double(run.startTime)))
            case "end_time": return run.endTime.map { (0, .number(Double($0))) } ?? (1, nil)
            default: return run.attribute(key.key).map { (0, .text($0)) } ?? (1, nil)
            }
        }
    }

    /// -1, 0 or 1.
    static func compare(_ key: Key, _ lhs: MLflowRunValues, _ rhs: MLflowRunValues) -> Int {
        let left = sortValue(key, lhs)
        let right = sortValue(key, rhs)
        if left.bucket != right.bucket { return left.bucket < right.bucket ? -1 : 1 }
        let order: Int
        switch (left.value, right.value) {
        case (.number(let a)?, .number(let b)?): order = a < b ? -1 : (a > b ? 1 : 0)
        case (.text(let a)?, .text(let b)?):
            order =
                a.utf8.elementsEqual(b.utf8) ? 0 : (a.utf8.lexicographicallyPrecedes(b.utf8) ? -1 : 1)
        default: order = 0
        }
        return key.ascending ? order : -order
    }
}
