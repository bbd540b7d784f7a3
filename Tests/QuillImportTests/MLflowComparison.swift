import Foundation
import QuillCore
import QuillImport
import QuillStore
import Testing

/// Compares what MLflow's own reader returned (the fixture script's dump) with what the import stored, point
/// for point.
enum MLflowComparison {
    static let statuses: [String: RunStatus] = [
        "RUNNING": .running, "SCHEDULED": .queued, "FINISHED": .completed, "FAILED": .failed, "KILLED": .killed,
    ]

    /// Checks every experiment, run, param, tag, metric point and artifact of `dump`; returns how many points
    /// were compared.
    @discardableResult
    static func check(_ dump: JSONValue, _ fresh: FreshStore, _ report: ImportReport) async throws -> Int {
        let store = fresh.store
        let lifecycleKept = !report.skipped.contains { $0.reason == Importer.noLifecycleReason }
        var compared = 0
        let experiments = try #require(dump["experiments"]?.arrayValue)
        #expect(experiments.count == 5)
        for experiment in experiments {
            let name = try #require(experiment["name"]?.stringValue)
            let project = try #require(
                try await store.project(namespace: "local", slug: Project(displayName: name).slug),
                "experiment \(name) has no project"
            )
            #expect(project.displayName == name)
            let tags = (experiment["tags"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
            let deleted = experiment["lifecycle_stage"] == "deleted"
            if lifecycleKept {
                #expect(project.tags == tags, "tags of \(name)")
                #expect((project.deletedAt != nil) == deleted, "lifecycle of \(name)")
            }
            for run in experiment["runs"]?.arrayValue ?? [] {
                let text = try #require(run["run_id"]?.stringValue)
                let id = try #require(RunID(text))
                let details = try #require(try await store.runDetails(id), "run \(text) was not imported")
                let stored = details.run
                #expect(stored.projectID == project.id)
                #expect(stored.name == run["run_name"]?.stringValue)
                #expect(stored.status == run["status"]?.stringValue.flatMap { statuses[$0] }, "status of \(text)")
                #expect(milliseconds(stored.startedAt) == run["start_time"]?.intValue.map(Int64.init))
                #expect(milliseconds(stored.endedAt) == run["end_time"]?.intValue.map(Int64.init), "end of \(text)")
                #expect(stored.user == run["user_id"]?.stringValue)
                let runTags = (run["tags"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
                #expect(stored.parent?.rawValue == runTags["mlflow.parentRunId"])
                #expect(details.tags == runTags, "tags of \(text)")
                #expect(
                    details.params
                        == (run["params"]?.objectValue ?? [:]).compactMapValues { $0.stringValue.map(JSONValue.string) }
                )
                if lifecycleKept {
                    #expect((stored.deletedAt != nil) == (run["lifecycle_stage"] == "deleted"), "lifecycle of \(text)")
                }
                let history = run["history"]?.objectValue ?? [:]
                #expect(Set(details.metrics.keys) == Set(history.keys), "metric keys of \(text)")
                for (key, expected) in history {
                    let points = try await store.metricHistory(id, key: key, steps: nil)
                    let want = expected.arrayValue ?? []
                    #expect(points.count == want.count, "\(key) of \(text)")
                    for (point, mlflow) in zip(points, want) {
                        #expect(point.step == mlflow["step"]?.intValue)
                        #expect(milliseconds(point.timestamp) == mlflow["timestamp"]?.intValue.map(Int64.init))
                        let value = try #require(mlflow["value"]?.doubleValue)
                        #expect(
                            same(point.value, value),
                            "\(key)[\(point.index)] of \(text): \(point.value) vs \(value)"
                        )
                        compared += 1
                    }
                }
                let records = try await store.artifacts(id)
                if run["artifact_uri"]?.stringValue?.hasPrefix("s3://") == true {
                    #expect(records.isEmpty)
                    // Read locally: not readable here; through a server: the server could not list them.
                    #expect(report.skipped.contains { $0.what == "artifact folders" })
                    continue
                }
                let artifacts = (run["artifacts"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
                #expect(Set(records.map(\.path)) == Set(artifacts.keys), "artifacts of \(text)")
                for record in records {
                    #expect(record.status == .uploaded)
                    #expect(try await fresh.hex(record) == artifacts[record.path], "bytes of \(record.path)")
                }
            }
        }
        return compared
    }
}
