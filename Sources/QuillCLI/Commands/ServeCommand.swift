import ArgumentParser
import Foundation
import Hummingbird
import Logging
import QuillCore
import QuillServer
import QuillStore
import QuillStoreSQLite

/// `quill serve`: the REST API over the embedded SQLite store.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the REST API on the embedded SQLite store.",
        discussion: """
            The store is one SQLite database (WAL mode) in the data folder. SIGTERM or SIGINT stops the server \
            after the requests in flight.

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

    @Flag(
        help:
            "Allow single-user mode (no API keys) on an address other than loopback. Anyone who can reach the port can read and write every run."
    )
    var insecure = false

    @OptionGroup var homeOptions: HomeOptions

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard maxBodyMib > 0 else { throw ValidationError("--max-body-mib must be at least 1") }
        guard maxArtifactMib > 0 else { throw ValidationError("--max-artifact-mib must be at least 1") }
        if let quotaMib, quotaMib < 0 { throw ValidationError("--quota-mib must not be negative") }
    }

    static func isLoopback(_ host: String) -> Bool {
        HostAddress.isLoopback(host)
    }

    func run() async throws {
        let folder = data ?? homeOptions.quillHome.path + "/server"
        let store = try SQLiteTrackingStore(path: folder + "/quill.db")
        let users = try await store.userCount()
        if users == 0 && !Self.isLoopback(host) && !insecure {
            throw QuillError(
                .invalidArgument,
                "the server has no users, so it would run without authentication and anyone who can reach \(host) could read and write every run; create a user first (`quill users create NAME --data \(folder)`), bind to 127.0.0.1, or pass --insecure"
            )
        }
        var configuration = ServerConfiguration()
        configuration.publicURL = publicURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        configuration.host = host
        configuration.port = port
        configuration.maxBodyBytes = maxBodyMib << 20
        configuration.artifactDirectory = folder + "/artifacts"
        configuration.maxArtifactBytes = maxArtifactMib << 20
        configuration.namespaceQuotaBytes = quotaMib.map { $0 << 20 }
        var logger = Logger(label: "quill.server")
        logger.logLevel = .warning
        let app = QuillServer.application(
            store: store,
            artifacts: store,
            configuration: configuration,
            logger: logger
        ) { bound in
            let mode = users == 0 ? "single-user mode, no API keys" : "\(users) user(s), API keys required"
            ServerPresence.announce(folder: folder, host: host, port: bound)
            Console.print("quill serve: listening on http://\(host):\(bound) (data: \(folder); \(mode))")
        }
        try await app.runService()
    }
}
