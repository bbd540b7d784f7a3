import Foundation
import QuillCore
import QuillStore
import Synchronization

/// Copies what a whirr job wrote into its run folder (when the whirr worker shares whirr's data directory with
/// the server) into the job's Quill run: `metrics.jsonl` rows as metric points and `output.log` as the run's log
/// at every heartbeat, then `meta.json`'s summary at the end.
///
/// Each heartbeat reads only what was appended since the last one (``WhirrImportProgress`` keeps the offsets,
/// in memory). Metric points carry their `_idx`, so reading a file again (after a server restart) never
/// duplicates one; output lines are counted against the lines the run's log already has, so a restart does not
/// append them twice either. A folder the server cannot see is simply not imported; failures are swallowed:
/// the job's own state never depends on them.
struct WhirrRunImport {
    let store: any TrackingStore
    let directory: String
    let progress: WhirrImportProgress

    /// Imports the metrics and output written since the last import, read as Quill reads its own files
    /// (``MetricsFile``: a row without `_idx` numbered after the previous row, `_timestamp` with its fraction
    /// of a second).
    func importNew(into run: RunID) async {
        guard FileManager.default.fileExists(atPath: directory), (try? await store.run(run)) != nil else { return }
        // One import of a run at a time (a heartbeat racing the completion would read the same lines twice).
        await progress.exclusive(run) {
            await importMetrics(into: run)
            await importOutput(into: run)
        }
    }

    private func importMetrics(into run: RunID) async {
        let start = progress.metrics(run)
        guard let read = try? MetricsFile.read(directory + "/metrics.jsonl", after: start),
            read.position != start
        else { return }
        let unknown = Date(timeIntervalSince1970: 0)
        let now = Date()
        var batch = LogBatch()
        for row in read.rows {
            let time = row.timestamp == unknown ? now : row.timestamp
            for (key, value) in row.values {
                batch.metrics.append(
                    MetricValue(key: key, value: value, step: row.step, timestamp: time, index: row.index)
                )
            }
        }
        if !batch.metrics.isEmpty {
            guard (try? await store.logBatch(run, batch)) != nil else { return }  // read again next time
        }
        progress.advanceMetrics(run, from: start, to: read.position)
    }

    private func importOutput(into run: RunID) async {
        let path = directory + "/output.log"
        var start = progress.output(run)
        if start == nil {
            // First import in this process: skip the lines the run's log already has (imported before a restart).
            guard let total = try? await store.logTail(run, count: 0).total else { return }
            start = WhirrImportProgress.Output(offset: 0, skipLines: total)
        }
        guard var position = start, let handle = FileHandle(forReadingAtPath: path) else { return }
        defer { try? handle.close() }
        guard (try? handle.seek(toOffset: UInt64(position.offset))) != nil, let data = try? handle.readToEnd(),
            let lastNewline = data.lastIndex(of: UInt8(ascii: "\n"))
        else { return }
        let complete = data[data.startIndex...lastNewline]
        var lines = String(decoding: complete, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .dropLast()
            .map { LogLine(timestamp: nil, level: nil, message: String($0)) }
        let skipped = min(position.skipLines, lines.count)
        lines.removeFirst(skipped)
        position.skipLines -= skipped
        if !lines.isEmpty {
            var batch = LogBatch()
            batch.logs = lines
            guard (try? await store.logBatch(run, batch)) != nil else { return }
        }
        position.offset += Int64(complete.count)
        progress.setOutput(run, position)
    }

    /// Imports what is new, then the summary (once, when the job ends), and forgets the offsets.
    func importAll(into run: RunID) async {
        guard FileManager.default.fileExists(atPath: directory), (try? await store.run(run)) != nil else { return }
        await importNew(into: run)
        progress.forget(run)
        if let data = FileManager.default.contents(atPath: directory + "/meta.json"),
            let summary = (try? JSONParser.parse(Array(data)))?["summary"]?.objectValue, !summary.isEmpty
        {
            var update = RunUpdate()
            update.summary = summary
            _ = try? await store.updateRun(run, update)
        }
    }
}

/// How far the whirr run folders of running jobs have been imported, by run, in memory (a restarted server
/// reads each folder once more; see ``WhirrRunImport``).
final class WhirrImportProgress: Sendable {
    /// Where the output import stopped.
    struct Output: Sendable, Hashable {
        /// The byte after the last complete line imported.
        var offset: Int64
        /// Lines still to skip (already in the run's log from before a restart).
        var skipLines: Int
    }

    private struct Entry {
        var metrics = MetricsFile.Position()
        var output: Output?
    }

    private let entries = Mutex<[RunID: Entry]>([:])
    /// Runs being imported, with the imports waiting their turn.
    private let busy = Mutex<[RunID: [CheckedContinuation<Void, Never>]]>([:])

    /// Runs `body` when no other import of `run` runs, in arrival order.
    func exclusive(_ run: RunID, _ body: () async -> Void) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = busy.withLock { busy -> Bool in
                if busy[run] == nil {
                    busy[run] = []
                    return true
                }
                busy[run]?.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
        await body()
        let next = busy.withLock { busy -> CheckedContinuation<Void, Never>? in
            guard var waiting = busy[run], !waiting.isEmpty else {
                busy[run] = nil
                return nil
            }
            let first = waiting.removeFirst()
            busy[run] = waiting
            return first
        }
        next?.resume()
    }

    /// Where the metrics import of `run` stopped.
    func metrics(_ run: RunID) -> MetricsFile.Position {
        entries.withLock { $0[run]?.metrics ?? MetricsFile.Position() }
    }

    /// Moves the metrics import of `run` on, unless another import moved it meanwhile.
    func advanceMetrics(_ run: RunID, from start: MetricsFile.Position, to end: MetricsFile.Position) {
        entries.withLock { entries in
            guard (entries[run]?.metrics ?? MetricsFile.Position()) == start else { return }
            entries[run, default: Entry()].metrics = end
        }
    }

    /// Where the output import of `run` stopped; `nil` before its first import in this process.
    func output(_ run: RunID) -> Output? {
        entries.withLock { $0[run]?.output }
    }

    /// Records where the output import of `run` stopped.
    func setOutput(_ run: RunID, _ output: Output) {
        entries.withLock { $0[run, default: Entry()].output = output }
    }

    /// Forgets a run whose job ended.
    func forget(_ run: RunID) {
        _ = entries.withLock { $0.removeValue(forKey: run) }
    }
}
