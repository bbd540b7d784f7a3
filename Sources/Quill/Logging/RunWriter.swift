import Foundation
import Logging
import QuillCore

/// One logged call waiting to be written: its time, step and values. `_idx` is given by the writer.
struct PendingRow: Sendable {
    var microseconds: Int64
    var step: Int?
    var values: MetricValues
}

/// The values of one row, as the caller passed them: a dictionary, or a dictionary literal kept as
/// ordered pairs (cheaper to build than a hashed dictionary, and written in the caller's key order).
enum MetricValues: Sendable {
    case dictionary([String: Double])
    case pairs(KeyValuePairs<String, Double>)
    /// Pairs built at run time, in the caller's order, with no key twice (the C ABI's key and value arrays).
    case list([(key: String, value: Double)])

    var dictionary: [String: Double] {
        switch self {
        case .dictionary(let values): return values
        case .pairs(let pairs):
            return Dictionary(pairs.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
        case .list(let list):
            return Dictionary(list.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
        }
    }
}

/// The files besides `metrics.jsonl` that the writer appends to.
enum AppendTarget: Sendable {
    case events
    case log
    case system
}

/// The background writer of one run.
///
/// The log call appends a ``PendingRow`` to a bounded buffer under a mutex and returns; a dedicated writer
/// thread swaps the buffer out, encodes the rows as JSON lines and appends them to `metrics.jsonl` with one
/// `write` per batch. The writer wakes when ``Configuration/batchRows`` rows are waiting or
/// ``Configuration/flushInterval`` has passed, whichever comes first, so a row reaches the file at most one
/// interval after it was logged. When the buffer holds ``Configuration/capacity`` rows the log call waits
/// for the writer (back-pressure) instead of dropping rows or growing without bound.
///
/// A thread, not a task: the SDK is called from synchronous training loops and from `atexit`, where no
/// async executor is guaranteed to run, and the writer must not compete with the program's own tasks on
/// the cooperative pool.
// @unchecked Sendable: every stored `var` below marked "guarded" is read and written only with `lock`
// held; the ones marked "writer thread" are touched only by the writer thread (and by `start`/`join`
// before it starts and after it ends).
final class RunWriter: @unchecked Sendable {
    /// Tuning of the writer.
    struct Configuration: Sendable {
        /// Rows that wake the writer early. Default 4,096.
        var batchRows = 4096
        /// The most time a logged row waits before it is written. Default 100 ms.
        var flushInterval: Duration = .milliseconds(100)
        /// Rows the buffer holds before logging waits for the writer. Default 32,768.
        var capacity = 32_768
        /// How often the writer refreshes `heartbeat_at` in `meta.json`. Default 60 s.
        var heartbeatInterval: Duration = .seconds(60)
        /// Write log messages to standard error instead of `output.log`: in a whirr worker's run folder, whose
        /// `output.log` the worker writes through the job's standard output (not appending), so a line appended
        /// there would be overwritten; on standard error the worker captures it into that file.
        var logToStandardError = false
    }

    let directory: RunDirectory
    let configuration: Configuration
    private let logger: Logger
    private let lock = ConditionLock()

    // guarded
    private var rows: [PendingRow] = []
    private var appends: [(AppendTarget, [UInt8])] = []
    private var delta = MetaDelta()
    private var requestedFlush: UInt64 = 0
    private var completedFlush: UInt64 = 0
    private var stopping = false
    private var stopped = false
    private var failure: QuillError?
    private var written = 0
    private var lastRow: [String: Double] = [:]

    // writer thread
    private var spare: [PendingRow] = []
    private let encoders = [RowEncoder(), RowEncoder()]
    private var nextEncoder = 0
    private var appender: BackgroundAppender?
    /// Whether this writer holds the run's file lock: taken for the first batch of a burst, kept while
    /// batches stream, released when the writer goes idle, flushes or updates `meta.json`.
    private var holdingFileLock = false
    private var nextIndex = 0
    private var metricsFD: Int32 = -1
    private var lockFD: Int32 = -1
    private var intervalMicros: Int64
    private var heartbeatMicros: Int64

    init(directory: RunDirectory, configuration: Configuration, logger: Logger) {
        self.directory = directory
        self.configuration = configuration
        self.logger = logger
        self.intervalMicros = Self.micros(configuration.flushInterval)
        self.heartbeatMicros = Self.micros(configuration.heartbeatInterval)
        rows.reserveCapacity(configuration.capacity)
        spare.reserveCapacity(configuration.capacity)
    }

    private static func micros(_ duration: Duration) -> Int64 {
        let parts = duration.components
        return max(1000, parts.seconds * 1_000_000 + parts.attoseconds / 1_000_000_000_000)
    }

    /// Opens the files and starts the writer thread.
    func start() throws {
        let path = directory.metricsPath
        metricsFD = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard metricsFD >= 0 else { throw QuillError.posix("opening", path: path, errno: errno) }
        lockFD = open(directory.lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard lockFD >= 0 else {
            close(metricsFD)
            throw QuillError.posix("opening lock", path: directory.lockPath, errno: errno)
        }
        let appender = BackgroundAppender(fd: metricsFD, path: path)
        appender.start()
        self.appender = appender
        let thread = Thread { [self] in self.runLoop() }
        thread.name = "quill-writer"
        thread.stackSize = 1 << 20
        thread.start()
    }

    // MARK: Producer side

    /// The error of a logging call after the run finished.
    private func finishedError() -> QuillError {
        QuillError(
            .runFinished,
            "run \(directory.name) has finished, so nothing more can be logged to it; start a new run, or reopen this one with Quill.resumeRun(\"\(directory.name)\")"
        )
    }

    /// Queues one row; waits only when the buffer is full.
    @inline(__always)
    func enqueue(_ row: PendingRow) throws {
        lock.lock()
        if stopping || failure != nil {
            let error = failure ?? finishedError()
            lock.unlock()
            throw error
        }
        if rows.count >= configuration.capacity {
            waitForRoom()
        }
        rows.append(row)
        if rows.count == configuration.batchRows { lock.signalWork() }
        lock.unlock()
    }

    /// Queues several rows at once (a batch call), under one lock.
    func enqueue(contentsOf batch: [PendingRow]) throws {
        lock.lock()
        defer { lock.unlock() }
        for row in batch {
            if stopping || failure != nil {
                throw failure ?? finishedError()
            }
            if rows.count >= configuration.capacity { waitForRoom() }
            rows.append(row)
            if rows.count == configuration.batchRows { lock.signalWork() }
        }
    }

    /// Waits, lock held, until the writer has taken the buffer.
    private func waitForRoom() {
        lock.signalWork()
        while rows.count >= configuration.capacity && failure == nil && !stopped {
            lock.waitForProgress()
        }
    }

    /// Queues bytes for another file and, optionally, changes to `meta.json`.
    func enqueue(_ target: AppendTarget?, _ bytes: [UInt8], meta change: ((inout MetaDelta) -> Void)? = nil) throws {
        lock.lock()
        defer { lock.unlock() }
        if stopping || failure != nil {
            throw failure ?? finishedError()
        }
        if let target { appends.append((target, bytes)) }
        change?(&delta)
    }

    /// Waits until everything queued before the call is written.
    ///
    /// - Parameter durable: Also `fsync` the files, so they survive power loss, not just a crash.
    func flush(durable: Bool = false) throws {
        lock.lock()
        defer { lock.unlock() }
        if stopped {
            if let failure { throw failure }
            return
        }
        requestedFlush += 1
        let target = requestedFlush
        lock.signalWork()
        while completedFlush < target && !stopped && failure == nil {
            lock.waitForProgress()
        }
        if let failure { throw failure }
        if durable, !stopped {
            fsync(metricsFD)
            FileIO.syncDirectory(of: directory.metricsPath)
        }
    }

    /// Writes everything, applies the final status and stops the thread. Safe to call twice.
    func finish(_ final: (inout MetaDelta) -> Void) throws {
        lock.lock()
        if stopping {
            while !stopped { lock.waitForProgress() }
            lock.unlock()
            return
        }
        final(&delta)
        stopping = true
        lock.signalWork()
        while !stopped { lock.waitForProgress() }
        let error = failure
        lock.unlock()
        if let error { throw error }
    }

    /// Rows written so far, rows waiting, and the values of the last row written.
    func statistics() -> (written: Int, pending: Int, lastRow: [String: Double]) {
        lock.lock()
        defer { lock.unlock() }
        return (written, rows.count, lastRow)
    }

    // MARK: Writer thread

    private func runLoop() {
        var lastWrite = Timestamp.nowMicroseconds()
        var lastHeartbeat = lastWrite
        lock.lock()
        while true {
            // Wait for a full batch, a flush request, the interval (when rows wait) or the heartbeat.
            while true {
                if stopping || requestedFlush > completedFlush || rows.count >= configuration.batchRows { break }
                let now = Timestamp.nowMicroseconds()
                let hasWork = !rows.isEmpty || !appends.isEmpty || !delta.isEmpty
                if hasWork && now - lastWrite >= intervalMicros { break }
                if now - lastHeartbeat >= heartbeatMicros {
                    delta.heartbeat = true
                    break
                }
                if holdingFileLock {
                    // About to sleep: finish the write in flight and let other processes append.
                    lock.unlock()
                    let released = Result { try finishStreaming() }
                    lock.lock()
                    if case .failure(let error) = released {
                        failure = QuillError(
                            .writerFailed,
                            "writing run \(directory.name) failed: \(error)",
                            underlying: error
                        )
                        stopped = true
                        lock.broadcastProgress()
                        lock.unlock()
                        closeFiles()
                        return
                    }
                    continue
                }
                let deadline =
                    hasWork
                    ? lastWrite + intervalMicros : min(now + intervalMicros * 10, lastHeartbeat + heartbeatMicros)
                lock.waitForWork(untilMicroseconds: deadline)
            }
            swap(&rows, &spare)
            let batchAppends = appends
            appends.removeAll()
            let batchDelta = delta
            delta = MetaDelta()
            let target = requestedFlush
            let stop = stopping
            lock.broadcastProgress()
            lock.unlock()

            var writeError: QuillError?
            do {
                try writeRows()
                try writeAppends(batchAppends)
                if target > completedFlushSnapshot() || stop || !batchDelta.isEmpty {
                    try finishStreaming()
                }
                if !batchDelta.isEmpty {
                    let now = Date()
                    try directory.updateMeta { meta in batchDelta.apply(to: &meta, now: now) }
                    lastHeartbeat = Timestamp.nowMicroseconds()
                }
                if stop {
                    fsync(metricsFD)
                }
            } catch let failure as QuillError {
                writeError = failure
            } catch {
                writeError = QuillError(.writerFailed, "the run writer failed: \(error)")
            }
            let count = spare.count
            let lastValues = spare.last?.values.dictionary
            // Release the rows outside the lock: freeing thousands of dictionaries takes a while.
            spare.removeAll(keepingCapacity: true)
            lastWrite = Timestamp.nowMicroseconds()

            lock.lock()
            if let error = writeError {
                logger.error(
                    "quill: run writer failed",
                    metadata: ["error": "\(error)", "run_dir": "\(directory.path)"]
                )
                failure = QuillError(
                    .writerFailed,
                    "writing run \(directory.name) failed, \(count) row(s) of the last batch were not written: \(error.message); free disk space or fix permissions, then resume the run",
                    underlying: error
                )
            } else {
                written += count
                if let lastValues { lastRow = lastValues }
            }
            completedFlush = max(completedFlush, target)
            if stop || failure != nil {
                if rows.isEmpty && appends.isEmpty || failure != nil {
                    stopped = true
                    lock.broadcastProgress()
                    lock.unlock()
                    if holdingFileLock { try? finishStreaming() }
                    closeFiles()
                    return
                }
            }
            lock.broadcastProgress()
        }
    }

    /// Encodes the swapped-out rows and hands them to the appender thread, under the run's file lock.
    ///
    /// The lock is taken (and the next `_idx` read from the file's tail) at the first batch of a burst
    /// and kept while batches stream, so the indexes counted in memory stay right.
    private func writeRows() throws {
        guard !spare.isEmpty, let appender else { return }
        if !holdingFileLock {
            while flock(lockFD, LOCK_EX) != 0 {
                if errno != EINTR { throw QuillError.posix("locking", path: directory.lockPath, errno: errno) }
            }
            holdingFileLock = true
            nextIndex = try MetricsFile.prepareForAppend(fd: metricsFD, path: directory.metricsPath)
        }
        let encoder = encoders[nextEncoder]
        nextEncoder ^= 1
        encoder.reset()
        for row in spare {
            switch row.values {
            case .pairs(let pairs):
                encoder.appendRow(index: nextIndex, microseconds: row.microseconds, step: row.step, pairs: pairs)
            case .dictionary(let values):
                encoder.appendRow(index: nextIndex, microseconds: row.microseconds, step: row.step, values: values)
            case .list(let list):
                encoder.appendRow(index: nextIndex, microseconds: row.microseconds, step: row.step, list: list)
            }
            nextIndex += 1
        }
        try appender.submit(encoder)
    }

    /// Waits for the batch in flight and releases the run's file lock.
    private func finishStreaming() throws {
        guard holdingFileLock else { return }
        defer {
            flock(lockFD, LOCK_UN)
            holdingFileLock = false
        }
        try appender?.drain()
    }

    private func completedFlushSnapshot() -> UInt64 {
        lock.lock()
        defer { lock.unlock() }
        return completedFlush
    }

    private func closeFiles() {
        appender?.stop()
        close(metricsFD)
        close(lockFD)
    }

    private func writeAppends(_ batch: [(AppendTarget, [UInt8])]) throws {
        guard !batch.isEmpty else { return }
        var events: [UInt8] = []
        var log: [UInt8] = []
        var system: [UInt8] = []
        for (target, bytes) in batch {
            switch target {
            case .events: events.append(contentsOf: bytes)
            case .log: log.append(contentsOf: bytes)
            case .system: system.append(contentsOf: bytes)
            }
        }
        if !events.isEmpty { try FileIO.append(directory.eventsPath, events) }
        if !log.isEmpty {
            if configuration.logToStandardError {
                FileHandle.standardError.write(Data(log))
            } else {
                try FileIO.append(directory.logPath, log)
            }
        }
        if !system.isEmpty { try FileIO.append(directory.systemPath, system) }
    }
}
