import Hummingbird
import QuillAPI
import QuillCore
import QuillStore

/// `/api/v1/projects`: get-or-create, list, get, change visibility.
struct ProjectRoutes {
    let api: APIContext

    func register(_ group: RouterGroup<QuillRequestContext>) {
        group.post { request, context in
            // The namespace is named in the body, so only the anonymous caller can be refused before it is read.
            try api.authorization.requireWriter(context.caller)
            let body = try await api.body(APIProjectCreate.self, request)
            let name = body.name
            guard !name.trimmingWhitespace().isEmpty else {
                throw QuillError(.invalidArgument, "body.name must not be empty")
            }
            let namespace =
                try body.namespace.map(AccountName.normalized) ?? api.defaultNamespace(context.caller)
            let project = try await api.authorization.createProject(in: namespace, displayName: name, context.caller)
            return try JSONResponse.make(DTO.project(project))
        }
        group.get { _, context in
            // Projects in the trash (MLflow's deleted experiments) are left out; their runs still read by id.
            let projects = try await api.authorization.readableProjects(context.caller).filter { $0.deletedAt == nil }
            let activity = try await api.activity.projectActivity(projects.map(\.id))
            return try JSONResponse.make(
                APIProjectList(
                    projects: projects.map { project in
                        var listed = DTO.project(project)
                        let counts = activity[project.id]
                        listed.runCounts = Dictionary(
                            uniqueKeysWithValues: (counts?.runsByStatus ?? [:]).map { ($0.key.rawValue, $0.value) }
                        )
                        listed.lastActivity = counts?.lastActivity ?? project.createdAt
                        return listed
                    }
                )
            )
        }
        group.get(":namespace/:slug") { _, context in
            try JSONResponse.make(DTO.project(try await api.authorization.readProject(context)))
        }
        group.patch(":namespace/:slug") { request, context in
            let project = try await api.authorization.manageProject(context)
            let text = try await api.body(APIProjectUpdate.self, request).visibility
            guard let visibility = ProjectVisibility(rawValue: text) else {
                throw QuillError(.invalidArgument, "body.visibility must be private, internal or public")
            }
            let changed = try await api.authorization.setVisibility(visibility, of: project)
            return try JSONResponse.make(DTO.project(changed))
        }
    }
}
