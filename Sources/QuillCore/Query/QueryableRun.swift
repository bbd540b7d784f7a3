import Foundation

/// The values of one run that a ``RunQuery`` can look at, gathered once per run.
public struct QueryableRun: Sendable {
    /// `status`, `kind`, `name`, `id`, `project`, `user`, `host`, `created` (ISO 8601), `duration` (seconds),
    /// `parent` (the parent run's id, for nested runs).
    public var attributes: [String: JSONValue]
    /// The config flattened to dotted keys, with params logged after start over it.
    public var params: [String: JSONValue]
    /// Statistics of each metric.
    public var metrics: [String: MetricStatistics]
    /// Tag values (label tags have an empty value).
    public var tags: [String: String]
    /// The summary, flattened to dotted keys.
    public var summary: [String: JSONValue]

    /// Gathers a run's values from its metadata, config and metric statistics.
    public init(meta: RunMeta, config: JSONValue, metrics: [String: MetricStatistics]) {
        var attributes: [String: JSONValue] = [
            "status": .string(meta.status.rawValue), "kind": .string(meta.kind.label), "name": .string(meta.name),
            "id": .string(meta.id.rawValue), "project": .string(meta.project),
            "created": .string(Timestamp.string(meta.startedAt)),
        ]
        if let host = meta.host {
            attributes["user"] = .string(host.user)
            attributes["host"] = .string(host.hostname)
        }
        if let duration = meta.durationSeconds { attributes["duration"] = .double(duration) }
        if let parent = meta.parent { attributes["parent"] = .string(parent.rawValue) }
        self.attributes = attributes
        var params = config.flattened()
        params.merge(JSONValue.object(meta.params).flattened()) { _, new in new }
        self.params = params
        self.metrics = metrics
        self.tags = meta.tagValues
        self.summary = JSONValue.object(meta.summary).flattened()
    }

    /// The value of a field, or `nil` when the run does not have it.
    public func value(of field: RunQuery.Field) -> JSONValue? {
        switch field {
        case .attribute(let name): return attributes[name]
        case .param(let key): return params[key]
        case .tag(let key): return tags[key].map(JSONValue.string)
        case .summary(let key): return summary[key]
        case .metric(let key, let aggregate):
            guard let stats = metrics[key] else { return nil }
            switch aggregate {
            case .latest: return .double(stats.last)
            case .min: return .double(stats.min)
            case .max: return .double(stats.max)
            case .count: return .int(stats.count)
            }
        }
    }
}

extension RunQuery {
    /// Whether a run satisfies the query.
    public func matches(_ run: QueryableRun) -> Bool {
        Self.evaluate(expression, run)
    }

    /// Whether the query looks at metrics (so a reader knows whether it must load them).
    public var referencesMetrics: Bool {
        Self.fields(of: expression).contains { if case .metric = $0 { true } else { false } }
    }

    /// Every field the query names.
    public var fields: [Field] { Self.fields(of: expression) }

    private static func fields(of expression: Expression) -> [Field] {
        switch expression {
        case .and(let operands), .or(let operands): operands.flatMap(fields(of:))
        case .not(let operand): fields(of: operand)
        case .comparison(let field, _, _): [field]
        }
    }

    private static func evaluate(_ expression: Expression, _ run: QueryableRun) -> Bool {
        switch expression {
        case .and(let operands): return operands.allSatisfy { evaluate($0, run) }
        case .or(let operands): return operands.contains { evaluate($0, run) }
        case .not(let operand): return !evaluate(operand, run)
        case .comparison(let field, let op, let values):
            guard let actual = run.value(of: field) else { return false }
            let isTime = field == .attribute("created")
            switch op {
            case .equal: return values.first.map { QueryComparison.equal(actual, $0, isTime: isTime) } ?? false
            case .notEqual: return values.first.map { !QueryComparison.equal(actual, $0, isTime: isTime) } ?? false
            case .in: return values.contains { QueryComparison.equal(actual, $0, isTime: isTime) }
            case .notIn: return !values.contains { QueryComparison.equal(actual, $0, isTime: isTime) }
            case .less, .lessOrEqual, .greater, .greaterOrEqual:
                guard let value = values.first, let order = QueryComparison.order(actual, value, isTime: isTime) else {
                    return false
                }
                switch op {
                case .less: return order < 0
                case .lessOrEqual: return order <= 0
                case .greater: return order > 0
                default: return order >= 0
                }
            case .glob, .notGlob:
                guard case .text(let pattern) = values.first else { return false }
                let matched = fnmatch(pattern, QueryComparison.text(actual), 0) == 0
                return op == .glob ? matched : !matched
            case .like, .ilike:
                guard case .text(let pattern) = values.first else { return false }
                return LikePattern.matches(QueryComparison.text(actual), pattern, caseInsensitive: op == .ilike)
            }
        }
    }
}

/// How query values compare: as numbers when both sides are numbers (or numeric text), as times for
/// `created`, else as text.
package enum QueryComparison {
    package static func number(_ value: JSONValue) -> Double? {
        switch value {
        case .int, .double: return value.doubleValue
        case .string(let text): return Double(text) ?? JSONValue.nonFiniteDouble(text)
        case .bool, .null, .array, .object: return nil
        }
    }

    package static func number(_ value: RunQuery.Value) -> Double? {
        switch value {
        case .number(let number): return number
        case .text(let text): return Double(text)
        case .bool, .null: return nil
        }
    }

    package static func text(_ value: JSONValue) -> String {
        if case .string(let text) = value { return text }
        return value.description
    }

    static func equal(_ actual: JSONValue, _ expected: RunQuery.Value, isTime: Bool) -> Bool {
        switch expected {
        case .null: return actual == .null
        case .bool(let flag): return actual.boolValue == flag
        case .number, .text:
            if isTime { return order(actual, expected, isTime: true) == 0 }
            if let lhs = number(actual), let rhs = number(expected) { return lhs == rhs }
            if case .text(let text) = expected { return self.text(actual) == text }
            return false
        }
    }

    /// -1, 0 or 1; `nil` when the two cannot be ordered (NaN, mixed kinds).
    static func order(_ actual: JSONValue, _ expected: RunQuery.Value, isTime: Bool) -> Int? {
        if isTime, case .text(let text) = expected,
            let lhs = Timestamp.parseMicroseconds(Array(self.text(actual).utf8)),
            let rhs = Timestamp.parseMicroseconds(Array(text.utf8))
        {
            return lhs < rhs ? -1 : (lhs > rhs ? 1 : 0)
        }
        if let lhs = number(actual), let rhs = number(expected) {
            if lhs.isNaN || rhs.isNaN { return nil }
            return lhs < rhs ? -1 : (lhs > rhs ? 1 : 0)
        }
        if case .text(let text) = expected, case .string(let actualText) = actual {
            return actualText < text ? -1 : (actualText > text ? 1 : 0)
        }
        return nil
    }
}

/// An ordering of runs by one field: `metrics.loss.min`, `created desc`, `-summary.acc`.
public struct RunSort: Sendable, Hashable {
    /// The field to order by.
    public var field: RunQuery.Field
    /// Largest first.
    public var descending: Bool

    /// Parses `FIELD [asc|desc]` or `-FIELD` (descending).
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/invalidArgument`` for an unknown field.
    public init(parsing text: String) throws {
        var text = text.trimmingWhitespace()
        var descending = false
        if text.hasPrefix("-") {
            descending = true
            text.removeFirst()
        }
        let lowered = text.lowercased()
        if lowered.hasSuffix(" desc") {
            descending = true
            text = String(text.dropLast(5)).trimmingWhitespace()
        } else if lowered.hasSuffix(" asc") {
            text = String(text.dropLast(4)).trimmingWhitespace()
        }
        let query = try RunQuery(parsing: text + " = 0")
        guard case .comparison(let field, _, _) = query.expression else {
            throw QuillError(.invalidArgument, "cannot sort by '\(text)'; give one field, e.g. metrics.loss.min desc")
        }
        self.field = field
        self.descending = descending
    }

    /// Creates an ordering.
    public init(field: RunQuery.Field, descending: Bool) {
        self.field = field
        self.descending = descending
    }

    /// Whether `lhs` comes before `rhs`. Runs without the field come last, whatever the direction;
    /// numbers order before text.
    public func precedes(_ lhs: QueryableRun, _ rhs: QueryableRun) -> Bool {
        let left = lhs.value(of: field)
        let right = rhs.value(of: field)
        switch (left, right) {
        case (nil, nil): return false
        case (nil, _): return false
        case (_, nil): return true
        case (let left?, let right?):
            let leftNumber = QueryComparison.number(left)
            let rightNumber = QueryComparison.number(right)
            switch (leftNumber, rightNumber) {
            case (let a?, let b?):
                if a.isNaN != b.isNaN { return b.isNaN }
                return descending ? a > b : a < b
            case (.some, nil): return true
            case (nil, .some): return false
            case (nil, nil):
                let a = QueryComparison.text(left)
                let b = QueryComparison.text(right)
                return descending ? a > b : a < b
            }
        }
    }
}
