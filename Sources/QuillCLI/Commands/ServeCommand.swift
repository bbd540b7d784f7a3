import ArgumentParser
import Foundation
import Hummingbird
import Logging
import QuillCore
import QuillJobs
import QuillServer
import QuillSteps
import QuillStore
import QuillStoreSQLite
import ServiceLifecycle
import Synchronization
import UnixSignals

/// `quill serve`: the REST API over the store `--store` names (the embedded SQLite file by default).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the REST API on the embedded SQLite store or a PostgreSQL database.",
        discussion: """
            The store is one SQLite database (WAL mode), by default quill.db in the data folder; --store names \
            another: sqlite:///absolute/path.db, sqlite:PATH, a plain path, or postgres://USER@HOST:PORT/DATABASE \
            (several servers may share one PostgreSQL database: README, "Quill on PostgreSQL"). \
            Artifact bytes live in the data folder's artifacts/, or in --artifacts (one folder on a shared \
            filesystem for every replica). The server, its stores and any background work \
            (--gc-interval-minutes) run as one group: SIGTERM or SIGINT stops the server after the requests in \
            flight, then closes the stores. If the server or a store fails, it logs the error and exits with \
            status 1, so a supervisor (systemd with Restart=on-failure) can restart it.

            A write is answered once it is synced to disk (--durability full); concurrent writes share one sync. \
            --durability relaxed answers before the sync: faster for many small writes, and still safe if the \
            server process crashes, but the last acknowledged writes may be lost on a power loss.

            Slow and idle clients are cut off: a request header must arrive within --header-timeout, a kept-alive \
            connection may idle for --idle-timeout, and a request body may pause for at most --body-timeout. \
            At most --max-connections connections are open at once; more are answered 503.

            Without users the server runs in single-user mode: every request may do everything, so it only \
            binds to a loopback address unless you pass --insecure. Create the first user with \
            `quill users create NAME` (it prints an API key); from then on requests need a key \
            (`Authorization: Bearer …`, which the SDK and CLI send from QUILL_API_KEY or `quill login`).
            """
    )

    @Option(help: "The address to bind.")
    var host: String = "127.0.0.1"

    @Option(help: "The port to bind; 0 picks a free one.")
    var port: Int = 8080

    @Option(help: ArgumentHelp("The data folder (default: $QUILL_HOME/server).", valueName: "dir"))
    var data: String?

    @Option(
        help: ArgumentHelp(
            "The folder of artifact bytes (default: <data>/artifacts); replicas on one PostgreSQL database share one.",
            valueName: "dir"
        )
    )
    var artifacts: String?

    @Option(help: ArgumentHelp("The largest request body accepted, in MiB.", valueName: "mib"))
    var maxBodyMib: Int = 32

    @Option(
        help: ArgumentHelp(
            "The address users reach the server at, for dashboard links (default: the address each request used).",
            valueName: "url"
        )
    )
    var publicURL: String?
    @Option(help: ArgumentHelp("The largest artifact file accepted, in MiB (default: 5 GiB).", valueName: "mib"))
    var maxArtifactMib: Int64 = 5 << 10

    @Option(
        help: ArgumentHelp(
            "The artifact bytes one namespace may store, in MiB; the same bytes count once (default: no limit).",
            valueName: "mib"
        )
    )
    var quotaMib: Int64?

    @Option(help: ArgumentHelp("When a write is answered: full (synced to disk) or relaxed.", valueName: "mode"))
    var durability: SQLiteDurability = .full

    @Option(help: ArgumentHelp("Seconds a client may take to send a request header.", valueName: "seconds"))
    var headerTimeout: Double = 20

    @Option(help: ArgumentHelp("Seconds a kept-alive connection may sit idle between requests.", valueName: "seconds"))
    var idleTimeout: Double = 60

    @Option(help: ArgumentHelp("Seconds a request body may go without a byte.", valueName: "seconds"))
    var bodyTimeout: Double = 30

    @Option(
        help: ArgumentHelp(
            "The most connections open at once (default: from the open-file limit, at most 4096).",
            valueName: "count"
        )
    )
    var maxConnections: Int?

    @Flag(
        help:
            "Allow single-user mode (no API keys) on an address other than loopback. Anyone who can reach the port can read and write every run."
    )
    var insecure = false

    @Option(
        help: ArgumentHelp(
            "The cached step results the dashboard shows (default: $QUILL_STEPS_ROOT, else $QUILL_HOME/steps).",
            valueName: "dir"
        )
    )
    var stepsRoot: String?

    @Option(
        help: ArgumentHelp(
            "Remove unreferenced artifact bytes every this many minutes, as `quill artifacts gc` does (default: never).",
            valueName: "minutes"
        )
    )
    var gcIntervalMinutes: Double?

    @Option(
        help: ArgumentHelp(
            "Workers run inside the server, taking jobs from its queue (0 turns them off; `quill worker` adds more).",
            valueName: "count"
        )
    )
    var localWorkers = 1

    @Option(
        name: .customLong("share"),
        help: ArgumentHelp(
            "A folder whose files the embedded workers send when a run asks for a remote artifact (repeatable; by default a run may ask only for files of its own job run directory).",
            valueName: "dir"
        )
    )
    var shared: [String] = []

    @OptionGroup var storeOptions: StoreOptions

    @OptionGroup var homeOptions: HomeOptions

    func validate() throws {
        guard (0...256).contains(localWorkers) else { throw ValidationError("--local-workers must be 0 to 256") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard maxBodyMib > 0 else { throw ValidationError("--max-body-mib must be at least 1") }
        guard maxArtifactMib > 0 else { throw ValidationError("--max-artifact-mib must be at least 1") }
        if let quotaMib, quotaMib < 0 { throw ValidationError("--quota-mib must not be negative") }
        for (name, seconds) in [("header", headerTimeout), ("idle", idleTimeout), ("body", bodyTimeout)] {
            guard seconds > 0, seconds <= 86400 else {
                throw ValidationError("--\(name)-timeout must be more than 0 and at most 86400 seconds")
            }
        }
        if let maxConnections, maxConnections < 1 { throw ValidationError("--max-connections must be at least 1") }
        if let gcIntervalMinutes, !(gcIntervalMinutes > 0 && gcIntervalMinutes <= 525_600) {
            throw ValidationError("--gc-interval-minutes must be more than 0 and at most 525600 (a year)")
        }
    }

    /// The device name of the `index`-th embedded worker: `<host>-local`, `<host>-local-2`, …
    static func localWorkerName(_ index: Int) -> String {
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "quill"
        return index == 0 ? "\(host)-local" : "\(host)-local-\(index + 1)"
    }

    static func isLoopback(_ host: String) -> Bool {
        HostAddress.isLoopback(host)
    }

    func run() async throws {
        let folder = data ?? homeOptions.quillHome.path + "/server"
        let url = try StoreFactory.url(storeOptions.store, data: folder)
        let stores = try StoreFactory.open(
            url,
            data: folder,
            artifacts: artifacts,
            blobs: .owner,
            durability: durability
        )
        try await stores.withBackendRunning { storeServices in
            try await serve(stores, url: url, folder: folder, storeServices: storeServices)
        }
    }

    /// Serves over opened stores; `storeServices` are the stores' services still to run.
    private func serve(_ stores: OpenedStores, url: StoreURL, folder: String, storeServices: [any Service]) async throws
    {
        let store = stores.backend
        let users = try await store.userCount()
        if users == 0 && !Self.isLoopback(host) && !insecure {
            let hint = storeOptions.store == nil ? "--data \(folder)" : "--store \(url)"
            throw QuillError(
                .invalidArgument,
                "the server has no users, so it would run without authentication and anyone who can reach \(host) could read and write every run; create a user first (`quill users create NAME \(hint)`), bind to 127.0.0.1, or pass --insecure"
            )
        }
        var configuration = ServerConfiguration()
        configuration.publicURL = publicURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        configuration.host = host
        configuration.port = port
        configuration.maxBodyBytes = maxBodyMib << 20
        var stepsEnvironment = ProcessInfo.processInfo.environment
        if let home = homeOptions.home { stepsEnvironment["QUILL_HOME"] = home }
        configuration.stepsRoot = stepsRoot ?? StepOptions.fromEnvironment(stepsEnvironment).root
        configuration.maxArtifactBytes = maxArtifactMib << 20
        configuration.namespaceQuotaBytes = quotaMib.map { $0 << 20 }
        configuration.timeouts = ConnectionTimeouts(
            header: .seconds(headerTimeout),
            idle: .seconds(idleTimeout),
            body: .seconds(bodyTimeout)
        )
        let openFiles = FileDescriptorLimit.raiseToHardLimit()
        configuration.maxConnections =
            maxConnections ?? FileDescriptorLimit.defaultConnectionLimit(openFiles: openFiles)
        var logger = Logger(label: "quill.server")
        logger.logLevel = .warning
        configuration.whirrDataDirectory = folder + "/whirr"
        // The embedded workers' credential: minted here, kept in memory only, never given to a job.
        let internalCredential = APIKeySecret.generate()
        configuration.internalCredential = internalCredential
        let queue = JobQueue(jobs: store, runs: store, logger: logger)
        // The address jobs of embedded workers report to (QUILL_TRACKING_URI), known once the server listens.
        let address = Mutex<String?>(nil)
        let reachable = host == "0.0.0.0" || host == "::" ? "127.0.0.1" : host.contains(":") ? "[\(host)]" : host
        // One upload path for clients and embedded workers sending remote artifacts (one quota reservation).
        let artifactUploads = ArtifactUploads(
            artifacts: store,
            blobs: stores.blobs,
            runs: store,
            configuration: configuration
        )
        let app = QuillServer.application(
            store: store,
            artifacts: store,
            blobs: stores.blobs,
            configuration: configuration,
            jobs: queue,
            artifactUploads: artifactUploads,
            logger: logger
        ) { bound in
            address.withLock { $0 = "http://\(reachable):\(bound)" }
            let mode = users == 0 ? "single-user mode, no API keys" : "\(users) user(s), API keys required"
            ServerPresence.announce(folder: folder, database: stores.location, host: host, port: bound)
            let shown = storeOptions.store == nil ? "" : ", store: \(url)"
            Console.print("quill serve: listening on http://\(host):\(bound) (data: \(folder)\(shown); \(mode))")
        }
        var services = storeServices
        if let gcIntervalMinutes {
            services.append(
                BlobCollectionService(stores: stores, interval: .seconds(gcIntervalMinutes * 60), logger: logger)
            )
        }
        // Embedded workers stop first (handing their running jobs back), then the server drains its requests,
        // then the queue's lease sweeper and the collector, then the stores.
        let workers = (0..<localWorkers).map { index in
            var worker = WorkerConfiguration(
                device: DeviceProbe.local(
                    name: Self.localWorkerName(index),
                    labels: ["local"],
                    slots: 1
                ),
                runsDirectory: folder + "/job-runs",
                trackingURI: { address.withLock { $0 } }
            )
            worker.sharedDirectories = shared
            return Worker(
                configuration: worker,
                channel: LocalJobChannel(queue: queue, artifacts: artifactUploads),
                uploads: HTTPRunDirectoryUploads(
                    serverURL: { address.withLock { $0 } },
                    apiKey: internalCredential
                ),
                logger: logger
            )
        }
        try await Self.runServices(services + [queue, app] + workers, logger: logger)
    }

    /// Runs the services in one `ServiceGroup` until SIGTERM or SIGINT, which shuts them down gracefully in
    /// reverse order (the server drains its requests, then background work stops, then the stores close).
    ///
    /// A service that throws, or returns while nobody asked it to stop, ends the group: the error is logged
    /// and `quill serve` exits with status 1, so a supervisor restarts it instead of it running half alive.
    static func runServices(_ services: [any Service], logger: Logger) async throws {
        var configuration = ServiceGroupConfiguration(
            services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        configuration.maximumGracefulShutdownDuration = .seconds(120)
        do {
            try await ServiceGroup(configuration: configuration).run()
        } catch {
            // A listening socket that cannot be opened (port in use, no permission) is the user's to fix, at
            // start: the command's one error line says how, so it is not reported as a crash.
            if String(describing: error).contains("bind(") { throw error }
            logger.error(
                "quill serve stopped because a service failed: \(error). Exiting with status 1; a supervisor (systemd with Restart=on-failure) restarts it."
            )
            throw ExitCode.failure
        }
    }
}

extension SQLiteDurability: ExpressibleByArgument {}
