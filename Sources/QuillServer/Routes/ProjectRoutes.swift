import Hummingbird
import QuillCore
import QuillStore

/// `/api/v1/projects`: get-or-create, list, get, change visibility.
struct ProjectRoutes {
    let api: APIContext

    func register(_ group: RouterGroup<QuillRequestContext>) {
        group.post { request, context in
            // The namespace is named in the body, so only the anonymous caller can be refused before it is read.
            try api.authorization.requireWriter(context.caller)
            let body = try JSONObjectReader(try await api.json(request))
            try body.allowOnly(["name", "namespace"])
            let name = try body.requiredString("name")
            guard !name.trimmingWhitespace().isEmpty else {
                throw QuillError(.invalidArgument, "body.name must not be empty")
            }
            let namespace =
                try body.string("namespace").map(AccountName.normalized) ?? api.defaultNamespace(context.caller)
            let project = try await api.authorization.createProject(in: namespace, displayName: name, context.caller)
            return JSONResponse.make(DTO.project(project))
        }
        group.get { _, context in
            JSONResponse.make([
                "projects": .array(try await api.authorization.readableProjects(context.caller).map(DTO.project))
            ])
        }
        group.get(":namespace/:slug") { _, context in
            JSONResponse.make(DTO.project(try await api.authorization.readProject(context)))
        }
        group.patch(":namespace/:slug") { request, context in
            let project = try await api.authorization.manageProject(context)
            let body = try JSONObjectReader(try await api.json(request))
            try body.allowOnly(["visibility"])
            let text = try body.requiredString("visibility")
            guard let visibility = ProjectVisibility(rawValue: text) else {
                throw QuillError(.invalidArgument, "body.visibility must be private, internal or public")
            }
            let changed = try await api.authorization.setVisibility(visibility, of: project)
            return JSONResponse.make(DTO.project(changed))
        }
    }
}
