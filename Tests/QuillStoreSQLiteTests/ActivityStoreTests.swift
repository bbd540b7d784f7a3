import Foundation
import QuillCore
import QuillStore
import QuillStoreSQLite
import QuillTesting
import Testing

@Suite("SQLite: project activity and statistics")
struct ActivityStoreTests {
    @Test("runs by status, last activity, runs per day, metric points and artifact bytes, only of the given projects")
    func countsOnlyTheGivenProjects() async throws {
        let temp = TemporaryDirectory("quill-activity")
        let store = try SQLiteTrackingStore(path: temp.file("quill.db"))
        let vision = try await store.project(namespace: "local", displayName: "vision", createdBy: nil)
        let audio = try await store.project(namespace: "local", displayName: "audio", createdBy: nil)
        let empty = try await store.project(namespace: "local", displayName: "empty", createdBy: nil)
        let day = 86_400.0
        let now = Date()
        var ids: [RunID] = []
        for (index, status) in [RunStatus.completed, .completed, .failed, .running].enumerated() {
            var new = NewRun(projectID: vision.id)
            new.name = "v\(index)"
            new.status = status
            new.startedAt = now.addingTimeInterval(-Double(index) * day)
            ids.append(try await store.createRun(new).id)
        }
        let other = try await store.createRun(NewRun(projectID: audio.id))
        var batch = LogBatch()
        batch.metrics =
            (0..<10).map { MetricValue(key: "loss", value: Double($0), step: $0, index: $0) }
            + (0..<5).map { MetricValue(key: "acc", value: 1, step: $0, index: $0) }
        _ = try await store.logBatch(ids[0], batch)
        _ = try await store.logBatch(other.id, batch)
        _ = try await store.createArtifact(NewArtifact(run: ids[0], path: "a.bin"))

        let activity = try await store.projectActivity([vision.id, empty.id])
        #expect(activity[vision.id]?.runsByStatus == [.completed: 2, .failed: 1, .running: 1])
        #expect(activity[empty.id]?.runsByStatus == [:])
        #expect(activity[empty.id]?.lastActivity != nil, "a project without runs was last active when created")
        #expect(activity[audio.id] == nil, "projects not asked for are not counted")
        let lastVision = try #require(activity[vision.id]?.lastActivity)
        #expect(abs(lastVision.timeIntervalSinceNow) < 120)

        let statistics = try await store.statistics(
            projectIDs: [vision.id, empty.id],
            since: now.addingTimeInterval(-2.5 * day)
        )
        #expect(statistics.projects == 2)
        #expect(statistics.runsByStatus == [.completed: 2, .failed: 1, .running: 1])
        #expect(statistics.runsPerDay.map(\.runs).reduce(0, +) == 3, "runs started within 2.5 days: 3 of 4")
        #expect(statistics.runsPerDay.map(\.day) == statistics.runsPerDay.map(\.day).sorted())
        #expect(statistics.metricSeries == 2)
        #expect(statistics.metricPoints == 15, "the other project's 15 points are not counted")
        #expect(statistics.artifactFiles == 0, "an announced artifact without bytes has no stored version")
        let none = try await store.statistics(projectIDs: [], since: now)
        #expect(none.projects == 0 && none.runsByStatus.isEmpty && none.metricPoints == 0)
    }
}
