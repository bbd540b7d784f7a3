import Foundation
import QuillStore
import Testing

@testable import QuillServer

@Suite("Access rules as plain values")
struct AccessPolicyTests {
    func project(_ namespace: String, _ visibility: ProjectVisibility, createdBy: String? = nil) -> StoredProject {
        StoredProject(
            id: 1,
            namespace: namespace,
            slug: "p",
            displayName: "P",
            visibility: visibility,
            createdAt: Date(),
            createdBy: createdBy
        )
    }

    func user(_ name: String, admin: Bool = false, _ organizations: [String: MembershipRole] = [:]) -> Caller {
        .user(AuthenticatedUser(name: name, isAdmin: admin, organizations: organizations))
    }

    @Test("who may read and write, for every visibility and kind of caller")
    func table() {
        let ada = user("ada")
        let bob = user("bob")
        let member = user("bob", ["vision": .member])
        let owner = user("carol", ["vision": .owner])
        let admin = user("root", admin: true)
        // (caller, project, may read, may write)
        let cases: [(Caller, StoredProject, Bool, Bool, Int)] = [
            (.singleUser, project("ada", .private), true, true, #line),
            (.anonymous, project("ada", .private), false, false, #line),
            (.anonymous, project("ada", .internal), false, false, #line),
            (.anonymous, project("ada", .public), true, false, #line),
            (ada, project("ada", .private), true, true, #line),
            (bob, project("ada", .private), false, false, #line),
            (bob, project("ada", .internal), false, false, #line),
            (bob, project("ada", .public), true, false, #line),
            (admin, project("ada", .private), true, true, #line),
            (member, project("vision", .internal), true, true, #line),
            (member, project("vision", .public), true, true, #line),
            (member, project("vision", .private, createdBy: "ada"), false, false, #line),
            (member, project("vision", .private, createdBy: "bob"), true, true, #line),
            (owner, project("vision", .private, createdBy: "bob"), true, true, #line),
            (bob, project("vision", .internal), false, false, #line),
        ]
        for (caller, project, read, write, line) in cases {
            #expect(AccessPolicy.allows(caller, .read, project) == read, "read, line \(line)")
            #expect(AccessPolicy.allows(caller, .write, project) == write, "write, line \(line)")
        }
    }

    @Test("managing a project and creating one in a namespace")
    func manageAndCreate() {
        #expect(AccessPolicy.mayManage(user("ada"), project("ada", .public)))
        #expect(!AccessPolicy.mayManage(user("bob", ["vision": .member]), project("vision", .internal)))
        #expect(
            AccessPolicy.mayManage(user("bob", ["vision": .member]), project("vision", .internal, createdBy: "bob"))
        )
        #expect(AccessPolicy.mayManage(user("carol", ["vision": .owner]), project("vision", .internal)))
        #expect(!AccessPolicy.mayManage(.anonymous, project("ada", .public)))
        #expect(AccessPolicy.mayCreateProject(user("ada"), in: "ada"))
        #expect(AccessPolicy.mayCreateProject(user("bob", ["vision": .member]), in: "vision"))
        #expect(!AccessPolicy.mayCreateProject(user("bob"), in: "ada"))
        #expect(AccessPolicy.mayCreateProject(user("root", admin: true), in: "ada"))
        #expect(!AccessPolicy.mayCreateProject(.anonymous, in: "ada"))
    }
}
