import Hummingbird
import QuillAPI
import QuillCore
import QuillStore

/// `/api/v1/projects`: get-or-create, list, get, change visibility.
struct ProjectRoutes {
    let api: APIContext

    func register(_ group: RouterGroup<QuillRequestContext>) {
        group.post { request, context in
            let body = try await api.body(APIProjectCreate.self, request)
            let name = body.name
            guard !name.trimmingWhitespace().isEmpty else {
                throw QuillError(.invalidArgument, "body.name must not be empty")
            }
            let namespace =
                try body.namespace.map(AccountName.normalized) ?? api.defaultNamespace(context.caller)
            let project = try await api.createProject(namespace: namespace, displayName: name, context.caller)
            return try JSONResponse.make(DTO.project(project))
        }
        group.get { _, context in
            try JSONResponse.make(
                APIProjectList(projects: try await api.readableProjects(context.caller).map(DTO.project))
            )
        }
        group.get(":namespace/:slug") { _, context in
            try JSONResponse.make(DTO.project(try await find(context, .read)))
        }
        group.patch(":namespace/:slug") { request, context in
            try api.refuseAnonymousWrite(context.caller, .write)
            let project = try await find(context, .read)
            guard AccessPolicy.mayManage(context.caller, project) else {
                throw QuillError(
                    .forbidden,
                    "only an owner of '\(project.namespace)' or the project's creator may change its visibility"
                )
            }
            let text = try await api.body(APIProjectUpdate.self, request).visibility
            guard let visibility = ProjectVisibility(rawValue: text) else {
                throw QuillError(.invalidArgument, "body.visibility must be private, internal or public")
            }
            let changed = try await api.store.setVisibility(projectID: project.id, visibility)
            api.accessCache.forget(project: project.id)
            return try JSONResponse.make(DTO.project(changed))
        }
    }

    private func find(_ context: QuillRequestContext, _ access: Access) async throws -> StoredProject {
        let namespace = try context.parameters.require("namespace")
        let slug = try context.parameters.require("slug")
        return try await api.project(namespace: namespace, slug: slug, context.caller, access)
    }
}

extension APIContext {
    /// Gets or creates a project in a namespace, when the caller may write there.
    ///
    /// An existing project needs write access; a new one needs membership of the namespace. Once the server
    /// has users, a new project's namespace must be a user or an organization, administrators included: a
    /// project in a namespace nobody owns could be claimed by whoever registered that name.
    func createProject(namespace: String, displayName: String, _ caller: Caller) async throws -> StoredProject {
        try refuseAnonymousWrite(caller, .write)
        if let existing = try await store.project(namespace: namespace, slug: Project.slug(for: displayName)) {
            try authorize(
                caller,
                .write,
                existing,
                notFound: QuillError(
                    .forbidden,
                    "you may not create projects in '\(namespace)': it is neither your namespace nor an organization you belong to"
                )
            )
            return existing
        }
        guard AccessPolicy.mayCreateProject(caller, in: namespace) else {
            throw QuillError(
                .forbidden,
                "you may not create projects in '\(namespace)': it is neither your namespace nor an organization you belong to"
            )
        }
        if case .user(let user) = caller, !AccessPolicy.isMember(user, of: namespace),
            try await accounts.user(name: namespace) == nil,
            try await accounts.organization(name: namespace) == nil
        {
            throw QuillError(
                .forbidden,
                "namespace '\(namespace)' has no owner; create the organization first (POST /api/v1/orgs, or `quill orgs create \(namespace)`), then its projects"
            )
        }
        return try await store.project(namespace: namespace, displayName: displayName, createdBy: caller.userName)
    }
}
