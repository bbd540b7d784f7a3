import Foundation
import QuillCore
import QuillStore
import QuillStoreSQLite
import QuillTesting
import Testing

@Suite("SQLite: project activity and statistics")
struct ActivityStoreTests {
    @Test("conforms to the ActivityStore contract", arguments: ActivityStoreConformance.allCases)
    func conformance(check: ActivityStoreConformance) async throws {
        let temp = TemporaryDirectory("quill-activity")
        try await check.check(SQLiteTrackingStore(path: temp.file("quill.db")))
    }
}
