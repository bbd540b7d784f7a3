import Foundation
import QuillCore
import QuillStore
import QuillStorePostgres
import QuillTesting
import Testing

@Suite("PostgreSQL account, session and artifact stores")
struct PostgresAccountStoreTests {
    @Test("conforms to the AccountStore contract", arguments: AccountStoreConformance.allCases)
    func accountConformance(check: AccountStoreConformance) async throws {
        try await TestPostgres.withStore("accounts_\(check.rawValue)") { store in try await check.check(store) }
    }

    @Test("conforms to the SessionStore contract", arguments: SessionStoreConformance.allCases)
    func sessionConformance(check: SessionStoreConformance) async throws {
        try await TestPostgres.withStore("sessions_\(check.rawValue)") { store in try await check.check(store) }
    }

    @Test("conforms to the ArtifactStore contract", arguments: ArtifactStoreConformance.allCases)
    func artifactConformance(check: ArtifactStoreConformance) async throws {
        try await TestPostgres.withStore("artifacts_\(check.rawValue)") { store in try await check.check(store) }
    }

    @Test("a key revoked through one replica is announced to another within one second")
    func revocationReachesOtherReplicas() async throws {
        let location = try await TestPostgres.database("accounts_replicas")
        let first = try PostgresStore(location: location, maximumConnections: 2)
        let second = try PostgresStore(location: location, maximumConnections: 2)
        let heard = HeardChanges()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await first.run() }
            group.addTask { try await second.run() }
            let changes = second.externalChanges()
            group.addTask {
                for await change in changes { await heard.append(change, at: ContinuousClock.now) }
            }
            defer { group.cancelAll() }
            _ = try await first.createUser(name: "ada", isAdmin: false)
            let hash = APIKeySecret.hash("qk_abcdefghij")
            let key = try await first.createAPIKey(
                NewAPIKey(user: "ada", label: "laptop", prefix: "qk_abcdefg", hash: hash)
            )
            #expect(try await second.apiKey(hash: hash) != nil)

            // The second replica listens once it is ready: announce `.jobs` until it hears one, so the measurement
            // starts with its listener in place.
            var listening = false
            for _ in 0..<100 where !listening {
                try await first.transaction { connection in try await first.announce(.jobs, on: connection) }
                try await Task.sleep(for: .milliseconds(100))
                listening = await heard.contains(.jobs, after: 0)
            }
            try #require(listening, "the second replica never heard an announcement")

            // Measured from the moment the revocation is acknowledged (committed) to the moment the other replica's
            // stream delivers the announcement.
            let before = await heard.count
            _ = try await first.revokeAPIKey(id: key.id, user: "ada")
            let revokedAt = ContinuousClock.now
            var arrival = await heard.arrival(of: .accounts, after: before)
            while arrival == nil, ContinuousClock.now - revokedAt < .seconds(10) {
                try await Task.sleep(for: .milliseconds(5))
                arrival = await heard.arrival(of: .accounts, after: before)
            }
            let delay = try #require(arrival, "the second replica heard no .accounts within 10 s") - revokedAt
            #expect(delay < .seconds(1), "the second replica heard .accounts \(delay) after the revocation")
            #expect(try await second.apiKey(hash: hash) == nil)
        }
    }
}

/// The changes a replica heard, in order, with the moment each arrived.
private actor HeardChanges {
    private var changes: [(change: StoreChange, at: ContinuousClock.Instant)] = []

    var count: Int { changes.count }

    func append(_ change: StoreChange, at instant: ContinuousClock.Instant) { changes.append((change, instant)) }

    /// Whether `change` arrived after the first `index` changes.
    func contains(_ change: StoreChange, after index: Int) -> Bool {
        arrival(of: change, after: index) != nil
    }

    /// When `change` first arrived after the first `index` changes, or `nil`.
    func arrival(of change: StoreChange, after index: Int) -> ContinuousClock.Instant? {
        changes.dropFirst(index).first { $0.change == change }?.at
    }
}
