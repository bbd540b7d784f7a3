import Hummingbird
import QuillCore
import QuillStore

/// `/api/v1/projects`: get-or-create, list, get, change visibility.
struct ProjectRoutes {
    let api: APIContext

    func register(_ group: RouterGroup<QuillRequestContext>) {
        group.post { request, _ in
            let body = try JSONObjectReader(try await api.json(request))
            try body.allowOnly(["name", "namespace"])
            let name = try body.requiredString("name")
            guard !name.trimmingWhitespace().isEmpty else {
                throw QuillError(.invalidArgument, "body.name must not be empty")
            }
            let namespace = try body.string("namespace") ?? api.configuration.defaultNamespace
            let project = try await api.store.project(namespace: namespace, displayName: name)
            return JSONResponse.make(DTO.project(project))
        }
        group.get { _, _ in
            JSONResponse.make(["projects": .array(try await api.store.projects().map(DTO.project))])
        }
        group.get(":namespace/:slug") { _, context in
            JSONResponse.make(DTO.project(try await find(context)))
        }
        group.patch(":namespace/:slug") { request, context in
            let project = try await find(context)
            let body = try JSONObjectReader(try await api.json(request))
            try body.allowOnly(["visibility"])
            let text = try body.requiredString("visibility")
            guard let visibility = ProjectVisibility(rawValue: text) else {
                throw QuillError(.invalidArgument, "body.visibility must be private, internal or public")
            }
            return JSONResponse.make(DTO.project(try await api.store.setVisibility(projectID: project.id, visibility)))
        }
    }

    private func find(_ context: QuillRequestContext) async throws -> StoredProject {
        let namespace = try context.parameters.require("namespace")
        let slug = try context.parameters.require("slug")
        guard let project = try await api.store.project(namespace: namespace, slug: slug) else {
            throw QuillError(.notFound, "project '\(namespace)/\(slug)' not found")
        }
        return project
    }
}
