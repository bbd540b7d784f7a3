import Foundation
import Logging
import PostgresNIO
import QuillCore
import QuillStore
import QuillStorePostgres
import QuillTesting
import Testing

@Suite("PostgreSQL account, session and artifact stores")
struct PostgresAccountStoreTests {
    // The cases that make projects and runs need the tracking methods (helper pgtrack, issue 15): until they land,
    // `artifactRecordsOnSeededRuns` runs the artifact store on runs inserted with SQL.
    static let accountCasesWithoutProjects = AccountStoreConformance.allCases.filter {
        $0 != .namespacesHoldingProjectsAreTaken && $0 != .firstUserReceivesOwnerlessNamespaces
    }

    @Test("conforms to the AccountStore contract", arguments: accountCasesWithoutProjects)
    func accountConformance(check: AccountStoreConformance) async throws {
        try await TestPostgres.withStore("accounts_\(check.rawValue)") { store in try await check.check(store) }
    }

    @Test("conforms to the SessionStore contract", arguments: SessionStoreConformance.allCases)
    func sessionConformance(check: SessionStoreConformance) async throws {
        try await TestPostgres.withStore("sessions_\(check.rawValue)") { store in try await check.check(store) }
    }

    @Test("artifact records on runs inserted with SQL: versions, failures, released bytes, deleted runs")
    func artifactRecordsOnSeededRuns() async throws {
        try await TestPostgres.withStore("artifacts_seeded") { store in
            let hashA = String(repeating: "a", count: 64)
            let hashB = String(repeating: "b", count: 64)
            let run = try #require(RunID("run00001"))
            let other = try #require(RunID("run00002"))
            try await store.withConnection { connection in
                let logger = Logger(label: "test")
                try await connection.query(
                    "INSERT INTO projects (id, namespace, slug, display_name, created_at) VALUES (1, 'ada', 'p', 'p', 0)",
                    logger: logger
                )
                for id in [run, other] {
                    try await connection.query(
                        """
                        INSERT INTO runs (id, project_id, name, kind, status, created_at, updated_at, started_at)
                        VALUES (\(id.rawValue), 1, \(id.rawValue), 'run', 'running', 0, 0, 0)
                        """,
                        logger: logger
                    )
                }
            }
            let logged = Date(timeIntervalSince1970: 1_700_000_000)
            let first = try await store.createArtifact(
                NewArtifact(run: run, path: "model.bin", expectedSize: 10, loggedAt: logged)
            )
            #expect(first.created && first.artifact.status == .pending && first.artifact.loggedAt == logged)
            #expect(
                try await store.createArtifact(NewArtifact(run: run, path: "model.bin"))
                    == ArtifactCreation(artifact: first.artifact, created: false)
            )
            #expect(try await store.markArtifactFailed(run, path: "model.bin").status == .failed)
            let retried = try await store.createArtifact(NewArtifact(run: run, path: "model.bin")).artifact
            #expect(retried.status == .pending && retried.expectedSize == 10)
            let uploaded = try await store.markArtifactUploaded(run, path: "model.bin", size: 10, sha256: hashA)
            #expect(uploaded.status == .uploaded && uploaded.expectedSize == nil && uploaded.sha256 == hashA)
            let newer = try await store.createArtifact(
                NewArtifact(run: run, path: "model.bin", expectedSize: 20, expectedSHA256: hashB)
            ).artifact
            #expect(newer.status == .uploaded && newer.sha256 == hashA && newer.expectedSHA256 == hashB)
            #expect(try await store.markArtifactFailed(run, path: "model.bin").status == .uploaded)
            #expect(try await store.referencedContentHashes() == [hashA, hashB])
            _ = try await store.markArtifactUploaded(run, path: "model.bin", size: 20, sha256: hashB)
            #expect(try await store.releasedContent(namespace: "ada") == [hashA])
            #expect(try await store.artifactBytes(namespace: "ada") == 30)
            #expect(try await !store.storesContent(sha256: hashA))
            try await store.forgetReleasedContent(sha256: hashA)
            #expect(try await store.artifactBytes(namespace: "ada") == 20)
            for path in ["z.txt", "a/b.txt", "a.txt", "é/ü.txt"] {
                _ = try await store.createArtifact(NewArtifact(run: other, path: path))
            }
            #expect(try await store.artifacts(other).map(\.path) == ["a.txt", "a/b.txt", "z.txt", "é/ü.txt"])
            // Deleting the run row releases its bytes (the schema's trigger) and its records go with it.
            try await store.withConnection { connection in
                _ = try await connection.query(
                    "DELETE FROM runs WHERE id = \(run.rawValue)",
                    logger: Logger(label: "test")
                )
            }
            #expect(try await store.releasedContent(namespace: nil) == [hashB])
            #expect(try await store.artifactBytes(namespace: "ada") == 20)
            #expect(try await store.referencedContentHashes().isEmpty)
            for attempt in [
                { _ = try await store.artifacts(run) },
                { _ = try await store.createArtifact(NewArtifact(run: run, path: "a")) },
                { _ = try await store.markArtifactFailed(other, path: "never-created") },
            ] as [@Sendable () async throws -> Void] {
                let error = await #expect(throws: QuillError.self) { try await attempt() }
                #expect(error?.code == .notFound)
            }
        }
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
