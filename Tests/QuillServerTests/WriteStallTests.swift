import Foundation
import QuillCore
import QuillTesting
import Testing

@Suite("Large writes do not stall other requests")
struct WriteStallTests {
    /// The repository root (this file is Tests/QuillServerTests/WriteStallTests.swift).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    @Test("/healthz and a small read stay fast while four 50,000-point batches are written at once")
    func healthzDuringLargeBatches() throws {
        // bench/server/stall.py starts its own `quill serve`, probes `/healthz` and a 100-point history every
        // 20 ms at rest and then while four large batches are sent at once, each from its own process.
        let result = try BuiltProducts.run(
            "/usr/bin/env",
            [
                "python3", Self.root + "/bench/server/stall.py", "--quill", BuiltProducts.path("quill"),
                "--batches", "4", "--points", "50000", "--repeats", "1", "--json",
            ]
        )
        #expect(result.status == 0, "\(result.stderr)")
        let report = try JSONParser.parse(Array(result.stdout.utf8))
        let median = try #require(report["median"])
        for probe in ["healthz", "read"] {
            let busy = try #require(median[probe]?["p90_ms"]?.doubleValue)
            let rest = try #require(median["rest_" + probe]?["p90_ms"]?.doubleValue)
            let count = report["repeats"]?.arrayValue?.first?[probe]?["count"]?.doubleValue ?? 0
            // Enough probes ran during the batches for a p90 to mean something.
            #expect(count >= 10, "only \(count) \(probe) probes ran during the batches")
            // Under 50 ms, or (on a loaded machine, where even probes at rest are slow) within 10 times the
            // probes' time at rest. Before the writer left the cooperative pool, /healthz waited for whole
            // batches to be written: hundreds of milliseconds to seconds.
            #expect(busy < max(50, 10 * rest), "\(probe): p90 \(busy) ms during the batches, \(rest) ms at rest")
        }
    }
}
