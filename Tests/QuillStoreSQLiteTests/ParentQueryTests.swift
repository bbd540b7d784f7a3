import Foundation
import QuillCore
import QuillStore
import QuillStoreSQLite
import QuillTesting
import Testing

@Suite("The query language's parent field")
struct ParentQueryTests {
    @Test("parent = ID finds a run's children, in SQL as in memory, and follows a changed parent")
    func children() async throws {
        let temp = TemporaryDirectory("quill-parent-query")
        let store = try SQLiteTrackingStore(path: temp.file("quill.db"))
        let project = try await store.project(namespace: "local", displayName: "nested", createdBy: nil)
        let parent = try await store.createRun(NewRun(projectID: project.id))
        var child = NewRun(projectID: project.id)
        child.parent = parent.id
        let first = try await store.createRun(child)
        let second = try await store.createRun(child)
        let other = try await store.createRun(NewRun(projectID: project.id))
        func children(of id: RunID) async throws -> Set<RunID> {
            var search = RunSearch(projectIDs: [project.id])
            search.query = try RunQuery(parsing: "parent = \"\(id)\"")
            return Set(try await store.searchRuns(search).runs.map(\.run.id))
        }
        #expect(try await children(of: parent.id) == [first.id, second.id])
        #expect(try await children(of: other.id) == [])
        var update = RunUpdate()
        update.parent = .some(other.id)
        _ = try await store.updateRun(second.id, update)
        #expect(try await children(of: parent.id) == [first.id])
        #expect(try await children(of: other.id) == [second.id])
        // The same answer without the SQL translation: the query on the run's own values.
        let details = try #require(try await store.runDetails(first.id))
        #expect(try RunQuery(parsing: "parent = \"\(parent.id)\"").matches(details.queryable))
        #expect(try !RunQuery(parsing: "parent = \"\(other.id)\"").matches(details.queryable))
    }
}
