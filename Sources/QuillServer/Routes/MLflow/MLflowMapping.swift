import Foundation
import QuillAPI
import QuillCore
import QuillStore

/// How Quill's projects and runs look in MLflow's API, and MLflow's values as Quill's (see Docs/MLflow.md):
/// statuses both ways, params as strings, times in milliseconds, and MLflow's checks of names and lengths
/// (`mlflow/utils/validation.py`).
enum MLflowMapping {
    /// The run tag that carries a run's name in MLflow; Quill keeps it in step with the run's name.
    static let runNameTag = "mlflow.runName"
    /// The run tag that names a nested run's parent.
    static let parentRunTag = "mlflow.parentRunId"
    /// The run tag with the user who ran it (MLflow's client sets it).
    static let userTag = "mlflow.user"
    /// The project tag that keeps an experiment's given artifact location (hidden from its MLflow tags).
    static let artifactLocationTag = "quill.mlflow.artifact_location"

    /// MLflow's limits (`mlflow/utils/validation.py`).
    static let maxMetricsPerBatch = 1000
    static let maxParamsTagsPerBatch = 100
    static let maxEntitiesPerBatch = 1000
    static let maxParamValueLength = 6000
    static let maxTagValueLength = 8000
    static let maxEntityKeyLength = 250
    static let maxExperimentNameLength = 500
    static let maxExperimentTagKeyLength = 250
    static let maxExperimentTagValueLength = 20000
    static let maxResultsLimit = 50000
    /// The page size of a search without `max_results`.
    static let defaultMaxResults = 1000

    /// The largest time in milliseconds (either sign) Quill stores: its stores keep microseconds in 64 bits,
    /// so MLflow's full `int64` range cannot be kept; 10^15 ms is the year 33658.
    static let maxMilliseconds: Int64 = 1_000_000_000_000_000

    // MARK: Statuses

    /// A Quill status as MLflow's (a crashed run is `FAILED`, a queued one `SCHEDULED`).
    static func status(_ status: RunStatus) -> MLflowRunStatus {
        switch status {
        case .queued: .scheduled
        case .running: .running
        case .completed: .finished
        case .failed, .crashed: .failed
        case .killed: .killed
        }
    }

    /// An MLflow status as Quill's.
    static func status(_ status: MLflowRunStatus) -> RunStatus {
        switch status {
        case .scheduled: .queued
        case .running: .running
        case .finished: .completed
        case .failed: .failed
        case .killed: .killed
        }
    }

    // MARK: Times

    /// Milliseconds since 1970 as a date; a time Quill cannot store is `INVALID_PARAMETER_VALUE` naming `field`.
    static func date(milliseconds: Int64, field: String) throws -> Date {
        guard milliseconds >= -maxMilliseconds, milliseconds <= maxMilliseconds else {
            throw MLflowHTTPError(
                .invalidParameterValue,
                "Invalid value \(milliseconds) for parameter '\(field)' supplied: Quill stores times between "
                    + "-\(maxMilliseconds) and \(maxMilliseconds) milliseconds since 1970."
            )
        }
        return Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    /// A date as milliseconds since 1970 (clamped to `Int64`, which a stored date never leaves).
    static func milliseconds(_ date: Date) -> Int64 {
        let value = (date.timeIntervalSince1970 * 1000).rounded()
        guard value.isFinite else { return 0 }
        if value >= 9.2e18 { return Int64.max }
        if value <= -9.2e18 { return Int64.min }
        return Int64(value)
    }

    /// ``milliseconds(_:)`` as MLflow's wire integer.
    static func wire(_ date: Date) -> MLflowInt64 { MLflowInt64(milliseconds(date)) }

    // MARK: Params

    /// A param or config value as MLflow shows params: a string as it is, a number as its JSON text,
    /// `True`/`False` as Python's `str` writes booleans, anything else as compact JSON.
    static func paramString(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): text
        case .bool(let flag): flag ? "True" : "False"
        default: String(decoding: JSONWriter.bytes(value), as: UTF8.self)
        }
    }

    /// A run's params as MLflow shows them: the config flattened to dotted keys, with params over it (as Quill's
    /// search merges them).
    static func params(_ details: RunDetails) -> [String: String] {
        var merged = JSONValue.object(details.run.config).flattened()
        merged.merge(JSONValue.object(details.params).flattened()) { _, new in new }
        return merged.mapValues(paramString)
    }

    // MARK: Runs

    /// Where a run's artifacts are in MLflow's terms: `mlflow-artifacts:/<experiment>/<run>/artifacts`.
    static func artifactURI(experimentID: String, run: RunID) -> String {
        "mlflow-artifacts:/\(experimentID)/\(run)/artifacts"
    }

    /// A run's information.
    static func info(_ run: StoredRun, experimentID: String) -> MLflowRunInfo {
        MLflowRunInfo(
            runID: run.id.rawValue,
            runName: run.name,
            experimentID: experimentID,
            userID: run.user,
            status: status(run.status),
            startTime: wire(run.startedAt),
            endTime: run.endedAt.map(wire),
            artifactURI: artifactURI(experimentID: experimentID, run: run.id),
            lifecycleStage: run.deletedAt == nil ? "active" : "deleted"
        )
    }

    /// A run with what it logged: each metric's last value (with its step; its time from `latest` when
    /// known, else the run's last change), its params as strings, and its tags with `mlflow.runName` set to
    /// the run's name.
    static func run(_ details: RunDetails, experimentID: String, latest: [String: MetricPoint] = [:]) -> MLflowRun {
        let run = details.run
        let metrics = details.metrics.keys.sorted().compactMap { key -> MLflowMetric? in
            guard let statistics = details.metrics[key] else { return nil }
            let point = latest[key]
            return MLflowMetric(
                key: key,
                value: point?.value ?? statistics.last,
                timestamp: wire(point?.timestamp ?? run.updatedAt),
                step: MLflowInt64(Int64(point?.step ?? statistics.lastStep ?? 0))
            )
        }
        let params = Self.params(details).sorted { $0.key < $1.key }.map {
            MLflowKeyValue(key: $0.key, value: $0.value)
        }
        var tags = details.tags
        tags[runNameTag] = run.name
        let shownTags = tags.sorted { $0.key < $1.key }.map { MLflowKeyValue(key: $0.key, value: $0.value) }
        return MLflowRun(
            info: info(run, experimentID: experimentID),
            data: MLflowRunData(
                metrics: metrics.isEmpty ? nil : metrics,
                params: params.isEmpty ? nil : params,
                tags: shownTags
            )
        )
    }

    // MARK: Experiments

    /// A project as an experiment, with the id and name it has for the caller.
    static func experiment(_ project: StoredProject, id: String, name: String) -> MLflowExperiment {
        var tags = project.tags
        let location = tags.removeValue(forKey: artifactLocationTag) ?? "mlflow-artifacts:/\(id)"
        let shown = tags.sorted { $0.key < $1.key }.map { MLflowKeyValue(key: $0.key, value: $0.value) }
        return MLflowExperiment(
            experimentID: id,
            name: name,
            artifactLocation: location,
            lifecycleStage: project.deletedAt == nil ? "active" : "deleted",
            lastUpdateTime: wire(project.updatedAt ?? project.createdAt),
            creationTime: wire(project.createdAt),
            tags: shown.isEmpty ? nil : shown
        )
    }

    // MARK: MLflow's checks

    /// MLflow's check of a metric, param or tag name: alphanumerics, `_`, `-`, `.`, ` `, `:` and `/`, and no
    /// name that a path would read as another (`a/../b`, `/a`, `a/`, `..a`).
    static func checkName(_ name: String, path: String) throws {
        let allowed = name.unicodeScalars.allSatisfy { scalar in
            scalar.properties.isAlphabetic || scalar.properties.numericType != nil
                || "_/.- :".unicodeScalars.contains(scalar)
        }
        guard allowed else {
            throw MLflowHTTPError(
                .invalidParameterValue,
                "Invalid value \(quoted(name)) for parameter '\(path)' supplied: Names may only contain alphanumerics, "
                    + "underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/)."
            )
        }
        let components = name.split(separator: "/", omittingEmptySubsequences: false)
        let resolvesElsewhere =
            name.isEmpty || name.hasPrefix("/") || name.hasPrefix("..")
            || components.contains { $0.isEmpty || $0 == "." || $0 == ".." }
        if resolvesElsewhere {
            throw MLflowHTTPError(
                .invalidParameterValue,
                "Invalid value \(quoted(name)) for parameter '\(path)' supplied: Names may be treated as files in "
                    + "certain cases, and must not resolve to other names when treated as such."
            )
        }
    }

    /// MLflow's length check: `'<what>' exceeds the maximum length of <limit> characters`.
    static func checkLength(_ value: String, _ limit: Int, _ what: String) throws {
        if value.unicodeScalars.count > limit {
            throw MLflowHTTPError(
                .invalidParameterValue,
                "'\(what)' exceeds the maximum length of \(limit) characters"
            )
        }
    }

    /// A value cut to `limit` characters, as MLflow's server cuts long param and tag values.
    static func truncated(_ value: String, _ limit: Int) -> String {
        guard value.unicodeScalars.count > limit else { return value }
        var scalars = String.UnicodeScalarView()
        scalars.append(contentsOf: value.unicodeScalars.prefix(limit))
        return String(scalars)
    }

    /// A string as JSON text (MLflow quotes values in its messages with `json.dumps`).
    static func quoted(_ text: String) -> String {
        String(decoding: JSONWriter.bytes(.string(text)), as: UTF8.self)
    }
}
