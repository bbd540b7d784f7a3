import Foundation
import QuillCore
import QuillStore

/// Copies what a whirr job wrote into its run folder (when the whirr worker shares whirr's data directory with
/// the server) into the job's Quill run: `metrics.jsonl` rows as metric points, `output.log` as the run's log,
/// `meta.json`'s summary as the run's summary.
///
/// Metric points carry their `_idx`, so importing the file again (at every heartbeat, then at the end) never
/// duplicates one. A folder the server cannot see is simply not imported; failures are swallowed: the job's
/// own state never depends on them.
struct WhirrRunImport {
    let store: any TrackingStore
    let directory: String

    /// Imports the metrics written so far.
    func importMetrics(into run: RunID) async {
        let rows = WhirrRunFiles(directory: directory).metricRows()
        guard !rows.isEmpty, (try? await store.run(run)) != nil else { return }
        var batch = LogBatch()
        for row in rows { batch.metrics += Self.points(row) }
        guard !batch.metrics.isEmpty else { return }
        _ = try? await store.logBatch(run, batch)
    }

    /// Imports the metrics, the output and the summary (once, when the job ends).
    func importAll(into run: RunID) async {
        guard FileManager.default.fileExists(atPath: directory), (try? await store.run(run)) != nil else { return }
        await importMetrics(into: run)
        if let data = FileManager.default.contents(atPath: directory + "/output.log"), !data.isEmpty {
            var batch = LogBatch()
            let text = String(decoding: data, as: UTF8.self)
            batch.logs = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast(
                text.hasSuffix("\n") ? 1 : 0
            )
            .map { LogLine(timestamp: nil, level: nil, message: String($0)) }
            _ = try? await store.logBatch(run, batch)
        }
        if let data = FileManager.default.contents(atPath: directory + "/meta.json"),
            let summary = (try? JSONParser.parse(Array(data)))?["summary"]?.objectValue, !summary.isEmpty
        {
            var update = RunUpdate()
            update.summary = summary
            _ = try? await store.updateRun(run, update)
        }
    }

    /// The numeric members of a `metrics.jsonl` row as points (`_idx`, `_timestamp` and `step` are the row's
    /// index, time and step).
    static func points(_ row: [String: JSONValue]) -> [MetricValue] {
        let index = row["_idx"]?.intValue
        let step = row["step"]?.intValue
        let time = row["_timestamp"]?.stringValue.flatMap(Self.parse) ?? Date()
        var points: [MetricValue] = []
        for (key, value) in row where !key.hasPrefix("_") && key != "step" {
            guard case .bool = value else {
                if let number = value.doubleValue {
                    points.append(MetricValue(key: key, value: number, step: step, timestamp: time, index: index))
                }
                continue
            }
        }
        return points
    }

    private static func parse(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        return formatter.date(from: text)
    }
}
