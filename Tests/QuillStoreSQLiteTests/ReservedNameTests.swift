import Foundation
import QuillCore
import QuillStore
import QuillStoreSQLite
import QuillTesting
import Testing

@Suite("Reserved account names")
struct ReservedNameTests {
    @Test("no user or organization may take a first path segment of the server's own URLs, in any case")
    func reservedNamesAreRefused() async throws {
        let temp = TemporaryDirectory("quill-reserved")
        let store = try SQLiteTrackingStore(path: temp.file("quill.db"))
        _ = try await store.createUser(name: "alice", isAdmin: true)
        for name in [
            "api", "assets", "healthz", "metrics", "runs", "steps", "stats", "signin", "signout", "jobs", "devices",
            "API",
            "Ｓｔｅｐｓ",
        ] {
            let user = await #expect(throws: QuillError.self) { try await store.createUser(name: name, isAdmin: false) }
            #expect(user?.code == .invalidArgument)
            #expect(user?.message.contains("reserved") == true, "\(name): \(user?.message ?? "")")
            let organization = await #expect(throws: QuillError.self) {
                try await store.createOrganization(name: name, owner: "alice")
            }
            #expect(organization?.code == .invalidArgument)
        }
        // Names that merely contain a reserved word are fine.
        _ = try await store.createUser(name: "api-team", isAdmin: false)
        _ = try await store.createOrganization(name: "stats-lab", owner: "alice")
    }
}
