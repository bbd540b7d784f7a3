import Foundation
import QuillCore
public import QuillStore
public import Testing

/// The behaviour every ``ActivityStore`` backend must have, run on a fresh store:
/// `@Test(arguments: ActivityStoreConformance.allCases)`.
public enum ActivityStoreConformance: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case countsOnlyTheGivenProjects
    case artifactsCountTheirStoredVersions

    /// The check's name in test output.
    public var testDescription: String { rawValue }

    /// Runs the check on an empty store.
    public func check(_ store: any TrackingStore & ActivityStore & ArtifactStore) async throws {
        switch self {
        case .countsOnlyTheGivenProjects: try await countsOnlyTheGivenProjects(store)
        case .artifactsCountTheirStoredVersions: try await artifacts(store)
        }
    }

    /// Runs by status, last activity, runs per day and metric points, only of the given projects.
    private func countsOnlyTheGivenProjects(_ store: any TrackingStore & ActivityStore) async throws {
        let vision = try await store.project(namespace: "local", displayName: "vision", createdBy: nil)
        let audio = try await store.project(namespace: "local", displayName: "audio", createdBy: nil)
        let empty = try await store.project(namespace: "local", displayName: "empty", createdBy: nil)
        let trashed = try await store.project(namespace: "local", displayName: "trashed", createdBy: nil)
        var trash = ProjectUpdate()
        trash.deleted = true
        _ = try await store.updateProject(trashed.id, trash)
        let day = 86_400.0
        let now = Date()
        var ids: [RunID] = []
        for (index, status) in [RunStatus.completed, .completed, .failed, .running, .killed].enumerated() {
            var new = NewRun(projectID: vision.id)
            new.name = "v\(index)"
            new.status = status
            new.startedAt = now.addingTimeInterval(-Double(index) * day)
            ids.append(try await store.createRun(new).id)
        }
        // A run in the trash is not counted by status or by day; its points still take room.
        _ = try await store.setRunDeleted(ids[4], true)
        let other = try await store.createRun(NewRun(projectID: audio.id))
        var batch = LogBatch()
        batch.metrics =
            (0..<10).map { MetricValue(key: "loss", value: Double($0), step: $0, index: $0) }
            + (0..<5).map { MetricValue(key: "acc", value: 1, step: $0, index: $0) }
        _ = try await store.logBatch(ids[0], batch)
        _ = try await store.logBatch(other.id, batch)
        var trashedBatch = LogBatch()
        trashedBatch.metrics = [MetricValue(key: "loss", value: 1, step: 0, index: 0)]
        _ = try await store.logBatch(ids[4], trashedBatch)

        let activity = try await store.projectActivity([vision.id, empty.id])
        #expect(activity[vision.id]?.runsByStatus == [.completed: 2, .failed: 1, .running: 1])
        #expect(activity[empty.id]?.runsByStatus == [:])
        #expect(activity[empty.id]?.lastActivity != nil, "a project without runs was last active when created")
        #expect(activity[audio.id] == nil, "projects not asked for are not counted")
        let lastVision = try #require(activity[vision.id]?.lastActivity)
        #expect(abs(lastVision.timeIntervalSinceNow) < 120)
        #expect(try await store.projectActivity([]).isEmpty)

        let statistics = try await store.statistics(
            projectIDs: [vision.id, empty.id, trashed.id],
            since: now.addingTimeInterval(-2.5 * day)
        )
        #expect(statistics.projects == 2, "a project in the trash is not counted")
        #expect(statistics.runsByStatus == [.completed: 2, .failed: 1, .running: 1])
        #expect(statistics.runsPerDay.map(\.runs).reduce(0, +) == 3, "runs started within 2.5 days: 3 of 4")
        #expect(statistics.runsPerDay.map(\.day) == statistics.runsPerDay.map(\.day).sorted())
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        #expect(statistics.runsPerDay.last?.day == formatter.string(from: now), "days are UTC days, YYYY-MM-DD")
        #expect(statistics.metricSeries == 3, "a run in the trash keeps its series")
        #expect(statistics.metricPoints == 16, "the other project's 15 points are not counted")
        #expect(statistics.artifactFiles == 0 && statistics.artifactBytes == 0)
        let none = try await store.statistics(projectIDs: [], since: now)
        #expect(none.projects == 0 && none.runsByStatus.isEmpty && none.metricPoints == 0)
    }

    /// Artifact records count with the version they have stored: an announced one without bytes does not.
    private func artifacts(_ store: any TrackingStore & ActivityStore & ArtifactStore) async throws {
        let project = try await store.project(namespace: "local", displayName: "vision", createdBy: nil)
        let other = try await store.project(namespace: "local", displayName: "audio", createdBy: nil)
        let run = try await store.createRun(NewRun(projectID: project.id))
        let elsewhere = try await store.createRun(NewRun(projectID: other.id))
        let hash = String(repeating: "ab", count: 32)
        _ = try await store.createArtifact(NewArtifact(run: run.id, path: "announced.bin"))
        _ = try await store.createArtifact(NewArtifact(run: run.id, path: "stored.bin"))
        _ = try await store.markArtifactUploaded(run.id, path: "stored.bin", size: 10, sha256: hash)
        _ = try await store.createArtifact(NewArtifact(run: elsewhere.id, path: "stored.bin"))
        _ = try await store.markArtifactUploaded(elsewhere.id, path: "stored.bin", size: 7, sha256: hash)
        let statistics = try await store.statistics(projectIDs: [project.id], since: Date())
        #expect(statistics.artifactFiles == 1, "an announced artifact without bytes has no stored version")
        #expect(statistics.artifactBytes == 10)
    }
}
