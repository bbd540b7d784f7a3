import Foundation
import QuillCore
import QuillImport
import QuillStore
import QuillTesting
import Testing

/// Imports real MLflow stores, made by the real `mlflow` package, and compares point for point with what MLflow's
/// own reader returns.
@Suite(.serialized)
struct MLflowImportTests {
    /// Builds a store at `uri` with the fixture script and returns MLflow's view of it.
    static func fixture(_ uri: String, _ work: TemporaryDirectory, points: Int = 5000) async throws -> JSONValue {
        let python = try Fixtures.mlflowPython()
        return try await Fixtures.run(
            python,
            "mlflow_fixture.py",
            [uri, work.path, work.file("dump.json"), String(points)],
            dump: work.file("dump.json")
        )
    }

    @Test("an MLflow file store imports point for point, and a second import duplicates nothing")
    func fileStore() async throws {
        let work = TemporaryDirectory("mlflow-file")
        let dump = try await Self.fixture("file://" + work.file("mlruns"), work)
        let fresh = try FreshStore()
        let source = try MLflowFileStoreReader(root: work.file("mlruns"))
        let report = try await fresh.importing(source)
        #expect(report.read.runs == 8)
        #expect(report.written.runs == 8)
        #expect(report.read.points == report.written.points)
        #expect(report.read.artifacts == 3)
        let compared = try await MLflowComparison.check(dump, fresh, report)
        #expect(compared == 5000 + 7 + 3 + 1 + 40 + 1 + 1 + 1)
        let before = try await fresh.counts()
        let again = try await fresh.importing(try MLflowFileStoreReader(root: work.file("mlruns")))
        #expect(again.written == ImportCounts())
        #expect(again.read == report.read)
        #expect(try await fresh.counts() == before)
        try await MLflowComparison.check(dump, fresh, again)
    }

    @Test("an MLflow SQLite database imports point for point, and a second import duplicates nothing")
    func database() async throws {
        let work = TemporaryDirectory("mlflow-sqlite")
        let dump = try await Self.fixture("sqlite:///" + work.file("mlflow.db"), work)
        let fresh = try FreshStore()
        let report = try await fresh.importing(try MLflowDatabaseReader(path: "sqlite:///" + work.file("mlflow.db")))
        #expect(report.read.runs == 8)
        #expect(report.written.runs == 8)
        #expect(report.read.artifacts == 3)
        let compared = try await MLflowComparison.check(dump, fresh, report)
        #expect(compared == 5000 + 7 + 3 + 1 + 40 + 1 + 1 + 1)
        let before = try await fresh.counts()
        let again = try await fresh.importing(try MLflowDatabaseReader(path: work.file("mlflow.db")))
        #expect(again.written == ImportCounts())
        #expect(try await fresh.counts() == before)
    }

    @Test("a dry run reads and counts but writes nothing")
    func dryRun() async throws {
        let work = TemporaryDirectory("mlflow-dry")
        _ = try await Self.fixture("file://" + work.file("mlruns"), work, points: 50)
        let report = try await Importer(source: try MLflowFileStoreReader(root: work.file("mlruns")), destination: nil)
            .run()
        #expect(report.dryRun)
        #expect(report.read.runs == 8)
        #expect(report.read.points == 50 + 7 + 3 + 1 + 40 + 1 + 1 + 1)
        #expect(report.written == ImportCounts())
        #expect(report.summary.hasPrefix("would import 5 experiments, 8 runs, 104 points, 3 artifacts"))
    }
}
