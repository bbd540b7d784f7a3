import Foundation
package import Hummingbird
package import Logging
import NIOCore
import QuillCore
package import QuillJobs
import QuillSteps
package import QuillStore
import ServiceLifecycle

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
    /// The limits and timing of live event streams (`GET /api/v1/runs/{id}/events`).
    package var eventStreams = EventStreamConfiguration()
    /// whirr's data directory for the `/whirr` routes: a job's whirr run folder is `<dir>/runs/job-<id>`
    /// (`quill serve` uses `<data folder>/whirr`).
    package var whirrDataDirectory: String = "whirr"
    /// A credential the server process mints for itself at start (random, kept in memory only, never
    /// persisted nor given to a job): a request bearing it is an administrator. The workers `quill serve`
    /// embeds upload their jobs' run directories with it over loopback, through the same HTTP path as a
    /// remote `quill worker`. `nil` accepts none.
    package var internalCredential: String?

    /// Creates a configuration with defaults.
    package init() {}
}

/// Builds the Quill server over a store.
package enum QuillServer {
    /// The server's version, reported by `/api/v1/status`.
    package static let version = "0.1.0"

    /// The application: routes, middleware and error handling, not yet running; artifact records live in
    /// `artifacts` and their bytes in `blobs`.
    package static func application(
        store: any TrackingStore & AccountStore & SessionStore & ActivityStore,
        artifacts: any ArtifactStore,
        blobs: any BlobStore,
        configuration: ServerConfiguration,
        jobs: JobQueue? = nil,
        artifactUploads: ArtifactUploads? = nil,
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
        let authenticator = Authenticator(
            accounts: store,
            sessions: store,
            internalCredential: configuration.internalCredential
        )
        let api = APIContext(
            store: store,
            activity: store,
            authorization: Authorization(store: store, accounts: store, authenticator: authenticator),
            configuration: configuration,
            metrics: metrics,
            started: Date(),
            runChanges: ChangeFeed(),
            eventStreams: EventStreamLimits(configuration.eventStreams)
        )
        StatusRoutes(api: api).register(router)
        let authenticated = router.group().add(middleware: AuthMiddleware(authenticator: authenticator))
        AccountRoutes(api: api).register(authenticated.group("api/v1"))
        ProjectRoutes(api: api).register(authenticated.group("api/v1/projects"))
        RunRoutes(api: api).register(authenticated.group("api/v1/runs"))
        RunEventRoutes(api: api).register(authenticated.group("api/v1/runs"))
        let uploads =
            artifactUploads
            ?? ArtifactUploads(artifacts: artifacts, blobs: blobs, runs: store, configuration: configuration)
        ArtifactRoutes(
            api: api,
            artifacts: artifacts,
            blobs: blobs,
            uploads: uploads,
            remote: jobs?.jobs ?? (store as? any RemoteArtifactStore)
        ).register(authenticated.group("api/v1/runs/:id/artifacts"))
        StepRoutes(api: api).register(authenticated.group("api/v1/steps"))
        SessionRoutes(api: api, sessions: store).register(authenticated.group("api/v1/session"))
        StatsRoutes(api: api).register(authenticated.group("api/v1/stats"))
        // The job queue: the one `quill serve` runs (with its lease sweeper), or one over the store's jobs.
        let queue = jobs ?? (store as? any JobStore).map({ JobQueue(jobs: $0, runs: store, logger: logger) })
        if let queue {
            // Readers following a job's run hear of its changes at once (queued, running, its output, its end).
            queue.observeRunChanges { [feed = api.runChanges] in feed.publish($0) }
            JobRoutes(api: api, queue: queue).register(authenticated.group("api/v1/jobs"))
            DeviceRoutes(api: api, queue: queue).register(authenticated.group("api/v1/devices"))
            JobAccessRoutes(api: api).register(authenticated.group("api/v1/jobs"))
            QueueRoutes(api: api, queue: queue).register(authenticated.group("api/v1/queue"))
            WhirrRoutes(
                api: api,
                queue: queue,
                dataDirectory: configuration.whirrDataDirectory,
                artifacts: artifacts,
                blobs: blobs
            )
            .register(router)
            RemoteArtifactRoutes(api: api, queue: queue, artifacts: artifacts).register(
                runs: authenticated.group("api/v1/runs/:id/artifacts/remote"),
                devices: authenticated.group("api/v1/devices")
            )
        }
        // MLflow's tracking API (its own error shapes and route table; the same stores and access rules).
        MLflowRoutes(api: api, artifacts: artifacts, blobs: blobs, uploads: uploads).register(router)
        DashboardRoutes(assets: DashboardAssets.bundled()).register(router)
        // Replicas on one database: what the others change reaches this one's caches and waiting workers.
        let services: [any Service] =
            (store as? any StoreBackend).map {
                [StoreChangeListener(backend: $0, authorization: api.authorization, queue: queue)]
            } ?? []
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
            services: services,
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? configuration.port) },
            logger: logger
        )
    }
}

/// What every route handler shares.
struct APIContext: Sendable {
    let store: any TrackingStore
    /// Counts for the projects and statistics pages.
    let activity: any ActivityStore
    /// Every access decision, and every change that alters access (see ``Authorization``).
    let authorization: Authorization
    let configuration: ServerConfiguration
    let metrics: ServerMetrics
    let started: Date
    /// Wakes the live event streams of a run after a write to it (``RunEventRoutes``); every route that
    /// changes a run publishes its id.
    let runChanges: ChangeFeed<RunID>
    /// The places of every live event stream of the server, whatever it follows.
    let eventStreams: EventStreamLimits

    /// Reads the request body as JSON, refusing bodies over the limit with 413.
    func json(_ request: Request, allowEmpty: Bool = false) async throws -> JSONValue {
        let buffer = try await bodyBytes(request)
        if buffer.readableBytes == 0 && allowEmpty { return .object([:]) }
        return try Self.json(from: buffer)
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

    /// The project a body names for writing, by id or by reference: `namespace/slug` must exist and be
    /// writable; a bare name is the caller's project of that name, made when missing. Runs and jobs name
    /// their project this way.
    func projectForWriting(id: Int?, reference: String, _ caller: Caller) async throws -> StoredProject {
        if let id { return try await authorization.writeProject(id: Int64(id), caller) }
        let parts = reference.split(separator: "/", maxSplits: 1).map(String.init)
        if parts.count == 2 {
            return try await authorization.writeProject(namespace: parts[0], slug: parts[1], caller)
        }
        return try await authorization.createProject(in: defaultNamespace(caller), displayName: reference, caller)
    }
}
