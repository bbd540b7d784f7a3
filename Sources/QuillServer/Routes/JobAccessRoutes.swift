import Hummingbird
import QuillAPI

/// `GET /api/v1/jobs/access`: which jobs the caller may cancel and retry, so the dashboard shows those
/// buttons only to who may use them (the cancel and retry routes still decide, through ``Authorization``).
struct JobAccessRoutes {
    let api: APIContext

    func register(_ group: RouterGroup<QuillRequestContext>) {
        group.get("access") { _, context in
            let access = try await api.authorization.controllableJobProjects(context.caller)
            return try JSONResponse.make(APIJobAccess(allProjects: access.allProjects, projectIDs: access.projectIDs))
        }
    }
}
