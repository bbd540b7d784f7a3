import Foundation
import QuillCore
import QuillStore
import Synchronization

/// What the access checks look up on every request, kept in memory so the logging hot path does not
/// read the runs and projects tables each time.
///
/// A run never moves to another project, so its project id is kept until the run is deleted through
/// this server (or the cache fills up). A project is kept for ``projectSeconds``: a visibility change
/// made through this server clears it at once, one made by another process shows within that time.
final class AccessCache: Sendable {
    static let projectSeconds: Double = 2
    static let capacity = 100_000

    private struct State {
        var runProjects: [RunID: Int64] = [:]
        var projects: [Int64: (project: StoredProject, expires: Double)] = [:]
    }

    private let state = Mutex(State())

    /// The project id of a run, from the cache or the store; `nil` when the run does not exist.
    func projectID(of run: RunID, store: any TrackingStore) async throws -> Int64? {
        if let known = state.withLock({ $0.runProjects[run] }) { return known }
        guard let stored = try await store.run(run) else { return nil }
        state.withLock { state in
            if state.runProjects.count >= Self.capacity { state.runProjects.removeAll(keepingCapacity: true) }
            state.runProjects[run] = stored.projectID
        }
        return stored.projectID
    }

    /// A project by id, from the cache or the store.
    func project(id: Int64, store: any TrackingStore) async throws -> StoredProject? {
        let now = Date().timeIntervalSinceReferenceDate
        if let entry = state.withLock({ $0.projects[id] }), entry.expires > now { return entry.project }
        guard let project = try await store.project(id: id) else { return nil }
        state.withLock { state in
            if state.projects.count >= Self.capacity { state.projects.removeAll(keepingCapacity: true) }
            state.projects[id] = (project, now + Self.projectSeconds)
        }
        return project
    }

    /// Forgets a deleted run.
    func forget(run: RunID) {
        _ = state.withLock { $0.runProjects.removeValue(forKey: run) }
    }

    /// Forgets every cached project (another replica may have changed any of them).
    func forgetProjects() {
        state.withLock { $0.projects.removeAll(keepingCapacity: true) }
    }

    /// Forgets a changed project.
    func forget(project: Int64) {
        _ = state.withLock { $0.projects.removeValue(forKey: project) }
    }
}
