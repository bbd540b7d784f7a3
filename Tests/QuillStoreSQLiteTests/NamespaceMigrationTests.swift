import Foundation
import GRDB
import QuillCore
import QuillStore
import QuillStoreSQLite
import QuillTesting
import Testing

@Suite("SQLite: namespaces without an owner in an existing database")
struct NamespaceMigrationTests {
    @Test("a database that already had users hands its ownerless namespaces to its first administrator")
    func upgradeHandsOver() async throws {
        let temp = TemporaryDirectory("quill-namespaces")
        let path = temp.file("quill.db")
        do {
            let store = try SQLiteTrackingStore(path: path)
            _ = try await store.createUser(name: "bob", isAdmin: false)
            _ = try await store.createUser(name: "root", isAdmin: true)
            // What an older version allowed: an administrator's project in a namespace nobody owns.
            _ = try await store.project(namespace: "orphan", displayName: "p")
            _ = try await store.project(namespace: "bob", displayName: "q")
        }
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in
            try db.execute(
                sql: "DELETE FROM grdb_migrations WHERE identifier = ?",
                arguments: ["v6: every namespace holding projects has an owner"]
            )
        }
        try queue.close()
        let store = try SQLiteTrackingStore(path: path)
        let handedOver = [Membership(organization: "orphan", user: "root", role: .owner)]
        #expect(try await store.memberships(user: "root") == handedOver)
        #expect(try await store.memberships(user: "bob").isEmpty)
        do {
            _ = try await store.createOrganization(name: "orphan", owner: "bob")
            Issue.record("the namespace was still free")
        } catch let error as QuillError {
            #expect(error.code == .conflict)
        }
    }
}
