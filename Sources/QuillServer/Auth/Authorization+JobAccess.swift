import QuillStore

extension Authorization {
    /// The projects whose jobs the caller may cancel and retry (the rule of ``writeJob(_:_:)``: write access
    /// to the job's project), and whether that is every project.
    func controllableJobProjects(_ caller: Caller) async throws -> (allProjects: Bool, projectIDs: [Int64]) {
        let projects = try await store.projects()
        let ids = projects.filter { AccessPolicy.allows(caller, .write, $0) }.map(\.id).sorted()
        switch caller {
        case .singleUser: return (true, ids)
        case .user(let user) where user.isAdmin: return (true, ids)
        case .user, .anonymous: return (false, ids)
        }
    }
}
