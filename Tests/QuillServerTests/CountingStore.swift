import Foundation
import QuillCore
import QuillStore
import Synchronization

/// A real store with a tally: forwards every call to the store it wraps and counts the tracking calls by
/// name, so a test can see how often a route reads the store.
final class CountingStore: TrackingStore, AccountStore, SessionStore, ActivityStore {
    private let base: any TrackingStore & AccountStore & SessionStore & ActivityStore
    private let tally = Mutex<[String: Int]>([:])
    private let keyTally = Mutex<[String: Int]>([:])

    init(_ base: any TrackingStore & AccountStore & SessionStore & ActivityStore) {
        self.base = base
    }

    /// The tracking calls since the last reset, by name (`run`, `runDetails`, `project(id:)`, …).
    var calls: [String: Int] { tally.withLock { $0 } }

    /// The reads of API keys by hash and the sessions made since the last reset, apart from ``calls``
    /// (authentication reads keys on every request, which the route tests do not count).
    var keyCalls: [String: Int] { keyTally.withLock { $0 } }

    /// Forgets the calls counted so far.
    func reset() {
        tally.withLock { $0 = [:] }
        keyTally.withLock { $0 = [:] }
    }

    private func count(_ name: String) {
        tally.withLock { $0[name, default: 0] += 1 }
    }

    // MARK: TrackingStore, counted

    func project(namespace: String, displayName: String, createdBy: String?) async throws -> StoredProject {
        count("project(namespace:displayName:)")
        return try await base.project(namespace: namespace, displayName: displayName, createdBy: createdBy)
    }

    func project(namespace: String, slug: String) async throws -> StoredProject? {
        count("project(namespace:slug:)")
        return try await base.project(namespace: namespace, slug: slug)
    }

    func project(id: Int64) async throws -> StoredProject? {
        count("project(id:)")
        return try await base.project(id: id)
    }

    func projects() async throws -> [StoredProject] {
        count("projects")
        return try await base.projects()
    }

    func setVisibility(projectID: Int64, _ visibility: ProjectVisibility) async throws -> StoredProject {
        count("setVisibility")
        return try await base.setVisibility(projectID: projectID, visibility)
    }

    func createRun(_ run: NewRun) async throws -> StoredRun {
        count("createRun")
        return try await base.createRun(run)
    }

    func run(_ id: RunID) async throws -> StoredRun? {
        count("run")
        return try await base.run(id)
    }

    func runDetails(_ id: RunID) async throws -> RunDetails? {
        count("runDetails")
        return try await base.runDetails(id)
    }

    func updateRun(_ id: RunID, _ update: RunUpdate) async throws -> StoredRun {
        count("updateRun")
        return try await base.updateRun(id, update)
    }

    func deleteRun(_ id: RunID) async throws {
        count("deleteRun")
        try await base.deleteRun(id)
    }

    func updateProject(_ id: Int64, _ update: ProjectUpdate) async throws -> StoredProject {
        count("updateProject")
        return try await base.updateProject(id, update)
    }

    func setRunDeleted(_ id: RunID, _ deleted: Bool) async throws -> StoredRun {
        count("setRunDeleted")
        return try await base.setRunDeleted(id, deleted)
    }

    func searchRuns(_ search: RunSearch) async throws -> RunPage {
        count("searchRuns")
        return try await base.searchRuns(search)
    }

    func logBatch(_ run: RunID, _ batch: LogBatch) async throws -> BatchResult {
        count("logBatch")
        return try await base.logBatch(run, batch)
    }

    func metricHistory(_ run: RunID, key: String, steps: ClosedRange<Int>?) async throws -> [MetricPoint] {
        count("metricHistory")
        return try await base.metricHistory(run, key: key, steps: steps)
    }

    func downsampledHistory(
        _ run: RunID,
        key: String,
        steps: ClosedRange<Int>?,
        maxPoints: Int
    ) async throws -> DownsampledHistory {
        count("downsampledHistory")
        return try await base.downsampledHistory(run, key: key, steps: steps, maxPoints: maxPoints)
    }

    func logLines(_ run: RunID, offset: Int, limit: Int) async throws -> (lines: [LogLine], total: Int) {
        count("logLines")
        return try await base.logLines(run, offset: offset, limit: limit)
    }

    func logTail(_ run: RunID, count: Int) async throws -> LogTail {
        self.count("logTail")
        return try await base.logTail(run, count: count)
    }

    func metricTail(_ run: RunID, key: String, after index: Int?, limit: Int) async throws -> MetricTail {
        count("metricTail")
        return try await base.metricTail(run, key: key, after: index, limit: limit)
    }

    func counts() async throws -> StoreCounts {
        count("counts")
        return try await base.counts()
    }

    func serverID() async throws -> String {
        count("serverID")
        return try await base.serverID()
    }

    // MARK: AccountStore, forwarded (the authentication's reads are not what the tests count)

    func createUser(name: String, isAdmin: Bool) async throws -> StoredUser {
        try await base.createUser(name: name, isAdmin: isAdmin)
    }

    func user(name: String) async throws -> StoredUser? { try await base.user(name: name) }

    func users() async throws -> [StoredUser] { try await base.users() }

    func userCount() async throws -> Int { try await base.userCount() }

    func createOrganization(name: String, owner: String) async throws -> StoredOrganization {
        try await base.createOrganization(name: name, owner: owner)
    }

    func organization(name: String) async throws -> StoredOrganization? { try await base.organization(name: name) }

    func setMembership(organization: String, user: String, role: MembershipRole) async throws {
        try await base.setMembership(organization: organization, user: user, role: role)
    }

    func removeMembership(organization: String, user: String) async throws {
        try await base.removeMembership(organization: organization, user: user)
    }

    func memberships(user: String) async throws -> [Membership] { try await base.memberships(user: user) }

    func members(organization: String) async throws -> [Membership] {
        try await base.members(organization: organization)
    }

    func createAPIKey(_ key: NewAPIKey) async throws -> StoredAPIKey { try await base.createAPIKey(key) }

    func apiKey(hash: String) async throws -> (key: StoredAPIKey, user: StoredUser)? {
        keyTally.withLock { $0["apiKey(hash:)", default: 0] += 1 }
        return try await base.apiKey(hash: hash)
    }

    func apiKeys(user: String) async throws -> [StoredAPIKey] { try await base.apiKeys(user: user) }

    func revokeAPIKey(id: Int64, user: String) async throws -> StoredAPIKey {
        try await base.revokeAPIKey(id: id, user: user)
    }

    // MARK: ActivityStore, forwarded

    func projectActivity(_ projectIDs: [Int64]) async throws -> [Int64: ProjectActivity] {
        try await base.projectActivity(projectIDs)
    }

    func statistics(projectIDs: [Int64], since: Date) async throws -> TrackingStatistics {
        try await base.statistics(projectIDs: projectIDs, since: since)
    }

    // MARK: SessionStore, forwarded

    func createSession(tokenHash: String, keyHash: String, expiresAt: Date) async throws -> StoredUser {
        keyTally.withLock { $0["createSession", default: 0] += 1 }
        return try await base.createSession(tokenHash: tokenHash, keyHash: keyHash, expiresAt: expiresAt)
    }

    func sessionKeyHash(tokenHash: String, now: Date) async throws -> String? {
        try await base.sessionKeyHash(tokenHash: tokenHash, now: now)
    }

    func deleteSession(tokenHash: String) async throws {
        try await base.deleteSession(tokenHash: tokenHash)
    }
}
