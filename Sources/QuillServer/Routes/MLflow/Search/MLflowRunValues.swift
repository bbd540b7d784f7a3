import Foundation
import QuillCore
import QuillStore

/// A run as MLflow's search sees it: its id, name, status and times in MLflow's terms, params as text, tags,
/// and each metric's latest value.
struct MLflowRunValues: Sendable {
    var runID: String
    var runName: String
    /// `RUNNING`, `SCHEDULED`, `FINISHED`, `FAILED` or `KILLED`.
    var status: String
    /// Milliseconds since 1970.
    var startTime: Int64
    var endTime: Int64?
    var userID: String
    var artifactURI: String
    var params: [String: String]
    var tags: [String: String]
    var metrics: [String: Double]

    init(_ details: RunDetails) {
        let run = details.run
        runID = run.id.rawValue
        // MLflow's name is the `mlflow.runName` tag where there is one: MLflow lets runs share a name, Quill's
        // store gives a taken name a suffix.
        runName = details.tags["mlflow.runName"] ?? run.name
        status = Self.status(run.status)
        startTime = Self.milliseconds(run.startedAt)
        endTime = run.endedAt.map(Self.milliseconds)
        userID = run.user ?? ""
        artifactURI = "mlflow-artifacts:/\(run.projectID)/\(run.id.rawValue)/artifacts"
        var params: [String: String] = [:]
        for (key, value) in JSONValue.object(run.config).flattened() { params[key] = Self.text(value) }
        for (key, value) in JSONValue.object(details.params).flattened() { params[key] = Self.text(value) }
        self.params = params
        var tags = details.tags
        if tags["mlflow.runName"] == nil { tags["mlflow.runName"] = runName }
        self.tags = tags
        metrics = details.metrics.mapValues(\.last)
    }

    /// MLflow's name of a Quill status.
    static func status(_ status: RunStatus) -> String {
        switch status {
        case .queued: "SCHEDULED"
        case .running: "RUNNING"
        case .completed: "FINISHED"
        case .failed, .crashed: "FAILED"
        case .killed: "KILLED"
        }
    }

    /// Milliseconds since 1970, rounded down.
    static func milliseconds(_ date: Date) -> Int64 {
        let seconds = date.timeIntervalSince1970
        guard seconds.isFinite, abs(seconds) < 9e12 else { return seconds < 0 ? Int64.min : Int64.max }
        let microseconds = Timestamp.microseconds(date)
        return microseconds >= 0 ? microseconds / 1000 : -((-microseconds + 999) / 1000)
    }

    /// A param as MLflow shows it: text as it is, `True`/`False` for booleans, anything else as compact JSON.
    static func text(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): text
        case .bool(let flag): flag ? "True" : "False"
        default: value.description
        }
    }

    /// A string attribute by MLflow's name, or `nil` when there is no such attribute.
    func attribute(_ name: String) -> String? {
        switch name {
        case "run_id": runID
        case "run_name": runName
        case "status": status
        case "user_id": userID
        case "artifact_uri": artifactURI
        default: nil
        }
    }

    /// Whether the run satisfies every comparison, as MLflow's SQL store decides.
    func matches(_ filter: MLflowSearchFilter) -> Bool {
        filter.comparisons.allSatisfy(matches)
    }

    /// Whether one comparison holds.
    func matches(_ comparison: MLflowSearchFilter.Comparison) -> Bool {
        let op = comparison.comparator
        switch comparison.kind {
        case .dataset:
            // Quill keeps no datasets: no run has one.
            return false
        case .metric:
            guard let lhs = metrics[comparison.key], case .number(let rhs) = comparison.value else { return false }
            return Self.compare(lhs, op, rhs)
        case .parameter, .tag:
            let lhs = comparison.kind == .parameter ? params[comparison.key] : tags[comparison.key]
            switch op {
            case .isNull: return lhs == nil
            case .isNotNull: return lhs != nil
            default:
                guard let lhs else { return false }
                return Self.compare(lhs, op, comparison.value)
            }
        case .attribute:
            switch comparison.key {
            case "start_time", "end_time":
                let lhs = comparison.key == "start_time" ? startTime : endTime
                guard let lhs, case .number(let rhs) = comparison.value else { return false }
                return Self.compare(Double(lhs), op, rhs)
            default:
                guard let lhs = attribute(comparison.key) else { return false }
                return Self.compare(lhs, op, comparison.value)
            }
        }
    }

    static func compare(_ lhs: Double, _ op: MLflowSearchFilter.Comparator, _ rhs: Double) -> Bool {
        switch op {
        case .equal: lhs == rhs
        case .notEqual: lhs != rhs
        case .less: lhs < rhs
        case .lessOrEqual: lhs <= rhs
        case .greater: lhs > rhs
        case .greaterOrEqual: lhs >= rhs
        default: false
        }
    }

    /// Text comparison by Unicode scalars (as SQLite compares), `LIKE` case-sensitive and `ILIKE` not, with no
    /// escape character (MLflow gives none).
    static func compare(_ lhs: String, _ op: MLflowSearchFilter.Comparator, _ value: MLflowSearchFilter.Value) -> Bool {
        switch (op, value) {
        case (.equal, .text(let rhs)): return lhs.unicodeScalars.elementsEqual(rhs.unicodeScalars)
        case (.notEqual, .text(let rhs)): return !lhs.unicodeScalars.elementsEqual(rhs.unicodeScalars)
        case (.like, .text(let pattern)):
            return LikePattern.matches(lhs, likePattern(pattern), caseInsensitive: false)
        case (.ilike, .text(let pattern)):
            return LikePattern.matches(lhs, likePattern(pattern), caseInsensitive: true)
        case (.in, .list(let values)): return values.contains { lhs.unicodeScalars.elementsEqual($0.unicodeScalars) }
        case (.notIn, .list(let values)):
            return !values.contains { lhs.unicodeScalars.elementsEqual($0.unicodeScalars) }
        default: return false
        }
    }

    /// An MLflow `LIKE` pattern (no escape character) as a Quill `like` pattern (a backslash escapes).
    static func likePattern(_ pattern: String) -> String {
        pattern.replacingOccurrences(of: "\\", with: "\\\\")
    }
}
