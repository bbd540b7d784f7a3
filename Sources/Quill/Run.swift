public import Foundation
import Logging
public import QuillCore
import Synchronization

/// One entry of a ``Run/logBatch(metrics:params:tags:links:)`` call: the values logged at one step.
public struct MetricEntry: Sendable, Hashable {
    /// The step, when there is one.
    public var step: Int?
    /// The values by key.
    public var values: [String: Double]

    /// Creates an entry.
    public init(step: Int? = nil, values: [String: Double]) {
        self.step = step
        self.values = values
    }
}

/// A value snapshot of a run: what it is and what it has logged so far, as returned by ``Run/snapshot()``
/// and ``Quill/runsInThisProcess``.
public struct RunSnapshot: Sendable, Hashable {
    /// The run's id.
    public var id: RunID
    /// The run's name.
    public var name: String
    /// The project's display name.
    public var project: String
    /// The run's kind.
    public var kind: RunKind
    /// The status.
    public var status: RunStatus
    /// When it started.
    public var startedAt: Date
    /// When it finished.
    public var finishedAt: Date?
    /// Metric rows written to disk so far.
    public var rowsWritten: Int
    /// Metric rows logged but not yet written.
    public var rowsPending: Int
    /// The values of the last row written.
    public var lastValues: [String: Double]
    /// Params logged after start.
    public var params: [String: JSONValue]
    /// Key-value tags (label tags have an empty value).
    public var tags: [String: String]
    /// The merged summary.
    public var summary: [String: JSONValue]
    /// The run's folder.
    public var directory: String
}

/// A run being recorded: the handle a training program logs through.
///
/// Every logging call returns without waiting for disk: it queues the values for the run's background
/// writer, which appends them to the run directory within 100 ms (see <doc:Concurrency>). Calls are safe
/// from any thread or task; rows from concurrent callers get unique, increasing `_idx` values.
///
/// ```swift
/// let run = try Quill.startRun(project: "mnist", config: ["lr": 0.001])
/// for step in 0..<1000 {
///     try run.log(["loss": loss, "acc": accuracy], step: step)
/// }
/// try run.logSummary(["best_acc": 0.98])
/// try run.finish()
/// ```
public final class Run: Sendable {
    /// The run's id.
    public let id: RunID
    /// The run's name, unique within its project.
    public let name: String
    /// The project the run belongs to.
    public let project: Project
    /// What the run does.
    public let kind: RunKind
    /// The parent run, for nested runs.
    public let parent: RunID?
    /// The run's folder.
    public let directory: RunDirectory
    /// When the run started (or was resumed).
    public let startedAt: Date

    let writer: RunWriter
    /// False when this process attached to a run another process owns (the child of `quill run`): the
    /// owner sets the final status.
    package let ownsStatus: Bool
    private let sampler: SystemSampler?
    /// Streams the run to its server, when it has one (and owns the run).
    let streamer: RunStreamer?
    private let state: Mutex<State>
    private let logger: Logger
    /// The process that opened the run. A child forked from it has the run but not its writer thread, so
    /// nothing it logs would be written (the C ABI refuses calls from such a child).
    package let processID: Int32

    private struct State {
        var status: RunStatus = .running
        var finishedAt: Date?
        var params: [String: JSONValue] = [:]
        var tags: [String: String] = [:]
        var summary: [String: JSONValue] = [:]
    }

    init(
        meta: RunMeta,
        directory: RunDirectory,
        writer: RunWriter,
        ownsStatus: Bool,
        sampler: SystemSampler?,
        streamer: RunStreamer?,
        logger: Logger
    ) {
        self.id = meta.id
        self.name = meta.name
        self.project = Project(displayName: meta.project)
        self.kind = meta.kind
        self.parent = meta.parent
        self.directory = directory
        self.startedAt = meta.startedAt
        self.writer = writer
        self.ownsStatus = ownsStatus
        self.sampler = sampler
        self.streamer = streamer
        self.logger = logger
        self.processID = getpid()
        self.state = Mutex(State(params: meta.params, tags: meta.tagValues, summary: meta.summary))
    }

    // MARK: Metrics

    /// Records metric values for this run, optionally at a training step.
    ///
    /// Returns without waiting for disk: the row joins the current batch and the writer appends it within
    /// 100 ms. When the writer falls behind by 32,768 rows the call waits for it rather than drop a row.
    /// A dictionary literal is taken as ordered pairs, so no hashing happens in the call and the keys are
    /// written in the order you wrote them.
    ///
    /// ```swift
    /// try run.log(["loss": 0.5, "acc": 0.8], step: 10)
    /// ```
    ///
    /// - Parameters:
    ///   - metrics: Values by metric name. NaN and infinities are stored faithfully. A key given twice keeps
    ///     its last value.
    ///   - step: The training step the values belong to.
    /// - Throws: ``QuillError`` with code ``QuillError/Code/runFinished`` after the run has ended.
    @inline(__always)
    public func log(_ metrics: KeyValuePairs<String, Double>, step: Int? = nil) throws {
        try writer.enqueue(PendingRow(microseconds: Timestamp.nowMicroseconds(), step: step, values: .pairs(metrics)))
    }

    /// Records metric values held in a dictionary, optionally at a training step.
    ///
    /// ```swift
    /// var metrics: [String: Double] = [:]
    /// metrics["loss"] = loss
    /// try run.log(metrics, step: step)
    /// ```
    ///
    /// - Parameters:
    ///   - metrics: Values by metric name. NaN and infinities are stored faithfully.
    ///   - step: The training step the values belong to.
    /// - Throws: ``QuillError`` with code ``QuillError/Code/runFinished`` after the run has ended.
    @_disfavoredOverload
    public func log(_ metrics: [String: Double], step: Int? = nil) throws {
        try writer.enqueue(
            PendingRow(microseconds: Timestamp.nowMicroseconds(), step: step, values: .dictionary(metrics))
        )
    }

    /// Records a row whose pairs were built at run time, in order and with no key twice (the C ABI's log
    /// call): no dictionary is hashed on the way to the writer.
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/runFinished`` after the run has ended.
    @inline(__always)
    package func log(list: [(key: String, value: Double)], step: Int?) throws {
        try writer.enqueue(PendingRow(microseconds: Timestamp.nowMicroseconds(), step: step, values: .list(list)))
    }

    /// Records rows whose pairs were built at run time, under one lock (the C ABI's batch call): each row in
    /// order and with no key twice, all with the time of the call.
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/runFinished`` after the run has ended.
    package func log(rows: [(step: Int?, list: [(key: String, value: Double)])]) throws {
        guard !rows.isEmpty else { return }
        let now = Timestamp.nowMicroseconds()
        try writer.enqueue(
            contentsOf: rows.map { PendingRow(microseconds: now, step: $0.step, values: .list($0.list)) }
        )
    }

    /// Records one value of a metric.
    ///
    /// ```swift
    /// try run.log("val/loss", 0.42, step: epoch)
    /// ```
    ///
    /// - Parameters:
    ///   - key: The metric name.
    ///   - value: The value; NaN and infinities are stored faithfully.
    ///   - step: The training step the value belongs to.
    /// - Throws: ``QuillError`` with code ``QuillError/Code/runFinished`` after the run has ended.
    public func log(_ key: String, _ value: Double, step: Int? = nil) throws {
        try log([key: value], step: step)
    }

    /// Records metrics, params, tags and links in one call.
    ///
    /// - Parameters:
    ///   - metrics: Metric rows, each with its own optional step, written in order.
    ///   - params: Params to record.
    ///   - tags: Key-value tags to set (an empty value makes a label tag).
    ///   - links: Links to add.
    /// - Throws: ``QuillError`` with code ``QuillError/Code/runFinished`` after the run has ended.
    public func logBatch(
        metrics: [MetricEntry] = [],
        params: [String: JSONValue] = [:],
        tags: [String: String] = [:],
        links: [RunLink] = []
    ) throws {
        if !metrics.isEmpty {
            let now = Timestamp.nowMicroseconds()
            try writer.enqueue(
                contentsOf: metrics.map { PendingRow(microseconds: now, step: $0.step, values: .dictionary($0.values)) }
            )
        }
        if !params.isEmpty { try logParams(params) }
        for (key, value) in tags.sorted(by: { $0.key < $1.key }) { try setTag(key, value) }
        for link in links { try addLink(link.label, url: link.url) }
    }

    // MARK: Params, tags, links, summary

    /// Records one param (a hyperparameter set after start; the start config lives in `config.json`).
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/runFinished`` after the run has ended.
    public func logParam(_ key: String, _ value: JSONValue) throws {
        try logParams([key: value])
    }

    /// Records several params.
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/runFinished`` after the run has ended.
    public func logParams(_ params: [String: JSONValue]) throws {
        var lines: [UInt8] = []
        for (key, value) in params.sorted(by: { $0.key < $1.key }) {
            lines += RunEvent(kind: .param, fields: ["key": .string(key), "value": value]).line
        }
        try writer.enqueue(.events, lines) { $0.params.merge(params) { _, new in new } }
        state.withLock { $0.params.merge(params) { _, new in new } }
    }

    /// Sets a key-value tag, or a label tag when the value is empty.
    ///
    /// ```swift
    /// try run.setTag("team", "vision")
    /// try run.setTag("baseline")
    /// ```
    /// - Throws: ``QuillError`` with code ``QuillError/Code/runFinished`` after the run has ended.
    public func setTag(_ key: String, _ value: String = "") throws {
        let line = RunEvent(kind: .tag, fields: ["key": .string(key), "value": .string(value)]).line
        try writer.enqueue(.events, line) { $0.tags.append((key, value)) }
        state.withLock { $0.tags[key] = value }
    }

    /// Adds an external link (a paper, a dashboard, a pull request).
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/runFinished`` after the run has ended.
    public func addLink(_ label: String, url: String) throws {
        let link = RunLink(label: label, url: url)
        let line = RunEvent(
            kind: .link,
            timestamp: link.timestamp,
            fields: ["label": .string(label), "url": .string(url)]
        ).line
        try writer.enqueue(.events, line) { $0.links.append(link) }
    }

    /// Merges values into the run's summary (final metrics, best scores); later values win per key.
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/runFinished`` after the run has ended.
    public func logSummary(_ values: [String: JSONValue]) throws {
        let line = RunEvent(kind: .summary, fields: ["values": .object(values)]).line
        try writer.enqueue(.events, line) { $0.summary.merge(values) { _, new in new } }
        state.withLock { $0.summary.merge(values) { _, new in new } }
    }

    /// Writes a text message to the run's log file with a level and the current time.
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/runFinished`` after the run has ended.
    public func logMessage(_ message: String, level: LogLevel = .info) throws {
        var text = ""
        for line in message.split(separator: "\n", omittingEmptySubsequences: false) {
            text += LogLine(timestamp: Date(), level: level, message: String(line)).text + "\n"
        }
        try writer.enqueue(.log, Array(text.utf8))
    }

    /// Appends raw program output (no time or level) to the run's log file.
    package func appendOutput(_ bytes: [UInt8]) throws {
        try writer.enqueue(.log, bytes)
    }

    /// Appends one system sample to `system.jsonl`.
    package func logSystem(_ values: [String: Double]) throws {
        var members: [String: JSONValue] = values.mapValues(JSONValue.double)
        members["_timestamp"] = .string(Timestamp.string(Date()))
        var line = JSONWriter.bytes(.object(members))
        line.append(UInt8(ascii: "\n"))
        try writer.enqueue(.system, line)
    }

    // MARK: Flush and finish

    /// Waits until everything logged before the call is written to the run directory.
    ///
    /// - Parameter durable: Also `fsync` `metrics.jsonl`, so the rows survive power loss, not only a crash.
    /// - Throws: ``QuillError`` with code ``QuillError/Code/writerFailed`` when the writer could not write.
    public func flush(durable: Bool = false) throws {
        try writer.flush(durable: durable)
    }

    /// Ends the run: writes everything still queued, records the status, end time and duration.
    ///
    /// Safe to call twice; the second call does nothing. Logging afterwards throws
    /// ``QuillError/Code/runFinished``.
    ///
    /// - Parameters:
    ///   - status: The final status; `completed` by default.
    ///   - error: Why the run failed, recorded in `meta.json`.
    public func finish(_ status: RunStatus = .completed, error: String? = nil) throws {
        try finish(status, error: error, exitCode: nil, signal: nil)
    }

    /// Ends the run with the exit code and signal of the command it ran (used by `quill run`).
    package func finish(_ status: RunStatus, error: String?, exitCode: Int32?, signal: Int32?) throws {
        let first = state.withLock { current -> Bool in
            guard current.finishedAt == nil else { return false }
            current.finishedAt = Date()
            current.status = status
            return true
        }
        guard first else {
            // Another thread (a signal handler, the exit hook) is finishing the run: wait for it, so the
            // process does not exit with the run half-closed.
            try? writer.finish { _ in }
            return
        }
        sampler?.stop()
        let finishedAt = state.withLock { $0.finishedAt } ?? Date()
        let owns = ownsStatus
        let event = RunEvent(kind: .status, timestamp: finishedAt, fields: ["status": .string(status.rawValue)]).line
        defer { RunRegistry.shared.remove(self) }
        try writer.finish { delta in
            if owns {
                delta.status = (status, finishedAt, error, exitCode, signal)
            } else {
                delta.heartbeat = true
            }
        }
        if owns { try FileIO.append(directory.eventsPath, event) }
        streamer?.finish()
        logger.debug("quill: run finished", metadata: ["run": "\(id)", "status": "\(status)"])
    }

    /// Whether ``finish(_:error:)`` was called.
    public var isFinished: Bool { state.withLock { $0.finishedAt != nil } }

    /// The run's status in this process.
    public var status: RunStatus { state.withLock { $0.status } }

    /// A value snapshot of the run and what it has logged.
    public func snapshot() -> RunSnapshot {
        let current = state.withLock { $0 }
        let stats = writer.statistics()
        return RunSnapshot(
            id: id,
            name: name,
            project: project.displayName,
            kind: kind,
            status: current.status,
            startedAt: startedAt,
            finishedAt: current.finishedAt,
            rowsWritten: stats.written,
            rowsPending: stats.pending,
            lastValues: stats.lastRow,
            params: current.params,
            tags: current.tags,
            summary: current.summary,
            directory: directory.path
        )
    }

    /// Reads back the metric rows written so far (call ``flush(durable:)`` first to include the newest).
    public func readMetrics() throws -> [MetricRow] {
        try directory.readMetrics().rows
    }
}
