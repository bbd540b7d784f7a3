import Foundation
import GRDB
import QuillCore
import QuillStore
import QuillStoreSQLite
import QuillTesting
import Testing

@Suite("SQLite: database errors become QuillError codes; uniqueness is the schema's")
struct DatabaseErrorTests {
    /// What a throwing call failed with: `nil` when it succeeded.
    private static func outcome(_ body: () async throws -> Void) async -> QuillError? {
        do {
            try await body()
            return nil
        } catch let error as QuillError {
            return error
        } catch {
            return QuillError(.process, "not a QuillError: \(error)")
        }
    }

    @Test("two store handles on one file creating one name at once: one succeeds, the others are conflicts")
    func twoHandlesRace() async throws {
        let temp = TemporaryDirectory("quill-race")
        let path = temp.file("quill.db")
        let first = try SQLiteTrackingStore(path: path)
        let second = try SQLiteTrackingStore(path: path)
        _ = try await first.createUser(name: "root", isAdmin: true)
        let project = try await first.project(namespace: "root", displayName: "p")
        for round in 0..<8 {
            let name = "name\(round)"
            let runID = try #require(RunID("race-\(round)"))
            let errors = await withTaskGroup(of: QuillError?.self) { group in
                for (index, store) in [first, second, first, second].enumerated() {
                    group.addTask {
                        await Self.outcome {
                            if index < 2 {
                                _ = try await store.createUser(name: name, isAdmin: false)
                            } else {
                                _ = try await store.createOrganization(name: name, owner: "root")
                            }
                        }
                    }
                    group.addTask {
                        await Self.outcome {
                            var request = NewRun(projectID: project.id)
                            request.id = runID
                            _ = try await store.createRun(request)
                        }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            // Four account creates and four run creates: one of each succeeds.
            #expect(errors.filter { $0 == nil }.count == 2)
            let failures = errors.compactMap { $0 }
            #expect(failures.count == 6)
            for failure in failures {
                #expect(failure.code == .conflict, "\(failure)")
                #expect(failure.underlying is DatabaseError, "the constraint is the cause: \(failure)")
                #expect(!failure.message.contains("constraint"), "no database text in the message: \(failure)")
            }
        }
        // Each round made one account: a user, or an organization root owns.
        let users = try await second.users().count - 1
        let organizations = try await second.memberships(user: "root").count
        #expect(users + organizations == 8)
    }

    @Test("a conflict says what is taken and what to do, never SQLite's text, which stays the cause")
    func conflictMessages() async throws {
        let temp = TemporaryDirectory("quill-conflict")
        let store = try SQLiteTrackingStore(path: temp.file("quill.db"))
        _ = try await store.createUser(name: "ada", isAdmin: false)
        let duplicate = await Self.outcome { _ = try await store.createOrganization(name: "Ada", owner: "ada") }
        #expect(duplicate?.code == .conflict)
        #expect(duplicate?.message == "the name 'ada' is taken by a user or an organization; choose another")
        #expect(duplicate?.underlying is DatabaseError)

        let project = try await store.project(namespace: "ada", displayName: "p")
        var request = NewRun(projectID: project.id)
        request.name = "baseline"
        _ = try await store.createRun(request)
        let other = try await store.createRun(NewRun(projectID: project.id))
        var rename = RunUpdate()
        rename.name = "baseline"
        let taken = await Self.outcome { _ = try await store.updateRun(other.id, rename) }
        #expect(taken?.code == .conflict)
        #expect(taken?.message == "the project already has a run named 'baseline'; choose another name")
        #expect(try await store.run(other.id)?.name == other.name, "the failed rename changed nothing")

        // Keys: the schema's UNIQUE (hash) is the only check.
        let key = NewAPIKey(user: "ada", label: "a", prefix: "qk_x", hash: String(repeating: "f", count: 64))
        _ = try await store.createAPIKey(key)
        let sameHash = await Self.outcome { _ = try await store.createAPIKey(key) }
        #expect(sameHash?.code == .conflict)
        #expect(sameHash.map { !$0.message.contains("UNIQUE") } == true)
    }

    @Test("a write locked out by another process longer than the busy timeout is retryable, not an I/O error")
    func busyIsRetryable() async throws {
        let temp = TemporaryDirectory("quill-busy")
        let path = temp.file("quill.db")
        let store = try SQLiteTrackingStore(path: path, busyTimeout: .milliseconds(200))
        // Another process's write transaction, held open.
        var configuration = Configuration()
        configuration.allowsUnsafeTransactions = true
        let other = try DatabaseQueue(path: path, configuration: configuration)
        try await other.writeWithoutTransaction { db in try db.execute(sql: "BEGIN IMMEDIATE") }
        let started = ContinuousClock.now
        let locked = await Self.outcome { _ = try await store.createUser(name: "ada", isAdmin: false) }
        #expect(locked?.code == .unavailable, "\(String(describing: locked))")
        #expect(locked?.underlying is DatabaseError)
        #expect(locked.map { !$0.message.contains("database is locked") } == true)
        #expect(ContinuousClock.now - started < .seconds(10), "the timeout, not the old 10 s, decides")
        // Reads still work meanwhile (WAL), and the write succeeds once the lock is gone.
        #expect(try await store.userCount() == 0)
        try await other.writeWithoutTransaction { db in try db.execute(sql: "ROLLBACK") }
        try other.close()
        #expect(try await store.createUser(name: "ada", isAdmin: false).name == "ada")
    }

    @Test("the default busy timeout is shorter than the SDK's 10 s request timeout")
    func defaultBusyTimeout() {
        #expect(SQLiteTrackingStore.defaultBusyTimeout > .seconds(1))
        #expect(SQLiteTrackingStore.defaultBusyTimeout < .seconds(10))
    }

    @Test("a database from before v9 gets account_names, normalized, so older spellings still collide")
    func accountNamesMigration() async throws {
        let temp = TemporaryDirectory("quill-v9")
        let path = temp.file("quill.db")
        do {
            let store = try SQLiteTrackingStore(path: path)
            _ = try await store.createUser(name: "ada", isAdmin: true)
            _ = try await store.createUser(name: "bob", isAdmin: false)
            _ = try await store.createOrganization(name: "vision", owner: "ada")
            try await store.close()
        }
        // Back to v8: no account_names, and names spelled as an older version could store them.
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in
            try db.execute(
                sql: """
                    DROP TRIGGER users_take_account_name;
                    DROP TRIGGER organizations_take_account_name;
                    DROP TABLE account_names;
                    DELETE FROM grdb_migrations WHERE identifier = 'v9: users and organizations share one space of names';
                    UPDATE users SET name = 'Bob' WHERE name = 'bob';
                    UPDATE organizations SET name = 'Vision' WHERE name = 'vision';
                    """
            )
        }
        try queue.close()
        let store = try SQLiteTrackingStore(path: path)
        for (name, isUser) in [("bob", true), ("bob", false), ("vision", true), ("vision", false), ("ada", false)] {
            let error = await Self.outcome {
                if isUser {
                    _ = try await store.createUser(name: name, isAdmin: false)
                } else {
                    _ = try await store.createOrganization(name: name, owner: "ada")
                }
            }
            #expect(error?.code == .conflict, "\(name): \(String(describing: error))")
        }
        #expect(try await store.createUser(name: "carol", isAdmin: false).name == "carol")
        #expect(try await store.createOrganization(name: "nlp", owner: "carol").name == "nlp")
    }
}
