import Foundation
import QuillAPI

/// A parsed MLflow run filter (`metrics.acc > 0.9 and params.optimizer = 'adam'`): comparisons joined by
/// `AND`, as MLflow's `SearchUtils.parse_search_filter` reads them, checked as its SQL store checks them.
///
/// Every error is an ``MLflowHTTPError`` with `INVALID_PARAMETER_VALUE` and MLflow's message (Python sets in
/// messages are printed in a fixed order).
struct MLflowSearchFilter: Sendable, Hashable {
    /// What a comparison looks at.
    enum Kind: String, Sendable, Hashable {
        case metric
        case parameter
        case tag
        case attribute
        case dataset
    }

    /// A comparison operator, upper-cased as MLflow compares them.
    enum Comparator: String, Sendable, Hashable {
        case equal = "="
        case notEqual = "!="
        case less = "<"
        case lessOrEqual = "<="
        case greater = ">"
        case greaterOrEqual = ">="
        case like = "LIKE"
        case ilike = "ILIKE"
        case `in` = "IN"
        case notIn = "NOT IN"
        case isNull = "IS NULL"
        case isNotNull = "IS NOT NULL"
    }

    /// A compared value.
    enum Value: Sendable, Hashable {
        case number(Double)
        case text(String)
        case list([String])
        case none
    }

    /// One comparison. Attribute keys are MLflow's canonical names (`created` is `start_time`, `run name` is
    /// `run_name`).
    struct Comparison: Sendable, Hashable {
        var kind: Kind
        var key: String
        var comparator: Comparator
        var value: Value
    }

    /// The comparisons, all of which must hold.
    var comparisons: [Comparison]

    static let metricComparators = [">", ">=", "!=", "=", "<", "<="]
    static let paramComparators = ["!=", "=", "LIKE", "ILIKE", "IS NULL", "IS NOT NULL"]
    static let stringAttributeComparators = ["!=", "=", "LIKE", "ILIKE", "IN", "NOT IN"]
    static let numericAttributes: Set<String> = ["start_time", "end_time", "created", "Created"]
    static let searchAttributes = [
        "user_id", "run name", "end_time", "run_id", "start_time", "Run name", "status", "Created", "Run Name",
        "artifact_uri", "created", "run_name",
    ]
    static let orderAttributes = [
        "user_id", "end_time", "run_id", "start_time", "status", "Created", "artifact_uri", "created", "run_name",
    ]
    static let datasetAttributes = ["name", "digest", "context"]

    /// MLflow's canonical name of an attribute.
    static func canonicalAttribute(_ key: String) -> String {
        switch key {
        case "created", "Created": "start_time"
        case "run name", "Run name", "Run Name": "run_name"
        default: key
        }
    }

    /// A Python set as MLflow's messages print it.
    static func pythonSet(_ items: [String]) -> String {
        "{" + items.map { "'\($0)'" }.joined(separator: ", ") + "}"
    }

    static func invalid(_ message: String) -> MLflowHTTPError {
        MLflowHTTPError(.invalidParameterValue, message)
    }

    /// Parses a filter; `nil` and the empty string are no filter.
    init(parsing text: String?) throws(MLflowHTTPError) {
        guard let text, !text.isEmpty else {
            comparisons = []
            return
        }
        if text.allSatisfy(\.isWhitespace) {
            throw Self.invalid("Invalid filter '\(text)'. Could not be parsed.")
        }
        if let semicolon = text.firstIndex(of: ";"),
            !text[text.index(after: semicolon)...].allSatisfy({ $0.isWhitespace || $0 == ";" })
        {
            throw Self.invalid(
                "Search filter contained multiple expression '\(text)'. Provide AND-ed expression list."
            )
        }
        let tokens = MLflowSearchLexer.tokenize(text)
        var clauses: [[MLflowSearchToken]] = []
        var invalid: [MLflowSearchToken] = []
        var index = 0
        while index < tokens.count {
            let token = tokens[index]
            if token.kind == .keyword, token.word == "AND" {
                index += 1
                continue
            }
            if let clause = Self.clause(tokens, at: index) {
                clauses.append(Array(tokens[index..<index + clause]))
                index += clause
            } else {
                invalid.append(token)
                index += 1
            }
        }
        guard invalid.isEmpty else {
            throw Self.invalid(
                "Invalid clause(s) in filter string: " + invalid.map { "'\($0.raw)'" }.joined(separator: ", ")
            )
        }
        var comparisons: [Comparison] = []
        for clause in clauses { comparisons.append(try Self.comparison(clause)) }
        self.comparisons = comparisons
    }

    /// How many tokens a comparison at `index` takes, or `nil` when none starts there.
    static func clause(_ tokens: [MLflowSearchToken], at index: Int) -> Int? {
        guard tokens[index].kind == .identifier, index + 1 < tokens.count else { return nil }
        let second = tokens[index + 1]
        let third = index + 2 < tokens.count ? tokens[index + 2] : nil
        let fourth = index + 3 < tokens.count ? tokens[index + 3] : nil
        func isValue(_ token: MLflowSearchToken?) -> Bool {
            guard let token else { return false }
            return token.kind == .string || token.kind == .number || token.kind == .identifier || token.kind == .list
        }
        switch (second.kind, second.word) {
        case (.comparison, _), (.keyword, "LIKE"), (.keyword, "ILIKE"):
            return isValue(third) ? 3 : nil
        case (.keyword, "IN"):
            return third?.kind == .list ? 3 : nil
        case (.keyword, "NOT"):
            return third?.kind == .keyword && third?.word == "IN" && fourth?.kind == .list ? 4 : nil
        case (.keyword, "IS"):
            if third?.kind == .keyword, third?.word == "NULL" { return 3 }
            if third?.kind == .keyword, third?.word == "NOT", fourth?.kind == .keyword, fourth?.word == "NULL" {
                return 4
            }
            return nil
        default:
            return nil
        }
    }

    /// Reads one comparison's identifier, comparator and value, checked as MLflow checks them.
    private static func comparison(_ clause: [MLflowSearchToken]) throws(MLflowHTTPError) -> Comparison {
        let identifier = try Self.identifier(clause[0].raw, validAttributes: searchAttributes)
        var comparatorText = clause[1].word
        if clause.count == 4 { comparatorText = clause[1].word + " " + clause[2].word }
        if clause[1].word == "IS" { comparatorText = clause.count == 4 ? "IS NOT NULL" : "IS NULL" }
        let kind = identifier.kind
        if comparatorText == "IS NULL" || comparatorText == "IS NOT NULL" {
            guard kind == .tag || kind == .parameter else {
                throw invalid(
                    "IS NULL / IS NOT NULL is only supported for tags and params, not for '\(kind.rawValue)' '\(identifier.key)'"
                )
            }
            return Comparison(
                kind: kind,
                key: identifier.key,
                comparator: comparatorText == "IS NULL" ? .isNull : .isNotNull,
                value: .none
            )
        }
        let valueToken = clause[clause.count - 1]
        let value = try Self.value(kind, key: identifier.key, valueToken)
        // The comparator checks of MLflow's SQL store (`is_metric`, `is_param`, …).
        let allowed: [String]
        let message: String
        switch kind {
        case .metric:
            allowed = metricComparators
            message = "Invalid comparator '\(comparatorText)' not one of '\(pythonSet(allowed))"
        case .parameter:
            allowed = paramComparators
            message = "Invalid comparator '\(comparatorText)' not one of '\(pythonSet(allowed))'"
        case .tag:
            allowed = paramComparators
            message = "Invalid comparator '\(comparatorText)' not one of '\(pythonSet(allowed))"
        case .attribute where numericAttributes.contains(identifier.key):
            allowed = metricComparators
            message = "Invalid comparator '\(comparatorText)' not one of '\(pythonSet(stringAttributeComparators))"
        case .attribute:
            allowed = stringAttributeComparators
            message = "Invalid comparator '\(comparatorText)' not one of '\(pythonSet(allowed))'"
        case .dataset:
            allowed = stringAttributeComparators
            message = "Invalid comparator '\(comparatorText)' not one of '\(pythonSet(allowed))"
        }
        guard allowed.contains(comparatorText), let comparator = Comparator(rawValue: comparatorText) else {
            throw invalid(message)
        }
        switch (comparator, value) {
        case (.in, .list), (.notIn, .list): break
        case (.in, _), (.notIn, _), (_, .list):
            throw invalid("Invalid clause(s) in filter string: " + clause.map { "'\($0.raw)'" }.joined(separator: ", "))
        default: break
        }
        let key = kind == .attribute ? canonicalAttribute(identifier.key) : identifier.key
        return Comparison(kind: kind, key: key, comparator: comparator, value: value)
    }

    /// MLflow's `_get_identifier`: `type.key` or a bare attribute, quotes and backquotes removed.
    static func identifier(
        _ text: String,
        validAttributes: [String]
    ) throws(MLflowHTTPError) -> (kind: Kind, key: String) {
        let entity: String
        var key: String
        if let dot = text.firstIndex(of: ".") {
            entity = String(text[..<dot])
            key = String(text[text.index(after: dot)...])
        } else {
            entity = "attribute"
            key = text
        }
        let kind: Kind
        switch trimmed(entity, "`") {
        case "metric", "metrics": kind = .metric
        case "parameter", "parameters", "param", "params": kind = .parameter
        case "tag", "tags": kind = .tag
        case "attribute", "attr", "attributes", "run": kind = .attribute
        case "dataset", "datasets": kind = .dataset
        default:
            throw invalid(
                "Invalid entity type '\(trimmed(entity, "`"))'. Valid values are ['metric', 'parameter', 'tag', 'attribute', 'dataset']"
            )
        }
        key = trimmed(key, "'")
        key = trimmed(key, "\"")
        key = trimmed(key, "`")
        if kind == .attribute, !validAttributes.contains(key) {
            throw invalid("Invalid attribute key '\(key)' specified. Valid keys are '\(pythonSet(validAttributes))'")
        }
        if kind == .dataset, !datasetAttributes.contains(key) {
            throw invalid("Invalid dataset key '\(key)' specified. Valid keys are '\(pythonSet(datasetAttributes))'")
        }
        return (kind, key)
    }

    /// `text` without one pair of `quote` around it.
    static func trimmed(_ text: String, _ quote: Character) -> String {
        guard text.count >= 2, text.first == quote, text.last == quote else { return text }
        return String(text.dropFirst().dropLast())
    }

    /// MLflow's `_get_value`.
    private static func value(
        _ kind: Kind,
        key: String,
        _ token: MLflowSearchToken
    ) throws(MLflowHTTPError) -> Value {
        switch kind {
        case .metric:
            guard token.kind == .number, let number = Double(token.raw) else {
                throw invalid("Expected numeric value type for metric. Found \(token.raw)")
            }
            return .number(number)
        case .parameter, .tag:
            guard token.kind == .string || token.kind == .identifier else {
                throw invalid(
                    "Expected a quoted string value for \(kind.rawValue) (e.g. 'my-value'). Got value \(token.raw)"
                )
            }
            return .text(try quotedText(token.raw))
        case .attribute where numericAttributes.contains(key):
            guard token.kind == .number, let number = Double(token.raw) else {
                throw invalid("Expected numeric value type for numeric attribute: \(key). Found \(token.raw)")
            }
            return .number(number)
        case .attribute, .dataset:
            if token.kind == .string || token.kind == .identifier { return .text(try quotedText(token.raw)) }
            if token.kind == .list {
                if kind == .attribute, key != "run_id" {
                    throw invalid("Only ['run_id'] attributes support comparison with a list of quoted string values.")
                }
                return .list(try list(token))
            }
            let what = kind == .dataset ? "dataset attributes" : "attributes"
            throw invalid("Expected a quoted string value for \(what). Got value \(token.raw)")
        }
    }

    /// A quoted value without its quotes (MLflow keeps what is inside as written).
    static func quotedText(_ raw: String) throws(MLflowHTTPError) -> String {
        for quote in ["'", "\""] as [Character] where raw.count >= 2 && raw.first == quote && raw.last == quote {
            return String(raw.dropFirst().dropLast())
        }
        throw invalid(
            "Parameter value is either not quoted or unidentified quote types used for string value \(raw). Use either single or double quotes."
        )
    }

    /// The strings of a parenthesized list, as Python's `ast.literal_eval` reads a tuple of string literals.
    static func list(_ token: MLflowSearchToken) throws(MLflowHTTPError) -> [String] {
        if token.items.isEmpty {
            throw invalid(
                "While parsing a list in the query, expected a non-empty list of string values, but got empty list"
            )
        }
        var values: [String] = []
        for item in token.items {
            guard item.kind == .string || (item.kind == .identifier && item.raw.first == "\"") else {
                if item.kind == .number {
                    throw invalid(
                        "While parsing a list in the query, expected string value, punctuation, or whitespace, but got different type in list: \(token.raw)"
                    )
                }
                throw invalid(
                    "While parsing a list in the query, expected a non-empty list of string values, but got ill-formed list."
                )
            }
            values.append(String(item.raw.dropFirst().dropLast()))
        }
        return values
    }
}
