import QuillCore

extension MLflowSearchFilter {
    /// The filter in Quill's query language, for the store to evaluate (in SQL, with its indexes): a query
    /// every run that matches the MLflow filter passes, and few others.
    ///
    /// Most comparisons translate exactly (metrics, params and tags compared with text that is not a number,
    /// `LIKE`, `ILIKE`, status, run ids, names). Where Quill's comparison differs from MLflow's text comparison
    /// (numeric text: Quill finds `'1.0'` equal to `'1'`), the translation is wider, and where Quill has no
    /// such field (end time, artifact URI) it is left out; ``MLflowRunValues/matches(_:)`` then decides
    /// exactly on the runs the store returns. `nil` means every run.
    var runQuery: RunQuery? {
        let operands = comparisons.compactMap(Self.expression)
        if operands.isEmpty { return nil }
        return RunQuery(operands.count == 1 ? operands[0] : .and(operands))
    }

    /// Whether ``runQuery`` says exactly what the filter says (so the runs need no second look).
    var translatesExactly: Bool { comparisons.allSatisfy { Self.isExact($0) } }

    typealias Expression = RunQuery.Expression

    /// A condition that holds for every run with the field (Quill's `=` and `!=` split the runs with it).
    static func exists(_ field: RunQuery.Field) -> Expression {
        .or([.comparison(field, .equal, [.number(0)]), .comparison(field, .notEqual, [.number(0)])])
    }

    /// Whether Quill's `=` on `text` is exactly MLflow's text equality: not for numeric text (Quill compares
    /// numbers) nor for `true`/`false` (a Quill boolean param is MLflow's `True`).
    static func isPlainText(_ text: String) -> Bool {
        Double(text) == nil && text.lowercased() != "true" && text.lowercased() != "false"
    }

    private static func field(_ comparison: Comparison) -> RunQuery.Field? {
        let key = MetricBounds.normalizedKey(comparison.key)
        switch comparison.kind {
        case .metric: return .metric(key, .latest)
        case .parameter: return .param(key)
        case .tag: return .tag(key)
        case .dataset: return nil
        case .attribute:
            switch comparison.key {
            case "run_id": return .attribute("id")
            case "run_name": return .tag("mlflow.runName")
            case "user_id": return .attribute("user")
            default: return nil
            }
        }
    }

    private static func isExact(_ comparison: Comparison) -> Bool {
        switch (comparison.kind, comparison.key) {
        case (.dataset, _), (.metric, _): return true
        case (.attribute, "status"): return comparison.comparator == .equal || comparison.comparator == .notEqual
        case (.attribute, "start_time"), (.attribute, "end_time"), (.attribute, "artifact_uri"): return false
        case (.attribute, "user_id"), (.attribute, "run_name"): return false
        case (.tag, "mlflow.runName"): return false
        default: break
        }
        switch (comparison.comparator, comparison.value) {
        case (.equal, .text(let text)), (.notEqual, .text(let text)): return isPlainText(text)
        case (.in, .list(let values)), (.notIn, .list(let values)): return values.allSatisfy(isPlainText)
        case (.ilike, _), (.isNull, _), (.isNotNull, _): return true
        case (.like, _): return comparison.kind != .parameter
        default: return false
        }
    }

    /// One comparison's condition, or `nil` for none.
    static func expression(_ comparison: Comparison) -> Expression? {
        if comparison.kind == .dataset { return .or([]) }
        if comparison.kind == .attribute {
            switch comparison.key {
            case "status": return statusExpression(comparison)
            case "start_time": return startTimeExpression(comparison)
            case "end_time", "artifact_uri": return nil
            case "user_id":
                // A run without a user is MLflow's empty user id, which Quill's `user` does not have.
                guard comparison.comparator == .equal, case .text(let text) = comparison.value, !text.isEmpty else {
                    return nil
                }
            default: break
            }
        }
        guard let field = field(comparison) else { return nil }
        guard field != .tag("mlflow.runName") else {
            // MLflow's run name is the `mlflow.runName` tag, or the run's name when it has none.
            guard let byTag = fieldExpression(comparison, field),
                let byName = fieldExpression(comparison, .attribute("name"))
            else { return nil }
            return .or([byTag, byName])
        }
        return fieldExpression(comparison, field)
    }

    private static func fieldExpression(_ comparison: Comparison, _ field: RunQuery.Field) -> Expression? {
        switch (comparison.comparator, comparison.value) {
        case (.equal, .number(let number)), (.notEqual, .number(let number)), (.less, .number(let number)),
            (.lessOrEqual, .number(let number)), (.greater, .number(let number)),
            (.greaterOrEqual, .number(let number)):
            guard let op = RunQuery.Operator(rawValue: comparison.comparator.rawValue) else { return nil }
            return .comparison(field, op, [.number(number)])
        case (.equal, .text(let text)):
            // Quill's `=` holds for MLflow's equal text, numeric text included (it compares the numbers), but
            // not for `NaN`, never equal to itself.
            if let number = Double(text), number.isNaN { return exists(field) }
            if text.lowercased() == "true" || text.lowercased() == "false" { return exists(field) }
            return .comparison(field, .equal, [.text(text)])
        case (.notEqual, .text(let text)):
            return isPlainText(text) ? .comparison(field, .notEqual, [.text(text)]) : exists(field)
        case (.like, .text(let pattern)), (.ilike, .text(let pattern)):
            let op: RunQuery.Operator = comparison.comparator == .like ? .like : .ilike
            let like = Expression.comparison(field, op, [.text(MLflowRunValues.likePattern(pattern))])
            // Quill's text of a boolean param is `true`, MLflow's `True`.
            guard comparison.kind == .parameter, op == .like else { return like }
            return .or([like, .comparison(field, .equal, [.bool(true)]), .comparison(field, .equal, [.bool(false)])])
        case (.in, .list(let values)):
            if values.contains(where: { Double($0)?.isNaN == true }) { return exists(field) }
            return .comparison(field, .in, values.map { .text($0) })
        case (.notIn, .list(let values)):
            return values.allSatisfy(isPlainText) ? .comparison(field, .notIn, values.map { .text($0) }) : exists(field)
        case (.isNull, _): return .not(exists(field))
        case (.isNotNull, _): return exists(field)
        default: return nil
        }
    }

    /// MLflow's statuses as Quill's.
    static func quillStatuses(_ status: String) -> [String] {
        switch status {
        case "RUNNING": ["running"]
        case "SCHEDULED": ["queued"]
        case "FINISHED": ["completed"]
        case "FAILED": ["failed", "crashed"]
        case "KILLED": ["killed"]
        default: []
        }
    }

    private static func statusExpression(_ comparison: Comparison) -> Expression? {
        guard case .text(let text) = comparison.value else { return nil }
        let statuses = quillStatuses(text).map { RunQuery.Value.text($0) }
        let any = Expression.comparison(.attribute("status"), .in, statuses)
        switch comparison.comparator {
        case .equal: return statuses.isEmpty ? .or([]) : any
        case .notEqual: return statuses.isEmpty ? nil : .not(any)
        default: return nil
        }
    }

    /// A window around the compared millisecond (start times are compared in microseconds), or `nil` for a
    /// time outside years 1 to 9999.
    private static func startTimeExpression(_ comparison: Comparison) -> Expression? {
        guard case .number(let milliseconds) = comparison.value,
            milliseconds.isFinite, milliseconds > -62_135_596_800_000, milliseconds < 253_402_300_799_000
        else { return nil }
        func time(_ milliseconds: Double) -> RunQuery.Value {
            var bytes: [UInt8] = []
            Timestamp.append(microseconds: Int64(milliseconds.rounded(.down)) * 1000, into: &bytes)
            return .text(String(decoding: bytes, as: UTF8.self))
        }
        let after = Expression.comparison(.attribute("created"), .greaterOrEqual, [time(milliseconds - 1)])
        let before = Expression.comparison(.attribute("created"), .less, [time(milliseconds + 2)])
        switch comparison.comparator {
        case .greater, .greaterOrEqual: return after
        case .less, .lessOrEqual: return before
        case .equal: return .and([after, before])
        default: return nil
        }
    }
}
