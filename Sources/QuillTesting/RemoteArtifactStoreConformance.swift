public import Foundation
public import QuillCore
public import QuillStore
public import Testing

/// A fresh store to check for ``RemoteArtifactStore``, with ways to make and delete runs.
public struct RemoteArtifactStoreFixture: Sendable {
    /// The store under test.
    public var store: any RemoteArtifactStore
    /// Makes a run and returns its id.
    public var makeRun: @Sendable () async throws -> RunID
    /// Deletes a run.
    public var deleteRun: @Sendable (RunID) async throws -> Void
    /// Registers a device (a worker that starts) at a time.
    public var registerDevice: @Sendable (String, Date) async throws -> Void

    /// A fixture.
    public init(
        store: any RemoteArtifactStore,
        makeRun: @escaping @Sendable () async throws -> RunID,
        deleteRun: @escaping @Sendable (RunID) async throws -> Void,
        registerDevice: @escaping @Sendable (String, Date) async throws -> Void
    ) {
        self.store = store
        self.makeRun = makeRun
        self.deleteRun = deleteRun
        self.registerDevice = registerDevice
    }
}

extension RemoteArtifactStoreFixture {
    /// A fixture on a job store (every job store keeps remote artifact requests), whose devices register through
    /// it (host `h`, one CPU, one byte of memory, for 10 s).
    public init(
        jobs store: any JobStore,
        makeRun: @escaping @Sendable () async throws -> RunID,
        deleteRun: @escaping @Sendable (RunID) async throws -> Void
    ) {
        self.init(store: store, makeRun: makeRun, deleteRun: deleteRun) { name, now in
            _ = try await store.registerDevice(
                NewDevice(name: name, host: "h", cpus: 1, memoryBytes: 1),
                lease: .seconds(10),
                now: now
            )
        }
    }
}

/// The behaviour every ``RemoteArtifactStore`` must have: `@Test(arguments: RemoteArtifactStoreConformance.allCases)`.
public enum RemoteArtifactStoreConformance: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case requestAndRead
    case claimsAreByDeviceOnceAndAgainAfterTheLease
    case finishEndsOnlyAClaimedRequestOfItsDevice
    case requestsBelongToTheirRun

    /// The check's name in test output.
    public var testDescription: String { rawValue }

    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    static let lease: Duration = .seconds(60)

    static func at(_ seconds: Double) -> Date { t0.addingTimeInterval(seconds) }

    static func new(_ run: RunID, _ device: String, _ name: String, transfer: Bool = true) -> NewRemoteArtifact {
        NewRemoteArtifact(
            run: run,
            device: device,
            sourcePath: "/data/\(name)",
            artifactPath: NewRemoteArtifact.artifactPath(device: device, name: name),
            transfer: transfer,
            requestedBy: "ada"
        )
    }

    /// Runs the check on a fresh store.
    public func check(_ fixture: RemoteArtifactStoreFixture) async throws {
        switch self {
        case .requestAndRead: try await requestAndRead(fixture)
        case .claimsAreByDeviceOnceAndAgainAfterTheLease: try await claims(fixture)
        case .finishEndsOnlyAClaimedRequestOfItsDevice: try await finish(fixture)
        case .requestsBelongToTheirRun: try await runDeletion(fixture)
        }
    }

    private func requestAndRead(_ fixture: RemoteArtifactStoreFixture) async throws {
        let store = fixture.store
        let run = try await fixture.makeRun()
        let sent = try await store.requestRemoteArtifact(Self.new(run, "box", "a.bin"), now: Self.t0)
        #expect(sent.status == .pending)
        #expect(sent.spec == Self.new(run, "box", "a.bin"))
        #expect(sent.spec.artifactPath == "remote_box__a.bin")
        #expect(sent.createdAt == Self.t0)
        #expect(sent.size == nil && sent.sha256 == nil && sent.reason == nil && sent.claims == 0)
        let named = try await store.requestRemoteArtifact(
            Self.new(run, "box", "b.bin", transfer: false),
            now: Self.at(1)
        )
        #expect(named.status == .recorded)
        #expect(named.id > sent.id)
        #expect(try await store.remoteArtifacts(run).map(\.id) == [sent.id, named.id])
        #expect(try await store.remoteArtifact(sent.id) == sent)
        #expect(try await store.remoteArtifact(named.id + 1000) == nil)
        let other = try await fixture.makeRun()
        #expect(try await store.remoteArtifacts(other).isEmpty)
        try await expectError(.notFound) {
            _ = try await store.requestRemoteArtifact(Self.new(RunID.random(), "box", "c.bin"), now: Self.t0)
        }
        try await expectError(.notFound) { _ = try await store.remoteArtifacts(RunID.random()) }
    }

    private func claims(_ fixture: RemoteArtifactStoreFixture) async throws {
        let store = fixture.store
        let run = try await fixture.makeRun()
        let first = try await store.requestRemoteArtifact(Self.new(run, "a", "1"), now: Self.t0)
        let second = try await store.requestRemoteArtifact(Self.new(run, "a", "2"), now: Self.t0)
        _ = try await store.requestRemoteArtifact(Self.new(run, "a", "3", transfer: false), now: Self.t0)
        let elsewhere = try await store.requestRemoteArtifact(Self.new(run, "b", "4"), now: Self.t0)
        let one = try await store.claimRemoteArtifacts(device: "a", lease: Self.lease, limit: 1, now: Self.at(1))
        #expect(one.map(\.id) == [first.id])
        #expect(one.first?.status == .sending)
        #expect(one.first?.claims == 1)
        let rest = try await store.claimRemoteArtifacts(device: "a", lease: Self.lease, limit: 10, now: Self.at(2))
        #expect(
            rest.map(\.id) == [second.id],
            "a recorded request is never sent; a claimed one is not handed out twice"
        )
        #expect(
            try await store.claimRemoteArtifacts(device: "a", lease: Self.lease, limit: 10, now: Self.at(3)).isEmpty
        )
        #expect(
            try await store.claimRemoteArtifacts(device: "c", lease: Self.lease, limit: 10, now: Self.at(3)).isEmpty
        )
        // A worker that claimed and went silent past its lease: the request is handed out again.
        let again = try await store.claimRemoteArtifacts(device: "a", lease: Self.lease, limit: 10, now: Self.at(62))
        #expect(again.map(\.id) == [first.id, second.id])
        #expect(again.map(\.claims) == [2, 2])
        let b = try await store.claimRemoteArtifacts(device: "b", lease: Self.lease, limit: 10, now: Self.at(62))
        #expect(b.map(\.id) == [elsewhere.id])
        // The device's worker restarted (registered again) within the lease: what the old process claimed is
        // handed to the new one at once; a claim made after the registration is not.
        try await fixture.registerDevice("b", Self.at(63))
        let restarted = try await store.claimRemoteArtifacts(
            device: "b",
            lease: Self.lease,
            limit: 10,
            now: Self.at(64)
        )
        #expect(restarted.map(\.id) == [elsewhere.id])
        #expect(
            try await store.claimRemoteArtifacts(device: "b", lease: Self.lease, limit: 10, now: Self.at(65)).isEmpty
        )
        // Claims from several tasks at once never share a request.
        for index in 0..<20 {
            _ = try await store.requestRemoteArtifact(Self.new(run, "many", "f\(index)"), now: Self.t0)
        }
        let claimed = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for _ in 0..<4 {
                group.addTask {
                    var mine: [Int64] = []
                    while true {
                        let got = try await store.claimRemoteArtifacts(
                            device: "many",
                            lease: Self.lease,
                            limit: 3,
                            now: Self.at(70)
                        )
                        if got.isEmpty { return mine }
                        mine += got.map(\.id)
                    }
                }
            }
            var all: [Int64] = []
            for try await ids in group { all += ids }
            return all
        }
        #expect(claimed.count == 20)
        #expect(Set(claimed).count == 20)
    }

    private func finish(_ fixture: RemoteArtifactStoreFixture) async throws {
        let store = fixture.store
        let run = try await fixture.makeRun()
        let good = try await store.requestRemoteArtifact(Self.new(run, "a", "good"), now: Self.t0)
        let bad = try await store.requestRemoteArtifact(Self.new(run, "a", "bad"), now: Self.t0)
        let waiting = try await store.requestRemoteArtifact(Self.new(run, "a", "waiting"), now: Self.at(1))
        try await expectError(.conflict) {
            _ = try await store.finishRemoteArtifact(good.id, device: "a", .failed(reason: "x"), now: Self.at(1))
        }
        _ = try await store.claimRemoteArtifacts(device: "a", lease: Self.lease, limit: 2, now: Self.at(2))
        try await expectError(.conflict) {
            _ = try await store.finishRemoteArtifact(good.id, device: "b", .failed(reason: "x"), now: Self.at(3))
        }
        let hash = String(repeating: "ab", count: 32)
        let done = try await store.finishRemoteArtifact(
            good.id,
            device: "a",
            .done(size: 7, sha256: hash),
            now: Self.at(3)
        )
        #expect(done.status == .done)
        #expect(done.size == 7)
        #expect(done.sha256 == hash)
        #expect(done.updatedAt == Self.at(3))
        let failed = try await store.finishRemoteArtifact(
            bad.id,
            device: "a",
            .failed(reason: "device a does not share /x"),
            now: Self.at(4)
        )
        #expect(failed.status == .failed)
        #expect(failed.reason == "device a does not share /x")
        #expect(try await store.remoteArtifact(good.id) == done)
        try await expectError(.conflict) {
            _ = try await store.finishRemoteArtifact(good.id, device: "a", .failed(reason: "again"), now: Self.at(5))
        }
        try await expectError(.notFound) {
            _ = try await store.finishRemoteArtifact(good.id + 1000, device: "a", .failed(reason: "x"), now: Self.at(5))
        }
        // Finished requests are never handed out again, even long after.
        let later = try await store.claimRemoteArtifacts(device: "a", lease: Self.lease, limit: 10, now: Self.at(1000))
        #expect(later.map(\.id) == [waiting.id])
    }

    private func runDeletion(_ fixture: RemoteArtifactStoreFixture) async throws {
        let store = fixture.store
        let run = try await fixture.makeRun()
        let kept = try await fixture.makeRun()
        let gone = try await store.requestRemoteArtifact(Self.new(run, "a", "x"), now: Self.t0)
        let stays = try await store.requestRemoteArtifact(Self.new(kept, "a", "y"), now: Self.t0)
        try await fixture.deleteRun(run)
        #expect(try await store.remoteArtifact(gone.id) == nil)
        #expect(try await store.remoteArtifact(stays.id) == stays)
        let claimed = try await store.claimRemoteArtifacts(device: "a", lease: Self.lease, limit: 10, now: Self.at(1))
        #expect(claimed.map(\.id) == [stays.id])
    }

    private func expectError(
        _ code: QuillError.Code,
        sourceLocation: SourceLocation = #_sourceLocation,
        _ body: () async throws -> Void
    ) async throws {
        do {
            try await body()
            Issue.record("expected a QuillError with code \(code)", sourceLocation: sourceLocation)
        } catch let error as QuillError {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        }
    }
}
