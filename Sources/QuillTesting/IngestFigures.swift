import Foundation
public import QuillCore
public import QuillStore

/// Ingest through the store API, timed, for the figures of BENCHMARKS.md: the same work on every backend
/// (one run, batches of 1,000 points of 10 keys, 100 steps each, sent one after the other).
///
/// Tests that print these figures run only when ``variable`` is `1`; they check what was stored, never the time.
public enum IngestFigures: Sendable {
    /// The environment variable that turns the figures on.
    public static let variable = "QUILL_TEST_INGEST_FIGURES"

    /// Whether figures are asked for.
    public static var enabled: Bool { ProcessInfo.processInfo.environment[variable] == "1" }

    /// Logs `points` points in batches of `batchSize` into a new run, prints the rate and returns the run.
    public static func measure(
        _ store: any TrackingStore,
        label: String,
        points: Int = 1_000_000,
        batchSize: Int = 1_000
    ) async throws -> RunID {
        let project = try await store.project(namespace: "bench", displayName: "ingest")
        let run = try await store.createRun(NewRun(projectID: project.id))
        let keys = (0..<10).map { "metric/\($0)" }
        let clock = ContinuousClock()
        let start = clock.now
        var sent = 0
        while sent < points {
            var batch = LogBatch()
            batch.metrics.reserveCapacity(batchSize)
            for offset in 0..<min(batchSize, points - sent) {
                let point = sent + offset
                let step = point / keys.count
                batch.metrics.append(
                    MetricValue(key: keys[point % keys.count], value: sin(Double(point)), step: step, index: step)
                )
            }
            sent += batch.metrics.count
            _ = try await store.logBatch(run.id, batch)
        }
        let elapsed = clock.now - start
        let (seconds, attoseconds) = elapsed.components
        let time = Double(seconds) + Double(attoseconds) / 1e18
        let rate = Double(points) / max(time, 1e-9)
        print("ingest \(label): \(points) points in batches of \(batchSize): \(time) s, \(Int(rate)) points/s")
        return run.id
    }
}
