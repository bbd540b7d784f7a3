import GRDB
import QuillCore
import QuillStore

extension SQLValue {
    /// The value as GRDB binds it.
    var databaseValue: DatabaseValue {
        switch self {
        case .null: .null
        case .integer(let number): number.databaseValue
        case .real(let number): number.databaseValue
        case .text(let text): text.databaseValue
        }
    }
}

extension SQLFragment {
    /// The arguments as GRDB binds them.
    var statementArguments: StatementArguments {
        StatementArguments(arguments.map(\.databaseValue))
    }
}

extension SearchQueryTranslator {
    /// The SQL function `quill_eval(n, value)`: whether the n-th fallback comparison holds for a field
    /// whose value is `value` (JSON text from `search_fields`, or a number of `metric_stats`, NULL for NaN).
    ///
    /// It evaluates with ``RunQuery/matches(_:)`` on a run that has only that value, so it agrees with the
    /// in-memory semantics by construction. Register it on the connection for the query that uses it.
    func evaluator() -> DatabaseFunction {
        let fallbacks = self.fallbacks
        let template = Self.emptyRun
        return DatabaseFunction(Self.evaluatorName, argumentCount: 2, pure: true) { arguments in
            guard let index = Int.fromDatabaseValue(arguments[0]), fallbacks.indices.contains(index),
                case .comparison(let field, _, _) = fallbacks[index]
            else { return false }
            let value: JSONValue
            switch arguments[1].storage {
            case .string(let text): value = (try? JSONParser.parse(text)) ?? .null
            case .int64(let number): value = .int(Int(number))
            case .double(let number): value = .double(number)
            case .null: value = .double(.nan)
            case .blob: value = .null
            }
            var run = template
            switch field {
            case .attribute(let name): run.attributes[name] = value
            case .param(let key): run.params[key] = value
            case .tag(let key): run.tags[key] = value.stringValue ?? QueryComparison.text(value)
            case .summary(let key): run.summary[key] = value
            case .metric(let key, let aggregate):
                let number = value.doubleValue ?? .nan
                run.metrics[key] = MetricStatistics(
                    count: aggregate == .count ? (value.intValue ?? 0) : 1,
                    last: number,
                    lastStep: nil,
                    min: number,
                    max: number
                )
            }
            return RunQuery(fallbacks[index]).matches(run)
        }
    }

    /// A run without any value.
    private static var emptyRun: QueryableRun {
        let meta = RunMeta(
            id: RunID.random(),
            name: "",
            project: Project(displayName: "-"),
            kind: .training,
            parent: nil,
            startedAt: Timestamp.date(microseconds: 0)
        )
        var run = QueryableRun(meta: meta, config: .object([:]), metrics: [:])
        run.attributes = [:]
        run.params = [:]
        run.tags = [:]
        run.summary = [:]
        return run
    }
}
