import Foundation
import QuillCore
import QuillImport
import QuillStore
import QuillTesting
import Testing

/// Imports real whirr runs, made by the real `whirr` package (run folders and its whirr.db), and compares them
/// with what whirr's own readers return.
@Suite(.serialized)
struct WhirrImportTests {
    static func fixture(_ work: TemporaryDirectory, rows: Int = 3000) async throws -> JSONValue {
        let python = try Fixtures.python("QUILL_TEST_PYTHON", "whirr (pip install 'whirr[server]==0.5.3')")
        return try await Fixtures.run(
            python,
            "whirr_fixture.py",
            [work.file("project"), work.file("dump.json"), String(rows)],
            dump: work.file("dump.json")
        )
    }

    @Test("whirr run folders and whirr.db import as whirr reads them, and a second import duplicates nothing")
    func folders() async throws {
        let work = TemporaryDirectory("whirr-import")
        let dump = try await Self.fixture(work)
        let fresh = try FreshStore()
        let report = try await fresh.importing(try WhirrReader(directory: work.file("project")))
        #expect(report.read.experiments == 1)
        #expect(report.read.runs == 3)
        #expect(report.written.runs == 3)
        #expect(report.read.points == 3000 * 2 + 1 + 5)
        #expect(report.read.artifacts == 3)
        #expect(report.read.logLines == 3)
        #expect(report.skipped.contains { $0.what == "whirr jobs" && $0.count == 1 })
        try await Self.check(dump, fresh)
        let before = try await fresh.counts()
        // The same runs through the index's data folder, then through the runs folder alone.
        let again = try await fresh.importing(try WhirrReader(directory: work.file("project/.whirr")))
        #expect(again.written == ImportCounts())
        let runsOnly = try await fresh.importing(try WhirrReader(directory: work.file("project/.whirr/runs")))
        #expect(runsOnly.written == ImportCounts())
        #expect(runsOnly.skipped.contains { $0.what == "run folders" && $0.count == 1 })
        #expect(try await fresh.counts() == before)
        try await Self.check(dump, fresh)
    }

    static func check(_ dump: JSONValue, _ fresh: FreshStore) async throws {
        let store = fresh.store
        let project = try #require(try await store.project(namespace: "local", slug: "whirr"))
        let ranJob = try #require(dump["ran_job"]?.intValue)
        for (name, run) in try #require(dump["runs"]?.objectValue) {
            let id = try #require(RunID(name))
            let details = try #require(try await store.runDetails(id), "run \(name) was not imported")
            #expect(details.run.projectID == project.id)
            if let meta = run["meta"]?.objectValue {
                #expect(details.run.name == meta["name"]?.stringValue)
                #expect(details.run.status.rawValue == meta["status"]?.stringValue)
                #expect(details.run.startedAt == meta["started_at"]?.stringValue.flatMap(Timestamp.parse))
                #expect(details.run.endedAt == meta["finished_at"]?.stringValue.flatMap(Timestamp.parse))
                var tags: [String: String] = [:]
                for tag in meta["tags"]?.arrayValue ?? [] {
                    let parts = (tag.stringValue ?? "").split(separator: ":", maxSplits: 1).map(String.init)
                    tags[parts[0]] = parts.count > 1 ? parts[1] : ""
                }
                #expect(details.tags == tags)
                #expect(details.run.summary == (meta["summary"]?.objectValue ?? [:]))
            } else {
                #expect(name == "job-\(ranJob)")
                #expect(details.run.name == "worker job")
                #expect(details.run.status == .completed)
                #expect(details.tags == ["w": ""])
            }
            #expect(
                details.run.config
                    == (run["config"]?.objectValue ?? (run["meta"]?.objectValue == nil ? ["seed": 1] : [:]))
            )
            // Every metric point, as whirr's read_metrics returns the rows.
            var expected: [String: [(index: Int, step: Int?, time: Date?, value: Double)]] = [:]
            for row in run["metrics"]?.arrayValue ?? [] {
                for (key, value) in row.objectValue ?? [:] where !key.hasPrefix("_") && key != "step" {
                    guard let number = value.doubleValue else { continue }
                    expected[key, default: []].append(
                        (
                            row["_idx"]?.intValue ?? -1, row["step"]?.intValue,
                            row["_timestamp"]?.stringValue.flatMap(Timestamp.parse), number
                        )
                    )
                }
            }
            #expect(Set(details.metrics.keys) == Set(expected.keys))
            for (key, points) in expected {
                let stored = try await store.metricHistory(id, key: key, steps: nil)
                #expect(stored.count == points.count)
                for (point, want) in zip(stored, points) {
                    #expect(point.index == want.index)
                    #expect(point.step == want.step || (want.step == nil && point.step != nil))
                    #expect(point.timestamp == want.time)
                    #expect(same(point.value, want.value))
                }
            }
            let artifacts = (run["artifacts"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
            let records = try await store.artifacts(id)
            #expect(Set(records.map(\.path)) == Set(artifacts.keys))
            for record in records {
                #expect(try await fresh.hex(record) == artifacts[record.path])
            }
            let log = try await store.logLines(id, offset: 0, limit: 100).lines.map(\.message)
            #expect(log == (run["log"]?.arrayValue ?? []).compactMap(\.stringValue))
        }
    }
}
