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
            group.addTask { for await change in changes { await heard.append(change) } }
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

            let before = await heard.count
            let revokedAt = ContinuousClock.now
            _ = try await first.revokeAPIKey(id: key.id, user: "ada")
            var elapsed = ContinuousClock.now - revokedAt
            while await !heard.contains(.accounts, after: before), elapsed < .seconds(1) {
                try await Task.sleep(for: .milliseconds(5))
                elapsed = ContinuousClock.now - revokedAt
            }
            #expect(await heard.contains(.accounts, after: before), "nothing heard within \(elapsed)")
            #expect(elapsed < .seconds(1))
            #expect(try await second.apiKey(hash: hash) == nil)
        }
    }
}

/// The changes a replica heard, in order.
private actor HeardChanges {
    private var changes: [StoreChange] = []

    var count: Int { changes.count }

    func append(_ change: StoreChange) { changes.append(change) }

    /// Whether `change` arrived after the first `index` changes.
    func contains(_ change: StoreChange, after index: Int) -> Bool {
        changes.dropFirst(index).contains(change)
    }
}
