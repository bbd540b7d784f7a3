import Foundation
package import Hummingbird
package import Logging
import NIOCore
import QuillCore
import QuillSteps
package import QuillStore

/// How `quill serve` runs.
package struct ServerConfiguration: Sendable {
    /// The address to bind.
    package var host: String = "127.0.0.1"
    /// The port to bind; 0 picks a free one.
    package var port: Int = 8080
    /// The largest request body accepted, in bytes. Default 32 MiB.
    package var maxBodyBytes: Int = 32 << 20
    /// The namespace projects go in when a request names none (single-user mode).
    package var defaultNamespace: String = "local"
    /// The address users reach the server at (`https://quill.example.com`), for links to the dashboard;
    /// when `nil`, links use the address each request was sent to.
    package var publicURL: String?
    /// The folder holding artifact bytes (`sha256/`, `tmp/`); `quill serve` uses `<data>/artifacts`.
    package var artifactDirectory: String = "artifacts"
    /// The largest artifact file accepted, in bytes. Default 5 GiB.
    package var maxArtifactBytes: Int64 = 5 << 30
    /// The bytes of artifacts one namespace may store (each distinct content counted once); `nil` is no limit.
    package var namespaceQuotaBytes: Int64?
    /// How long the server waits for slow or idle clients before it closes their connections.
    package var timeouts = ConnectionTimeouts()
    /// The most connections open at once; a connection over it is answered 503 and closed.
    package var maxConnections = 1000
    /// The folder of cached step results the dashboard and `/api/v1/steps` show (`quill serve --steps-root`).
    package var stepsRoot: String = StepOptions.fromEnvironment().root

    /// Creates a configuration with defaults.
    package init() {}
}

/// Builds the Quill server over a store.
package enum QuillServer {
    /// The server's version, reported by `/api/v1/status`.
    package static let version = "0.1.0"

    /// The application: routes, middleware and error handling, not yet running.
    package static func application(
        store: any TrackingStore & AccountStore,
        artifacts: any ArtifactStore,
        configuration: ServerConfiguration,
        logger: Logger,
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let metrics = ServerMetrics()
        let router = Router(context: QuillRequestContext.self)
        router.add(middleware: RequestMetricsMiddleware(metrics: metrics))
        router.add(middleware: MethodNotAllowedMiddleware(allowed: AllowedMethods(document: OpenAPIDocument.document)))
        router.add(middleware: FormQueryMiddleware())
        // Large bodies are read and decoded on their own threads, so they never starve small requests.
        router.add(middleware: BulkRequestMiddleware())
        let authenticator = Authenticator(accounts: store)
        let api = APIContext(
            store: store,
            accounts: store,
            authenticator: authenticator,
            configuration: configuration,
            metrics: metrics,
            started: Date()
        )
        StatusRoutes(api: api).register(router)
        let authenticated = router.group().add(middleware: AuthMiddleware(authenticator: authenticator))
        AccountRoutes(api: api).register(authenticated.group("api/v1"))
        ProjectRoutes(api: api).register(authenticated.group("api/v1/projects"))
        RunRoutes(api: api).register(authenticated.group("api/v1/runs"))
        ArtifactRoutes(api: api, artifacts: artifacts, blobs: BlobStore(root: configuration.artifactDirectory))
            .register(authenticated.group("api/v1/runs/:id/artifacts"))
        StepRoutes(api: api).register(authenticated.group("api/v1/steps"))
        DashboardRoutes(assets: DashboardAssets.bundled()).register(router)
        let counter = ConnectionCounter(limit: configuration.maxConnections)
        let timeouts = configuration.timeouts
        return Application(
            router: router,
            server: .http1(
                configuration: .init(
                    additionalChannelHandlers: [
                        ConnectionGuardHandler(timeouts: timeouts, counter: counter, logger: logger)
                    ]
                )
            ),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "quill"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? configuration.port) },
            logger: logger
        )
    }
}

/// What every route handler shares.
struct APIContext: Sendable {
    let store: any TrackingStore
    let accounts: any AccountStore
    let authenticator: Authenticator
    let accessCache = AccessCache()
    let configuration: ServerConfiguration
    let metrics: ServerMetrics
    let started: Date

    /// Reads the request body as JSON, refusing bodies over the limit with 413.
    func json(_ request: Request, allowEmpty: Bool = false) async throws -> JSONValue {
        let buffer = try await bodyBytes(request)
        if buffer.readableBytes == 0 && allowEmpty { return .object([:]) }
        return try Self.json(from: buffer)
    }

    /// The run named in the path, when the caller may have `access` to its project.
    ///
    /// Every route that touches a run goes through here, so access is checked in one place. A run the caller
    /// may not read is reported as not found, so its existence does not leak.
    func run(_ context: QuillRequestContext, _ access: Access) async throws -> StoredRun {
        try await run(try runID(context), context.caller, access)
    }

    /// The id of the run named in the path, when the caller may have `access` to its project.
    ///
    /// The cheap form of ``run(_:_:)`` for the logging hot path: in single-user mode it does not read the
    /// store (the store call that follows reports a missing run), and otherwise it answers from
    /// ``AccessCache``.
    func runID(_ context: QuillRequestContext, _ access: Access) async throws -> RunID {
        let id = try runID(context)
        let caller = context.caller
        try refuseAnonymousWrite(caller, access)
        if caller == .singleUser { return id }
        let notFound = QuillError(.notFound, "run '\(id)' not found\(Self.signInHint(caller))")
        guard let projectID = try await accessCache.projectID(of: id, store: store),
            let project = try await accessCache.project(id: projectID, store: store)
        else { throw notFound }
        try authorize(caller, access, project, notFound: notFound)
        return id
    }

    /// A run by id, when the caller may have `access` to its project.
    func run(_ id: RunID, _ caller: Caller, _ access: Access) async throws -> StoredRun {
        try refuseAnonymousWrite(caller, access)
        let notFound = QuillError(.notFound, "run '\(id)' not found\(Self.signInHint(caller))")
        guard let run = try await store.run(id) else { throw notFound }
        if caller == .singleUser { return run }
        guard let project = try await accessCache.project(id: run.projectID, store: store) else { throw notFound }
        try authorize(caller, access, project, notFound: notFound)
        return run
    }

    /// A project by namespace and slug, when the caller may have `access` to it.
    func project(namespace: String, slug: String, _ caller: Caller, _ access: Access) async throws -> StoredProject {
        try refuseAnonymousWrite(caller, access)
        let notFound = QuillError(
            .notFound,
            "project '\(namespace)/\(slug)' not found\(Self.signInHint(caller)); list projects with GET /api/v1/projects"
        )
        guard let project = try await store.project(namespace: namespace, slug: slug) else { throw notFound }
        try authorize(caller, access, project, notFound: notFound)
        return project
    }

    /// Refuses a request the access rules do not allow: 403 when the caller may read but not write, and
    /// `notFound` when the caller may not even read (so a private project's existence does not leak).
    func authorize(_ caller: Caller, _ access: Access, _ project: StoredProject, notFound: QuillError) throws {
        if AccessPolicy.allows(caller, access, project) { return }
        if access == .write, AccessPolicy.allows(caller, .read, project) {
            throw QuillError(
                .forbidden,
                "you may read but not write project '\(project.namespace)/\(project.slug)'; ask an owner of '\(project.namespace)' to add you as a member"
            )
        }
        throw notFound
    }

    /// Writes need a signed-in caller.
    func refuseAnonymousWrite(_ caller: Caller, _ access: Access) throws {
        if caller == .anonymous, access == .write {
            throw QuillError(
                .unauthorized,
                "this server requires an API key to write; set QUILL_API_KEY or run `quill login --server URL`"
            )
        }
    }

    /// The run's page on the dashboard: `<base>/<namespace>/<project>/runs/<id>`, where the base is
    /// ``ServerConfiguration/publicURL`` or else the address the request was sent to.
    func dashboardURL(_ request: Request, _ project: StoredProject, _ id: RunID) -> String {
        let authority = request.head.authority ?? "\(configuration.host):\(configuration.port)"
        let base = configuration.publicURL ?? "http://\(authority)"
        let namespace = project.namespace.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? ""
        return "\(base)/\(namespace)/\(project.slug)/runs/\(id)"
    }

    /// The namespace a caller's new projects go in when the request names none.
    func defaultNamespace(_ caller: Caller) -> String {
        caller.userName ?? configuration.defaultNamespace
    }

    /// The projects the caller may read.
    func readableProjects(_ caller: Caller) async throws -> [StoredProject] {
        try await store.projects().filter { AccessPolicy.allows(caller, .read, $0) }
    }

    private static func signInHint(_ caller: Caller) -> String {
        caller == .anonymous ? " (if it is private, send an API key: set QUILL_API_KEY or run `quill login`)" : ""
    }

    /// The run id in the path.
    func runID(_ context: QuillRequestContext) throws -> RunID {
        let text = try context.parameters.require("id")
        guard let id = RunID(text) else { throw QuillError(.notFound, "run '\(text)' not found") }
        return id
    }
}
