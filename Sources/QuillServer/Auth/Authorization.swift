import Hummingbird
import QuillCore
import QuillStore

/// The server's one access gate: every route asks it before it touches a resource, and every change that
/// alters who may do what goes through it.
///
/// Each method is named for a decision (read a run, write a run, manage a project, create in a namespace,
/// administer users, manage one's own keys, …). It resolves the resource the request names, checks the
/// caller against ``AccessPolicy``, and either returns what it loaded, so the route does not read it again,
/// or throws the error the client sees:
///
/// - 401 `unauthorized` when the request needs a signed-in caller and has none;
/// - 404 `not_found` when the caller may not read the resource, so its existence does not leak;
/// - 403 `forbidden` when the caller may read it (and so may know it exists) but not do this.
///
/// Changes that alter access (a project's visibility, a deleted run, users, keys and memberships) are
/// methods here too, and clear ``AccessCache`` and the ``Authenticator``'s cache as they commit, so no route
/// invalidates a cache by hand.
///
/// A route that takes a body makes its decision first, from the path and the caller alone, and reads the
/// body after: a caller who may not write is answered before a byte of a large body is parsed. (`POST /runs`
/// and `POST /projects` name their project in the body; they refuse anonymous callers first.)
struct Authorization: Sendable {
    /// Resolves API keys to callers; ``AuthMiddleware`` uses it.
    let authenticator: Authenticator
    let store: any TrackingStore
    /// Users, keys and organizations; only the methods of `Authorization+Accounts.swift` use it.
    let accounts: any AccountStore
    private let cache = AccessCache()

    /// Drops the cached credentials, memberships and projects, after another replica changed accounts.
    func forgetCachedAccess() {
        authenticator.invalidate()
        cache.forgetProjects()
    }

    init(store: any TrackingStore, accounts: any AccountStore, authenticator: Authenticator) {
        self.store = store
        self.accounts = accounts
        self.authenticator = authenticator
    }

    // MARK: Runs

    /// The run named in the path and its project, when the caller may read it.
    func readRun(_ context: QuillRequestContext) async throws -> AuthorizedRun {
        try await run(try Self.runID(context), context.caller, .read)
    }

    /// The run named in the path and its project, when the caller may write it (change it, log to it,
    /// upload its artifacts).
    func writeRun(_ context: QuillRequestContext) async throws -> AuthorizedRun {
        try await run(try Self.runID(context), context.caller, .write)
    }

    /// The run named in the path with its details, and its project, when the caller may read it: one read
    /// of the run (with its details) and at most one of its project, for `GET /runs/{id}`.
    func readRunDetails(_ context: QuillRequestContext) async throws -> (details: RunDetails, project: StoredProject) {
        try await readRunDetails(id: try Self.runID(context), context.caller)
    }

    /// The run `id` with its details, and its project, when `caller` may read it (for routes that take the id
    /// from a query or body, like MLflow's).
    func readRunDetails(id: RunID, _ caller: Caller) async throws -> (details: RunDetails, project: StoredProject) {
        let notFound = Self.runNotFound(id, caller)
        guard let details = try await store.runDetails(id),
            let project = try await cache.project(id: details.run.projectID, store: store)
        else { throw notFound }
        try check(caller, .read, project, notFound: notFound)
        return (details, project)
    }

    /// The run `id` and its project, when `caller` may read it.
    func readRun(id: RunID, _ caller: Caller) async throws -> AuthorizedRun {
        try await run(id, caller, .read)
    }

    /// The run `id` and its project, when `caller` may write it.
    func writeRun(id: RunID, _ caller: Caller) async throws -> AuthorizedRun {
        try await run(id, caller, .write)
    }

    /// `id`, when `caller` may write the run: the cheap form of ``writeRun(id:_:)`` (see
    /// ``writableRunID(_:)``).
    func writableRunID(_ id: RunID, _ caller: Caller) async throws -> RunID {
        try await runID(id, caller, .write)
    }

    /// `id`, when `caller` may read the run: the cheap form of ``readRun(id:_:)``.
    func readableRunID(_ id: RunID, _ caller: Caller) async throws -> RunID {
        try await runID(id, caller, .read)
    }

    /// The id of the run named in the path, when the caller may write it: the cheap form of
    /// ``writeRun(_:)`` for the logging hot path.
    ///
    /// It answers from ``AccessCache`` and, in single-user mode, does not read the store at all (the store
    /// call that follows reports a missing run).
    func writableRunID(_ context: QuillRequestContext) async throws -> RunID {
        try await runID(context, .write)
    }

    /// The id of the run named in the path, when the caller may read it: the cheap form of ``readRun(_:)``
    /// for metric histories and log lines.
    func readableRunID(_ context: QuillRequestContext) async throws -> RunID {
        try await runID(context, .read)
    }

    /// Deletes the run named in the path, when the caller may write it, and returns its id.
    @discardableResult
    func deleteRun(_ context: QuillRequestContext) async throws -> RunID {
        let id = try await writableRunID(context)
        try await store.deleteRun(id)
        cache.forget(run: id)
        return id
    }

    /// The run a request body names as a parent, when the caller may read it. A missing or unreadable parent
    /// is not a missing resource in the path: both answer 422 `unknown_reference`, the same way.
    func readableParent(_ text: String, _ caller: Caller) async throws -> RunID {
        let missing = QuillError(
            .unknownReference,
            "body.parent: run '\(text)' not found; give the id of a run you can read"
        )
        guard let id = RunID(text) else { throw missing }
        do {
            return try await run(id, caller, .read).id
        } catch let error as QuillError where error.code == .notFound {
            throw missing
        }
    }

    private func runID(_ context: QuillRequestContext, _ access: Access) async throws -> RunID {
        try await runID(try Self.runID(context), context.caller, access)
    }

    private func runID(_ id: RunID, _ caller: Caller, _ access: Access) async throws -> RunID {
        try requireWriter(caller, access)
        if caller == .singleUser { return id }
        let notFound = Self.runNotFound(id, caller)
        guard let projectID = try await cache.projectID(of: id, store: store),
            let project = try await cache.project(id: projectID, store: store)
        else { throw notFound }
        try check(caller, access, project, notFound: notFound)
        return id
    }

    private func run(_ id: RunID, _ caller: Caller, _ access: Access) async throws -> AuthorizedRun {
        try requireWriter(caller, access)
        let notFound = Self.runNotFound(id, caller)
        guard let run = try await store.run(id), let project = try await cache.project(id: run.projectID, store: store)
        else { throw notFound }
        try check(caller, access, project, notFound: notFound)
        return AuthorizedRun(run: run, project: project)
    }

    /// The run id in the path; text that cannot be a run id is a run that does not exist.
    private static func runID(_ context: QuillRequestContext) throws -> RunID {
        let text = try context.parameters.require("id")
        guard let id = RunID(text) else { throw QuillError(.notFound, "run '\(text)' not found") }
        return id
    }

    private static func runNotFound(_ id: RunID, _ caller: Caller) -> QuillError {
        QuillError(.notFound, "run '\(id)' not found\(signInHint(caller))")
    }

    // MARK: Projects

    /// The project named in the path (`{namespace}/{slug}`), when the caller may read it.
    func readProject(_ context: QuillRequestContext) async throws -> StoredProject {
        let (namespace, slug) = try Self.projectPath(context)
        return try await project(namespace: namespace, slug: slug, context.caller, .read)
    }

    /// A project by namespace and slug, when the caller may read it.
    func readProject(namespace: String, slug: String, _ caller: Caller) async throws -> StoredProject {
        try await project(namespace: namespace, slug: slug, caller, .read)
    }

    /// A project by namespace and slug, when the caller may write it (create runs in it).
    func writeProject(namespace: String, slug: String, _ caller: Caller) async throws -> StoredProject {
        try await project(namespace: namespace, slug: slug, caller, .write)
    }

    /// A project by id, when the caller may write it (create runs in it).
    func writeProject(id: Int64, _ caller: Caller) async throws -> StoredProject {
        try requireWriter(caller, .write)
        let notFound = QuillError(.notFound, "project \(id) not found; create it with POST /api/v1/projects")
        guard let project = try await store.project(id: id) else { throw notFound }
        try check(caller, .write, project, notFound: notFound)
        return project
    }

    /// The project named in the path, when the caller may change its settings (its visibility): an owner of
    /// its namespace, its creator or an administrator.
    func manageProject(_ context: QuillRequestContext) async throws -> ManagedProject {
        try requireWriter(context.caller, .write)
        let project = try await readProject(context)
        guard AccessPolicy.mayManage(context.caller, project) else {
            throw QuillError(
                .forbidden,
                "only an owner of '\(project.namespace)' or the project's creator may change its visibility"
            )
        }
        return ManagedProject(project: project)
    }

    /// Changes a project's visibility; the access checks see the change at once.
    func setVisibility(_ visibility: ProjectVisibility, of managed: ManagedProject) async throws -> StoredProject {
        let changed = try await store.setVisibility(projectID: managed.project.id, visibility)
        cache.forget(project: managed.project.id)
        return changed
    }

    /// Gets or creates a project in a namespace, when the caller may create there.
    ///
    /// An existing project needs write access; a new one needs membership of the namespace. Once the server
    /// has users, a new project's namespace must be a user or an organization, administrators included: a
    /// project in a namespace nobody owns could be claimed by whoever registered that name.
    func createProject(in namespace: String, displayName: String, _ caller: Caller) async throws -> StoredProject {
        try requireWriter(caller, .write)
        let refused = QuillError(
            .forbidden,
            "you may not create projects in '\(namespace)': it is neither your namespace nor an organization you belong to"
        )
        if let existing = try await store.project(namespace: namespace, slug: Project.slug(for: displayName)) {
            try check(caller, .write, existing, notFound: refused)
            return existing
        }
        guard AccessPolicy.mayCreateProject(caller, in: namespace) else { throw refused }
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

    /// The projects the caller may read.
    func readableProjects(_ caller: Caller) async throws -> [StoredProject] {
        try await store.projects().filter { AccessPolicy.allows(caller, .read, $0) }
    }

    private func project(
        namespace: String,
        slug: String,
        _ caller: Caller,
        _ access: Access
    ) async throws -> StoredProject {
        try requireWriter(caller, access)
        let notFound = QuillError(
            .notFound,
            "project '\(namespace)/\(slug)' not found\(Self.signInHint(caller)); list projects with GET /api/v1/projects"
        )
        guard let project = try await store.project(namespace: namespace, slug: slug) else { throw notFound }
        try check(caller, access, project, notFound: notFound)
        return project
    }

    private static func projectPath(_ context: QuillRequestContext) throws -> (namespace: String, slug: String) {
        (try context.parameters.require("namespace"), try context.parameters.require("slug"))
    }

    // MARK: Server-wide resources

    /// Allows reading the cached step results under the server's steps root (`/api/v1/steps`). They are
    /// files on the server's machine, not records of a project, so they have no owner: any signed-in user
    /// may read them, and everyone in single-user mode.
    func readSteps(_ caller: Caller) throws {
        if caller == .anonymous {
            throw QuillError(
                .unauthorized,
                "step results need a signed-in user on this server; set QUILL_API_KEY or sign in to the dashboard"
            )
        }
    }

    /// Whether the caller may see the server's global figures (counts in `/api/v1/status`): administrators,
    /// or anyone in single-user mode.
    func seesGlobalFigures(_ caller: Caller) -> Bool {
        switch caller {
        case .singleUser: return true
        case .user(let user): return user.isAdmin
        case .anonymous: return false
        }
    }

    /// Allows reading `/metrics`: administrators, or anyone in single-user mode.
    func readServerMetrics(_ caller: Caller) throws {
        switch caller {
        case .anonymous:
            throw QuillError(
                .unauthorized,
                "/metrics needs an administrator's API key; scrape it with `Authorization: Bearer <key>`"
            )
        case .user(let user) where !user.isAdmin:
            throw QuillError(.forbidden, "only an administrator may read /metrics")
        case .user, .singleUser:
            return
        }
    }

    // MARK: The shared checks

    /// Refuses an anonymous caller anything but reading, with 401: call it before reading the body of a
    /// request whose resource is named in the body (`POST /runs`, `POST /projects`).
    func requireWriter(_ caller: Caller) throws {
        try requireWriter(caller, .write)
    }

    func requireWriter(_ caller: Caller, _ access: Access) throws {
        if caller == .anonymous, access == .write {
            throw QuillError(
                .unauthorized,
                "this server requires an API key to write; set QUILL_API_KEY or run `quill login --server URL`"
            )
        }
    }

    /// Refuses what the access rules do not allow: 403 when the caller may read but not write, and
    /// `notFound` when the caller may not even read (so a private project's existence does not leak).
    func check(_ caller: Caller, _ access: Access, _ project: StoredProject, notFound: QuillError) throws {
        if AccessPolicy.allows(caller, access, project) { return }
        if access == .write, AccessPolicy.allows(caller, .read, project) {
            throw QuillError(
                .forbidden,
                "you may read but not write project '\(project.namespace)/\(project.slug)'; ask an owner of '\(project.namespace)' to add you as a member"
            )
        }
        throw notFound
    }

    private static func signInHint(_ caller: Caller) -> String {
        caller == .anonymous ? " (if it is private, send an API key: set QUILL_API_KEY or run `quill login`)" : ""
    }

    /// The 401 of the account routes, which need a signed-in user whatever they do.
    static func unauthorized() -> QuillError {
        QuillError(.unauthorized, "this request needs an API key; set QUILL_API_KEY or run `quill login --server URL`")
    }
}

/// A run the caller was allowed to read or write, with its project, as the check loaded them.
struct AuthorizedRun: Sendable {
    /// The run.
    let run: StoredRun
    /// The run's project.
    let project: StoredProject

    /// The run's id.
    var id: RunID { run.id }
}

/// A project the caller may manage (change its visibility); only ``Authorization/manageProject(_:)`` makes one.
struct ManagedProject: Sendable {
    /// The project.
    let project: StoredProject

    fileprivate init(project: StoredProject) {
        self.project = project
    }
}
