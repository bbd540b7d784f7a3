import Foundation
public import Logging
public import QuillCore

/// How the SDK records a run: where, what it captures, and how the writer batches.
///
/// Every field has a default that can also be set by an environment variable, read by
/// ``fromEnvironment(_:)``:
///
/// | Variable | Meaning | Default |
/// | --- | --- | --- |
/// | `QUILL_HOME` | where runs are kept | `~/.quill` |
/// | `QUILL_PROJECT` | the project when none is named | `default` |
/// | `QUILL_SYSTEM_METRICS_INTERVAL` | seconds between system samples; `0` turns them off | `10` |
/// | `QUILL_CAPTURE_GIT` | `0` turns off git capture | on |
/// | `QUILL_CAPTURE_HOST` | `0` turns off host capture | on |
/// | `QUILL_CAPTURE_DEPS` | `0` turns off the dependency snapshot | on |
/// | `QUILL_FLUSH_INTERVAL_MS` | the longest a row waits before it is written (1–200) | `100` |
/// | `QUILL_HANDLE_SIGNALS` | `0` leaves SIGINT and SIGTERM alone | on |
/// | `QUILL_TRACKING_URI` | a server (`http://host:8080`) to stream runs to | none |
/// | `QUILL_API_KEY` | the API key sent to that server | none |
public struct RunOptions: Sendable {
    /// Where runs are kept.
    public var home: QuillHome
    /// The project used when ``Quill/startRun(project:name:config:tags:kind:parent:description:options:)`` names none.
    public var defaultProject: String
    /// Record the git commit, branch, dirty flag, remote and uncommitted diff (capped at 1 MiB).
    public var captureGit: Bool = true
    /// Record host name, user, pid, OS, Swift version, executable and command line.
    public var captureHost: Bool = true
    /// Record `pip freeze` (in an active virtualenv) or the enclosing package's `Package.resolved`.
    public var captureDependencies: Bool = true
    /// The interval between system samples, or `nil` for none.
    public var systemMetricsInterval: Duration? = .seconds(10)
    /// The longest a logged row waits before it is written. At most 200 ms.
    public var flushInterval: Duration = .milliseconds(100)
    /// Rows that wake the writer before the interval passes.
    public var batchRows: Int = 4096
    /// Rows the buffer holds before logging waits for the writer.
    public var bufferCapacity: Int = 32_768
    /// Close open runs as killed on SIGINT and SIGTERM (only when no other handler is installed).
    public var handleSignals: Bool = true
    /// Log into the run named by `QUILL_RUN_DIR` (set by `quill run` and job workers), or by whirr's
    /// `WHIRR_RUN_DIR` and `WHIRR_JOB_ID`, instead of starting a new one (see <doc:InsideJobs>).
    public var attachToEnvironmentRun: Bool = true
    /// A server to stream runs to while they are logged (`http://host:8080`); `nil` logs locally only.
    public var trackingURI: String?
    /// The API key sent to the server; when `nil`, the key `quill login` saved for the server is used.
    public var apiKey: String?
    /// The folder git and dependency capture start from; the working directory by default.
    public var workingDirectory: String?
    /// Where the SDK reports its own problems. Quiet by default.
    public var logger: Logger = Logger(label: "quill", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Options with defaults and a home.
    public init(home: QuillHome, defaultProject: String = Project.defaultName) {
        self.home = home
        self.defaultProject = defaultProject
    }

    /// Options read from the environment variables in the table above.
    public static func fromEnvironment(_ environment: [String: String]? = nil) -> RunOptions {
        let environment = environment ?? ProcessInfo.processInfo.environment
        var options = RunOptions(
            home: QuillHome.fromEnvironment(environment),
            defaultProject: environment["QUILL_PROJECT"].flatMap { $0.isEmpty ? nil : $0 } ?? Project.defaultName
        )
        func off(_ name: String) -> Bool {
            guard let value = environment[name]?.lowercased() else { return false }
            return ["0", "false", "no", "off"].contains(value)
        }
        options.captureGit = !off("QUILL_CAPTURE_GIT")
        options.captureHost = !off("QUILL_CAPTURE_HOST")
        options.captureDependencies = !off("QUILL_CAPTURE_DEPS")
        options.handleSignals = !off("QUILL_HANDLE_SIGNALS")
        options.trackingURI = environment["QUILL_TRACKING_URI"].flatMap { $0.isEmpty ? nil : $0 }
        options.apiKey = environment["QUILL_API_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        if let text = environment["QUILL_SYSTEM_METRICS_INTERVAL"], let seconds = Double(text) {
            options.systemMetricsInterval = seconds > 0 ? .milliseconds(Int64(seconds * 1000)) : nil
        }
        if let text = environment["QUILL_FLUSH_INTERVAL_MS"], let millis = Int64(text) {
            options.flushInterval = .milliseconds(min(200, max(1, millis)))
        }
        return options
    }

    var writerConfiguration: RunWriter.Configuration {
        var configuration = RunWriter.Configuration()
        configuration.batchRows = max(1, batchRows)
        configuration.capacity = max(configuration.batchRows, bufferCapacity)
        configuration.flushInterval = min(flushInterval, .milliseconds(200))
        return configuration
    }
}
