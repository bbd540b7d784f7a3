import Foundation
import QuillCore
import QuillStore
import QuillStoreSQLite
import QuillTesting
import Testing

@Suite("SQLite: dashboard sessions")
struct SessionStoreTests {
    @Test("conforms to the SessionStore contract", arguments: SessionStoreConformance.allCases)
    func conformance(check: SessionStoreConformance) async throws {
        let temp = TemporaryDirectory("quill-sessions")
        try await check.check(SQLiteTrackingStore(path: temp.file("quill.db")))
    }
}
