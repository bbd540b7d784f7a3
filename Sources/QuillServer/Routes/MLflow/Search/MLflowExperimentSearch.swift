import QuillAPI

/// MLflow's `experiments/search` filter and order, in memory (a server has few experiments), as MLflow's SQL
/// store answers them.
///
/// Filter: `name` / `attributes.name` with `=`, `!=`, `LIKE`, `ILIKE`; `experiment_id` with `=`, `!=`, `IN`,
/// `NOT IN`; `creation_time` and `last_update_time` with `=`, `!=`, `<`, `<=`, `>`, `>=` on integers; `tags.KEY`
/// with `=`, `!=`, `LIKE`, `ILIKE`, `IS NULL`, `IS NOT NULL`; joined by `AND`. Order: `name`, `experiment_id`,
/// `creation_time`, `last_update_time`, each `ASC` or `DESC`; by default newest first, then by id; ties by id,
/// largest first.
enum MLflowExperimentSearch {
    static let attributes = ["name", "experiment_id", "creation_time", "last_update_time"]
    static let numericAttributes: Set<String> = ["creation_time", "last_update_time"]

    struct Comparison {
        var isTag: Bool
        var key: String
        var comparator: MLflowSearchFilter.Comparator
        var value: MLflowSearchFilter.Value
    }

    /// The experiments that match `filter`, in the order of `orderBy`.
    static func filter(
        _ experiments: [MLflowExperiment],
        filter: String?,
        orderBy: [String]
    ) throws -> [MLflowExperiment] {
        let comparisons = try parse(filter)
        var order: [(key: String, ascending: Bool)] = []
        for clause in orderBy.isEmpty ? ["creation_time DESC", "experiment_id ASC"] : orderBy {
            order.append(try orderKey(clause))
        }
        if !order.contains(where: { $0.key == "experiment_id" }) { order.append(("experiment_id", false)) }
        let matching = experiments.filter { experiment in comparisons.allSatisfy { matches(experiment, $0) } }
        return matching.sorted { lhs, rhs in
            for (key, ascending) in order {
                let order = compare(lhs, rhs, key)
                if order != 0 { return ascending ? order < 0 : order > 0 }
            }
            return false
        }
    }

    private static func identifier(
        _ text: String,
        valid: [String]
    ) throws(MLflowHTTPError) -> (isTag: Bool, key: String) {
        var key = text
        var isTag = false
        if let dot = text.firstIndex(of: ".") {
            let entity = String(text[..<dot])
            key = String(text[text.index(after: dot)...])
            guard ["attribute", "tag", "tags"].contains(entity) else {
                throw MLflowSearchFilter.invalid(
                    "Invalid entity type '\(entity)'. Valid entity types are ('attribute', 'tag', 'tags')"
                )
            }
            isTag = entity != "attribute"
        }
        key = MLflowSearchFilter.trimmed(key, "'")
        key = MLflowSearchFilter.trimmed(key, "\"")
        key = MLflowSearchFilter.trimmed(key, "`")
        if !isTag, !valid.contains(key) {
            throw MLflowSearchFilter.invalid(
                "Invalid attribute key '\(key)' specified. Valid keys are '\(MLflowSearchFilter.pythonSet(valid))'"
            )
        }
        return (isTag, key)
    }

    static func parse(_ text: String?) throws(MLflowHTTPError) -> [Comparison] {
        guard let text, !text.isEmpty else { return [] }
        if text.allSatisfy(\.isWhitespace) {
            throw MLflowSearchFilter.invalid("Invalid filter '\(text)'. Could not be parsed.")
        }
        let tokens = MLflowSearchLexer.tokenize(text)
        var clauses: [[MLflowSearchToken]] = []
        var invalid: [String] = []
        var index = 0
        while index < tokens.count {
            if tokens[index].kind == .keyword, tokens[index].word == "AND" {
                index += 1
            } else if let count = MLflowSearchFilter.clause(tokens, at: index) {
                clauses.append(Array(tokens[index..<index + count]))
                index += count
            } else {
                invalid.append(tokens[index].raw)
                index += 1
            }
        }
        guard invalid.isEmpty else {
            throw MLflowSearchFilter.invalid("Invalid clause(s) in filter string: " + invalid.joined(separator: ", "))
        }
        var comparisons: [Comparison] = []
        for clause in clauses { comparisons.append(try comparison(clause)) }
        return comparisons
    }

    private static func comparison(_ clause: [MLflowSearchToken]) throws(MLflowHTTPError) -> Comparison {
        let (isTag, key) = try identifier(clause[0].raw, valid: attributes)
        var comparatorText = clause[1].word
        if clause[1].word == "IS" { comparatorText = clause.count == 4 ? "IS NOT NULL" : "IS NULL" }
        if clause[1].word == "NOT" { comparatorText = "NOT IN" }
        if comparatorText == "IS NULL" || comparatorText == "IS NOT NULL" {
            guard isTag else {
                throw MLflowSearchFilter.invalid(
                    "IS NULL / IS NOT NULL is only supported for tags, not for attribute '\(key)'"
                )
            }
            return Comparison(
                isTag: true,
                key: key,
                comparator: comparatorText == "IS NULL" ? .isNull : .isNotNull,
                value: .none
            )
        }
        let token = clause[clause.count - 1]
        let value: MLflowSearchFilter.Value
        if !isTag, numericAttributes.contains(key) {
            guard token.kind == .number, let number = Double(token.raw) else {
                throw MLflowSearchFilter.invalid(
                    "Expected numeric value type for numeric attribute: \(key). Found \(token.raw)"
                )
            }
            guard !token.raw.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) else {
                throw MLflowSearchFilter.invalid("Invalid value for numeric attribute '\(key)': '\(token.raw)'")
            }
            value = .number(number)
        } else if token.kind == .string || token.kind == .identifier {
            value = .text(try MLflowSearchFilter.quotedText(token.raw))
        } else if token.kind == .list, !isTag {
            guard key == "experiment_id" else {
                throw MLflowSearchFilter.invalid(
                    "Only ['experiment_id'] attributes support comparison with a list of quoted string values."
                )
            }
            value = .list(try MLflowSearchFilter.list(token))
        } else {
            let what = isTag ? "tag (e.g. 'my-value')" : "attributes"
            throw MLflowSearchFilter.invalid("Expected a quoted string value for \(what). Got value \(token.raw)")
        }
        let allowed: [String]
        let message: String
        if isTag {
            allowed = ["=", "!=", "LIKE", "ILIKE"]
            message = "Invalid comparator for tag: \(comparatorText)"
        } else if key == "experiment_id" {
            allowed = ["=", "!=", "IN", "NOT IN"]
            message = "Invalid comparator for experiment_id: \(comparatorText)"
        } else if numericAttributes.contains(key) {
            allowed = ["=", "!=", "<", "<=", ">", ">="]
            message =
                MLflowSearchFilter.metricComparators.contains(comparatorText)
                ? "Invalid comparator for numeric attribute: \(comparatorText)"
                : "Invalid comparator '\(comparatorText)' not one of '\(MLflowSearchFilter.pythonSet(MLflowSearchFilter.stringAttributeComparators))"
        } else {
            allowed = ["=", "!=", "LIKE", "ILIKE"]
            message =
                MLflowSearchFilter.stringAttributeComparators.contains(comparatorText)
                ? "Invalid comparator for string attribute: \(comparatorText)"
                : "Invalid comparator '\(comparatorText)' not one of '\(MLflowSearchFilter.pythonSet(MLflowSearchFilter.stringAttributeComparators))'"
        }
        guard allowed.contains(comparatorText), let comparator = MLflowSearchFilter.Comparator(rawValue: comparatorText)
        else { throw MLflowSearchFilter.invalid(message) }
        if key == "experiment_id", !isTag {
            let ids: [String]
            switch value {
            case .text(let text): ids = [text]
            case .list(let list): ids = list
            default: ids = []
            }
            for id in ids where Int64(id) == nil {
                throw MLflowHTTPError(.invalidParameterValue, "Invalid experiment ID: '\(id)'")
            }
        }
        return Comparison(isTag: isTag, key: key, comparator: comparator, value: value)
    }

    private static func orderKey(_ clause: String) throws(MLflowHTTPError) -> (key: String, ascending: Bool) {
        let (name, ascending) = try MLflowRunOrder.parseClause(clause)
        let (isTag, key) = try identifier(name, valid: attributes)
        guard !isTag else { throw MLflowSearchFilter.invalid("Invalid order_by entity: tag") }
        return (key, ascending)
    }

    private static func matches(_ experiment: MLflowExperiment, _ comparison: Comparison) -> Bool {
        if comparison.isTag {
            let value = experiment.tags?.first(where: { $0.key == comparison.key })?.value
            switch comparison.comparator {
            case .isNull: return value == nil
            case .isNotNull: return value != nil
            default:
                guard let value else { return false }
                return MLflowRunValues.compare(value, comparison.comparator, comparison.value)
            }
        }
        switch comparison.key {
        case "name": return MLflowRunValues.compare(experiment.name, comparison.comparator, comparison.value)
        case "experiment_id":
            guard let id = Int64(experiment.experimentID) else { return false }
            let wanted: [Int64]
            switch comparison.value {
            case .text(let text): wanted = [Int64(text)].compactMap { $0 }
            case .list(let list): wanted = list.compactMap { Int64($0) }
            default: wanted = []
            }
            switch comparison.comparator {
            case .equal, .in: return wanted.contains(id)
            case .notEqual, .notIn: return !wanted.contains(id)
            default: return false
            }
        default:
            let time = comparison.key == "creation_time" ? experiment.creationTime : experiment.lastUpdateTime
            guard let time, case .number(let number) = comparison.value else { return false }
            return MLflowRunValues.compare(Double(time.value), comparison.comparator, number)
        }
    }

    /// -1, 0 or 1 by one attribute; a missing time sorts last.
    private static func compare(_ lhs: MLflowExperiment, _ rhs: MLflowExperiment, _ key: String) -> Int {
        switch key {
        case "name":
            if lhs.name.utf8.elementsEqual(rhs.name.utf8) { return 0 }
            return lhs.name.utf8.lexicographicallyPrecedes(rhs.name.utf8) ? -1 : 1
        case "experiment_id":
            let a = Int64(lhs.experimentID) ?? .max
            let b = Int64(rhs.experimentID) ?? .max
            return a < b ? -1 : (a > b ? 1 : 0)
        default:
            let a = (key == "creation_time" ? lhs.creationTime : lhs.lastUpdateTime)?.value
            let b = (key == "creation_time" ? rhs.creationTime : rhs.lastUpdateTime)?.value
            switch (a, b) {
            case (let a?, let b?): return a < b ? -1 : (a > b ? 1 : 0)
            case (nil, nil): return 0
            case (nil, _): return 1
            case (_, nil): return -1
            }
        }
    }
}
