import Foundation
import QuillCore
import QuillStore
import QuillStoreSQLite
import QuillTesting
import Testing

@Suite("SQLite ingest figures")
struct SQLiteIngestFigures {
    @Test(
        "1,000,000 points in batches of 1,000 (QUILL_TEST_INGEST_FIGURES=1 prints the rate)",
        .enabled(if: IngestFigures.enabled)
    )
    func ingest() async throws {
        let temp = TemporaryDirectory("quill-ingest")
        let store = try SQLiteTrackingStore(path: temp.file("quill.db"))
        let run = try await IngestFigures.measure(store, label: "SQLite")
        #expect(try await store.counts().metricPoints == 1_000_000)
        #expect(try await store.metricHistory(run, key: "metric/0", steps: nil).count == 100_000)
    }
}
