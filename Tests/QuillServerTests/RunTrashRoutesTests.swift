import Foundation
import QuillCore
import QuillStore
import QuillStoreSQLite
import QuillTesting
import Testing

/// Quill's own API and the trash (runs and projects MLflow's clients delete): listings and searches show
/// what is active, a run in the trash still reads by id with its `deleted_at`.
@Suite("REST API: runs and projects in the trash")
struct RunTrashRoutesTests {
    @Test("a run in the trash leaves the listing and the search, reads by id with deleted_at; restored, it is back")
    func deletedRunsLeaveSearches() async throws {
        let temp = TemporaryDirectory("quill-server-trash")
        let server = try await ServerProcess.start(data: temp.path)
        var ids: [String] = []
        for index in 0..<3 {
            let (status, run) = try await server.request(
                "POST",
                "/api/v1/runs",
                json: ["project": "Vision", "name": .string("r\(index)"), "config": ["lr": 0.1]]
            )
            #expect(status == 201)
            #expect(run?["deleted_at"] == .null, "an active run says deleted_at: null")
            ids.append(try #require(run?["id"]?.stringValue))
        }
        // The trash is MLflow's (delete-run); here the store, on the server's own file, puts the run there.
        let store = try SQLiteTrackingStore(path: temp.file("quill.db"))
        let deleted = try #require(RunID(ids[1]))
        _ = try await store.setRunDeleted(deleted, true)

        let (status, listing) = try await server.request("GET", "/api/v1/runs?project=Vision")
        #expect(status == 200)
        #expect(listing?["runs"]?.arrayValue?.map { $0["name"] } == ["r2", "r0"])
        let (_, found) = try await server.request("GET", "/api/v1/runs?q=params.lr%20%3D%200.1&sort=name")
        #expect(found?["runs"]?.arrayValue?.map { $0["name"] } == ["r0", "r2"])
        let (_, everywhere) = try await server.request("GET", "/api/v1/runs")
        #expect(everywhere?["runs"]?.arrayValue?.contains { $0["id"] == .string(ids[1]) } == false)

        let (read, run) = try await server.request("GET", "/api/v1/runs/\(ids[1])")
        #expect(read == 200)
        #expect(run?["deleted_at"]?.stringValue?.isEmpty == false, "\(String(describing: run))")
        #expect(run?["name"] == "r1")
        #expect(try await server.request("GET", "/api/v1/runs/\(ids[0])").body?["deleted_at"] == .null)
        #expect(try await server.request("GET", "/api/v1/status").body?["counts"]?["runs"] == 2)

        _ = try await store.setRunDeleted(deleted, false)
        let (_, back) = try await server.request("GET", "/api/v1/runs?project=Vision")
        #expect(back?["runs"]?.arrayValue?.map { $0["name"] } == ["r2", "r1", "r0"])
        try await store.close()
    }

    @Test("the projects listing leaves out projects in the trash; their runs still read by id")
    func deletedProjectsLeaveTheListing() async throws {
        let temp = TemporaryDirectory("quill-server-trash")
        let server = try await ServerProcess.start(data: temp.path)
        let (_, run) = try await server.request("POST", "/api/v1/runs", json: ["project": "Gone"])
        let runID = try #require(run?["id"]?.stringValue)
        _ = try await server.request("POST", "/api/v1/projects", json: ["name": "Kept"])
        let store = try SQLiteTrackingStore(path: temp.file("quill.db"))
        let gone = try #require(try await store.project(namespace: "local", slug: "gone"))
        var update = ProjectUpdate()
        update.deleted = true
        _ = try await store.updateProject(gone.id, update)

        let (status, listing) = try await server.request("GET", "/api/v1/projects")
        #expect(status == 200)
        #expect(listing?["projects"]?.arrayValue?.map { $0["name"] } == ["Kept"])
        #expect(try await server.request("GET", "/api/v1/runs/\(runID)").status == 200)
        try await store.close()
    }
}
