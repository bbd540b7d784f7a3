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

    /// Imports the metrics written so far, read as Quill reads its own `metrics.jsonl` (``MetricsFile``: the
    /// same format; a row without `_idx` numbered by its line, so a re-import never duplicates it, and
    /// `_timestamp` with its fraction of a second).
    func importMetrics(into run: RunID) async {
        guard let rows = try? MetricsFile.read(directory + "/metrics.jsonl").rows, !rows.isEmpty,
            (try? await store.run(run)) != nil
        else { return }
        let unknown = Date(timeIntervalSince1970: 0)
        let now = Date()
        var batch = LogBatch()
        for row in rows {
            let time = row.timestamp == unknown ? now : row.timestamp
            for (key, value) in row.values {
                batch.metrics.append(
                    MetricValue(key: key, value: value, step: row.step, timestamp: time, index: row.index)
                )
            }
        }
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
}
