import Foundation
import QuillAPI
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

    /// The run as ``MLflowMapping`` shows it to MLflow's client: its name (unique in a Quill project) is
    /// `run_name` and the `mlflow.runName` tag, params are the config and params as strings, statuses and times
    /// in MLflow's terms.
    init(_ details: RunDetails) {
        let run = details.run
        runID = run.id.rawValue
        runName = run.name
        status = MLflowMapping.status(run.status).rawValue
        startTime = Self.milliseconds(run.startedAt)
        endTime = run.endedAt.map(Self.milliseconds)
        userID = run.user ?? ""
        artifactURI = MLflowMapping.artifactURI(experimentID: String(run.projectID), run: run.id)
        params = MLflowMapping.params(details)
        var tags = details.tags
        tags[MLflowMapping.runNameTag] = run.name
        self.tags = tags
        metrics = details.metrics.mapValues(\.last)
    }

    /// Milliseconds since 1970, rounded half away from zero from the stored microseconds (as
    /// ``MLflowMapping/milliseconds(_:)`` shows them, without its floating-point steps).
    static func milliseconds(_ date: Date) -> Int64 {
        let seconds = date.timeIntervalSince1970
        guard seconds.isFinite, abs(seconds) < 9e12 else { return seconds < 0 ? Int64.min : Int64.max }
        return milliseconds(microseconds: Timestamp.microseconds(date))
    }

    /// Milliseconds for microseconds, rounded half away from zero.
    static func milliseconds(microseconds: Int64) -> Int64 {
        microseconds >= 0 ? (microseconds + 500) / 1000 : -((-microseconds + 500) / 1000)
    }

    /// The first microsecond whose millisecond is after `milliseconds` (the inverse of
    /// ``milliseconds(microseconds:)``), or `nil` when it does not fit.
    static func firstMicrosecond(after milliseconds: Int64) -> Int64? {
        let (scaled, overflow) = milliseconds.multipliedReportingOverflow(by: 1000)
        let (first, overflow2) = scaled.addingReportingOverflow(milliseconds >= 0 ? 500 : 501)
        return overflow || overflow2 ? nil : first
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
