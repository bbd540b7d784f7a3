import Foundation
import QuillCore
import QuillStore
import QuillStoreSQLite
import QuillTesting
import Testing

@Suite("SQLite tracking store")
struct SQLiteTrackingStoreTests {
    @Test("conforms to the TrackingStore contract", arguments: TrackingStoreConformance.allCases)
    func conformance(check: TrackingStoreConformance) async throws {
        let temp = TemporaryDirectory("quill-sqlite")
        let store = try SQLiteTrackingStore(path: temp.file("quill.db"))
        try await check.check(store)
    }

    @Test("conforms to the ArtifactStore contract", arguments: ArtifactStoreConformance.allCases)
    func artifactConformance(check: ArtifactStoreConformance) async throws {
        let temp = TemporaryDirectory("quill-sqlite")
        let store = try SQLiteTrackingStore(path: temp.file("quill.db"))
        try await check.check(store)
    }

    @Test("data survives closing and reopening the database file")
    func reopen() async throws {
        let temp = TemporaryDirectory("quill-sqlite")
        let path = temp.file("data/quill.db")
        let id: RunID
        do {
            let store = try SQLiteTrackingStore(path: path)
            let project = try await store.project(namespace: "ada", displayName: "p")
            id = try await store.createRun(NewRun(projectID: project.id)).id
            try await store.logMetric(id, MetricValue(key: "loss", value: 0.5, step: 3))
        }
        let reopened = try SQLiteTrackingStore(path: path)
        #expect(try await reopened.metricHistory(id, key: "loss", steps: nil).map(\.step) == [3])
    }

    @Test("a file that is not a database is refused with a clear error")
    func corruptFile() throws {
        let temp = TemporaryDirectory("quill-sqlite")
        let path = try temp.write("quill.db", String(repeating: "not a database ", count: 100))
        do {
            _ = try SQLiteTrackingStore(path: path)
            Issue.record("expected an error")
        } catch let error as QuillError {
            #expect(error.code == .io)
            #expect(error.message.contains(path))
        }
    }

    @Test("store URLs: sqlite:///path and plain paths; other schemes are refused")
    func storeURLs() throws {
        #expect(try StoreURL(parsing: "sqlite:///var/lib/quill.db") == .sqlite(path: "/var/lib/quill.db"))
        #expect(try StoreURL(parsing: "./quill.db") == .sqlite(path: "./quill.db"))
        #expect(throws: QuillError.self) { try StoreURL(parsing: "mysql://localhost/quill") }
        #expect(throws: QuillError.self) { try StoreURL(parsing: "sqlite://") }
    }
}

@Suite("SQLite account store")
struct SQLiteAccountStoreTests {
    @Test("conforms to the AccountStore contract", arguments: AccountStoreConformance.allCases)
    func conformance(check: AccountStoreConformance) async throws {
        let temp = TemporaryDirectory("quill-sqlite")
        try await check.check(SQLiteTrackingStore(path: temp.file("quill.db")))
    }
}
