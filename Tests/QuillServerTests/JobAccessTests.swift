import Foundation
import QuillCore
import QuillTesting
import Testing

/// `GET /api/v1/jobs/access`: the projects whose jobs the caller may cancel and retry, which the dashboard's
/// buttons follow, agree with what the cancel and retry routes accept.
@Suite("Job access")
struct JobAccessTests {
    @Test("each caller is told exactly the projects it may write, and the routes agree")
    func accessMatchesTheRoutes() async throws {
        let fixture = try await AccessFixture()
        let server = fixture.server
        func access(_ key: String?) async throws -> (all: Bool?, ids: [Int]) {
            let answer = try await server.request("GET", "/api/v1/jobs/access", key: key)
            #expect(answer.status == 200)
            let ids = answer.body?["project_ids"]?.arrayValue?.compactMap(\.intValue) ?? [-1]
            return (answer.body?["all_projects"]?.boolValue, ids)
        }
        let ada = try await access(fixture.ada)
        #expect(ada.all == false)
        #expect(ada.ids == [fixture.privateProjectID, fixture.publicProjectID].sorted())
        let root = try await access(fixture.root)
        #expect(root.all == true, "an administrator may control every job")
        #expect(Set(root.ids).isSuperset(of: ada.ids))
        for key in [fixture.bob, fixture.carol, nil] {
            let other = try await access(key)
            #expect(other.all == false)
            #expect(other.ids.isEmpty, "bob and carol may read ada's public project, not write it")
        }

        // The routes say the same: ada's public project's job is refused to bob (403), accepted for ada.
        let submitted = try await server.request(
            "POST",
            "/api/v1/jobs",
            json: ["project": "ada/open", "argv": ["true"], "device": "nowhere"],
            key: fixture.ada
        )
        let id = try #require(submitted.body?["id"]?.intValue)
        #expect(try await server.request("POST", "/api/v1/jobs/\(id)/cancel", key: fixture.bob).status == 403)
        #expect(try await server.request("POST", "/api/v1/jobs/\(id)/cancel", key: fixture.ada).status == 200)
        #expect(try await server.request("POST", "/api/v1/jobs/\(id)/retry", key: fixture.bob).status == 403)
        #expect(try await server.request("POST", "/api/v1/jobs/\(id)/retry", key: fixture.ada).status == 200)
    }
}
