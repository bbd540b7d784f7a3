import QuillCore
import QuillStore

// Project decisions by id, for MLflow's experiment routes (an experiment is named by the project's id in a
// query or body, not by `{namespace}/{slug}` in the path).
extension Authorization {
    /// The project `id`, when `caller` may read it; `not_found` otherwise (also when it does not exist).
    func readProject(id: Int64, _ caller: Caller) async throws -> StoredProject {
        let notFound = QuillError(.notFound, "project \(id) not found")
        guard let project = try await store.project(id: id) else { throw notFound }
        try check(caller, .read, project, notFound: notFound)
        return project
    }

    /// The project `id`, when `caller` may change it (rename it, tag it, move it to the trash and back): an
    /// owner of its namespace, its creator or an administrator, as for its visibility. `not_found` when the
    /// caller may not read it, `forbidden` when they may read but not manage it, `unauthorized` when
    /// anonymous.
    func manageProject(id: Int64, _ caller: Caller) async throws -> StoredProject {
        try requireWriter(caller)
        let project = try await readProject(id: id, caller)
        guard AccessPolicy.mayManage(caller, project) else {
            throw QuillError(
                .forbidden,
                "only an owner of '\(project.namespace)' or the project's creator may change project '\(project.namespace)/\(project.slug)'"
            )
        }
        return project
    }
}
