import Foundation
import QuillAPI
package import QuillCore
import Synchronization

/// Uploads a run directory to a server, picking up where the last upload stopped.
///
/// The run directory is the write-ahead log: the uploader reads what was appended to `metrics.jsonl`,
/// `events.jsonl` and `output.log` since its last successful request and sends it through the batch
/// endpoint. Every metric row leaves with an `_idx`: its own, or for a row written without one (a
/// Python script appending `{"step", "loss"}`) the number ``MetricsFile/read(_:)`` gives it, the previous
/// row's index plus one, counting from 0. The server ignores rows it already has, so uploading twice,
/// under another spelling of the server's URL, after `sync.json` was lost, or after a crash between a
/// request and saving the offsets never duplicates a point. Offsets are kept in the run's `sync.json` per
/// server, keyed by the server's identity (`server_id` of `GET /api/v1/status`), not by its URL.
package struct RunUploader: Sendable {
    /// What one pass sent.
    package struct Report: Sendable, Hashable {
        /// Metric rows sent.
        package var rowsSent = 0
        /// Metric points the server stored (the rest it already had).
        package var pointsWritten = 0
        /// Whether the server now has everything the directory holds, final status included.
        package var complete = false
        /// Artifact files whose bytes were sent.
        package var artifactsUploaded = 0
        /// The bytes of those files.
        package var artifactBytesSent: Int64 = 0
        /// Artifact files the server refused (too large, over quota, a path it does not accept), with why.
        package var artifactsRefused: [String] = []
    }

    let directory: RunDirectory
    let client: BlockingHTTPClient
    /// Kept-alive connections for metric batches to an `http://` server, one per batch in flight (none for
    /// `https://`, whose batches go through ``client``).
    let batchConnections: [PlainHTTPConnection]
    /// Rows per request for system samples.
    var rowsPerRequest = 1000
    /// Metric points per batch request: large enough that the server's per-request work is small beside
    /// its per-point work, small enough to stay far below its body limit (under 1 MiB per 10,000 points).
    var pointsPerRequest = 10000
    /// The most bytes of metrics in one request, whatever the point count.
    var bytesPerRequest = 8 << 20
    /// Metric batches on their way at once: with two, the server decodes one while it stores the other.
    static let batchesInFlight = 2
    /// The server's identity, asked once per uploader, and whether it has the run.
    let identity = ServerIdentity()
    /// Added to the `_idx` of every metric row sent (see ``MetricRowsWriter/indexBase``): a job's worker
    /// gives each attempt its own range, so a retried job's rows never collide with an earlier attempt's.
    package var indexBase = 0
    /// Whether `output.log` is uploaded. A job's worker turns it off: it sends the job's output itself,
    /// fenced by the attempt, so each line travels one path.
    package var uploadsLog = true
    /// Whether files under `artifacts/` that no `artifact` event names are uploaded too (a job's program in
    /// any language writes its files there).
    package var uploadsUnloggedArtifacts = false

    package init(directory: RunDirectory, serverURL: String, apiKey: String?, timeout: Double = 30) {
        self.directory = directory
        self.client = BlockingHTTPClient(baseURL: serverURL, apiKey: apiKey, timeout: timeout)
        let baseURL = client.baseURL
        self.batchConnections = (0..<Self.batchesInFlight).compactMap { _ in
            PlainHTTPConnection(baseURL: baseURL, apiKey: apiKey, timeout: timeout)
        }
    }

    /// The key of this server's entry in `sync.json`: `id:<server_id>`, or the URL for a server that does
    /// not report an id.
    func serverKey() throws -> String {
        if let known = identity.key { return known }
        let status = try client.send("GET", APIPath.status).body.flatMap {
            try? APIDecoder().decode(APIStatus.self, from: $0)
        }
        let key = status?.serverID.map { "id:" + $0 } ?? client.baseURL
        identity.key = key
        return key
    }

    /// Sends everything new, then the final status when the run has ended.
    package func syncOnce() throws -> Report {
        let meta = try directory.readMeta()
        var state = SyncState.load(directory, server: try serverKey(), url: client.baseURL)
        var report = Report()
        if !identity.runKnown {
            try ensureRemoteRun(meta)
            identity.runKnown = true
        }
        if state.metricsNextIndex == nil {
            // First pass, or an entry an earlier version wrote (maybe under the URL): number the rows
            // already sent once, and keep the entry under the server's identity from now on.
            state.metricsNextIndex = try Self.nextIndex(of: directory.metricsPath, before: state.metricsOffset)
            try state.save(directory)
        }

        // Metrics: complete lines after the offset, written as rows into requests of about `pointsPerRequest`.
        try syncMetrics(meta, state: &state, report: &report)

        // System samples, as metrics named `system/<field>`, numbered by their line in `system.jsonl`.
        try forEachChunk(of: directory.systemPath, from: state.systemOffset) { lines, endOffset in
            var metrics: [APIMetric] = []
            for line in lines {
                let number = state.systemLines
                state.systemLines += 1
                guard case .object(let fields) = try? JSONParser.parse(line) else { continue }
                let time = fields["_timestamp"]?.stringValue.flatMap(Timestamp.parse)
                for (key, value) in fields where !key.hasPrefix("_") {
                    guard let reading = value.doubleValue else { continue }
                    metrics.append(
                        APIMetric(key: "system/" + key, value: reading, step: number, timestamp: time, idx: number)
                    )
                }
            }
            for start in stride(from: 0, to: metrics.count, by: rowsPerRequest) {
                let chunk = Array(metrics[start..<min(metrics.count, start + rowsPerRequest)])
                try request("POST", APIPath.runBatch(meta.id.rawValue), APIBatch(metrics: chunk))
            }
            state.systemOffset = endOffset
            try state.save(directory)
        }

        // Events: params, tags and links in one batch; summaries merged with a PATCH.
        try forEachChunk(of: directory.eventsPath, from: state.eventsOffset) { lines, endOffset in
            var params: [String: JSONValue] = [:]
            var tags: [String: String] = [:]
            var links: [APILink] = []
            var summary: [String: JSONValue] = [:]
            var artifacts: [RunEvent] = []
            for line in lines {
                guard case .object(let members) = try? JSONParser.parse(line), let event = RunEvent(members: members)
                else { continue }
                switch event.kind {
                case .param:
                    if let key = event.fields["key"]?.stringValue { params[key] = event.fields["value"] ?? .null }
                case .tag:
                    if let key = event.fields["key"]?.stringValue {
                        // A tag is text; a value written as another JSON value goes as its JSON text.
                        tags[key] = event.fields["value"].map { $0.stringValue ?? $0.description } ?? ""
                    }
                case .link:
                    if let label = event.fields["label"]?.stringValue, let url = event.fields["url"]?.stringValue {
                        links.append(APILink(label: label, url: url))
                    }
                case .summary:
                    summary.merge(event.fields["values"]?.objectValue ?? [:]) { _, new in new }
                case .artifact:
                    artifacts.append(event)
                case .status, .resume:
                    break
                }
            }
            if !params.isEmpty || !tags.isEmpty || !links.isEmpty {
                try request(
                    "POST",
                    APIPath.runBatch(meta.id.rawValue),
                    APIBatch(params: params, tags: tags, links: links)
                )
            }
            if !summary.isEmpty {
                try request("PATCH", APIPath.run(meta.id.rawValue), APIRunUpdate(summary: summary))
            }
            try uploadArtifacts(artifacts, run: meta.id, state: &state, report: &report)
            state.eventsOffset = endOffset
            try state.save(directory)
        }

        if uploadsUnloggedArtifacts {
            try uploadUnloggedArtifacts(run: meta.id, state: &state, report: &report)
        }

        // Log lines.
        try forEachChunk(of: directory.logPath, from: uploadsLog ? state.logOffset : nil) { lines, endOffset in
            let logs = lines.map { bytes in
                let line = LogLine(parsing: String(decoding: bytes, as: UTF8.self))
                return APILogLine(timestamp: line.timestamp, level: line.level?.rawValue, message: line.message)
            }
            for start in stride(from: 0, to: logs.count, by: 1000) {
                try request(
                    "POST",
                    APIPath.runBatch(meta.id.rawValue),
                    APIBatch(logs: Array(logs[start..<min(logs.count, start + 1000)]))
                )
            }
            state.logOffset = endOffset
            try state.save(directory)
        }

        // The end of the run.
        if meta.status.isTerminal {
            let update = APIRunUpdate(status: meta.status.rawValue, endedAt: meta.finishedAt, summary: meta.summary)
            try request("PATCH", APIPath.run(meta.id.rawValue), update)
            report.complete = true
        }
        return report
    }

    /// Gives a row without `_idx` the index readers give it and returns the index after the row's, as
    /// ``MetricsFile/read(_:)`` numbers rows: a row's `_idx`, or else the previous row's plus one.
    static func number(_ members: inout [String: JSONValue], next: Int) -> Int {
        let index: Int
        if let given = members["_idx"]?.intValue {
            index = given
        } else {
            index = next
            members["_idx"] = .int(index)
        }
        let (after, overflow) = index.addingReportingOverflow(1)
        return overflow ? index : after
    }

    /// The index the row at byte `offset` of `metrics.jsonl` gets when it has no `_idx`: the rows before
    /// it numbered as ``number(_:next:)`` numbers them. Read once, when `sync.json` has an offset but no
    /// index (written by an earlier version).
    static func nextIndex(of path: String, before offset: Int64) throws -> Int {
        guard offset > 0, let bytes = try FileIO.read(path) else { return 0 }
        var next = 0
        for line in bytes.prefix(Int(min(offset, Int64(bytes.count)))).split(separator: UInt8(ascii: "\n")) {
            guard let value = try? JSONParser.parse(line), case .object(var members) = value else { continue }
            next = number(&members, next: next)
        }
        return next
    }

    func ensureRemoteRun(_ meta: RunMeta) throws {
        let path = APIPath.run(meta.id.rawValue)
        let existing = try client.send("GET", path)
        if existing.status == 200 { return }
        guard existing.status == 404 else { throw failure(existing, "GET \(path)") }
        var body = APIRunCreate(
            id: meta.id.rawValue,
            project: meta.project,
            name: meta.name,
            description: meta.description,
            kind: meta.kind.label,
            startedAt: meta.startedAt,
            config: (try? directory.readConfig())?.objectValue ?? [:],
            tags: meta.tagValues
        )
        if let host = meta.host {
            body.user = host.user
            body.host = host.hostname
            body.environment = host.json.objectValue
        }
        body.git = meta.git?.json.objectValue
        if let parent = meta.parent, try client.send("GET", APIPath.run(parent.rawValue)).status == 200 {
            body.parent = parent.rawValue
        }
        let created = try client.send("POST", APIPath.runs, json: try APIEncoder().encode(body))
        guard created.status == 201 else { throw failure(created, "POST \(APIPath.runs)") }
    }

    /// Sends a wire-type body; throws for an answer that is not 2xx.
    @discardableResult
    func request(_ method: String, _ path: String, _ body: some Encodable) throws -> JSONValue? {
        let response = try client.send(method, path, json: try APIEncoder().encode(body))
        guard (200..<300).contains(response.status) else {
            // The run may be gone (a server restored from a backup): create it again on the next pass.
            if response.status == 404 { identity.runKnown = false }
            throw failure(response, "\(method) \(path)")
        }
        return response.body
    }

    func failure(_ response: BlockingHTTPClient.Response, _ what: String) -> QuillError {
        return QuillError(.io, "\(what) on \(client.baseURL) failed: \(Self.errorMessage(response))")
    }

    /// The message of an error answer (``APIErrorBody``), or its HTTP status.
    static func errorMessage(_ response: BlockingHTTPClient.Response) -> String {
        response.body.flatMap { try? APIDecoder().decode(APIErrorBody.self, from: $0) }?.error.message
            ?? "HTTP \(response.status)"
    }

    /// Calls `body` with the complete lines after `offset`, about 4 MiB at a time, and the offset just past
    /// them. An unfinished last line is left for the next pass.
    private func forEachChunk(
        of path: String,
        from start: Int64?,
        _ body: ([ArraySlice<UInt8>], Int64) throws -> Void
    ) throws {
        guard let offset = start else { return }  // a file this uploader leaves alone
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var position = offset
        var size = 4 << 20
        while true {
            var buffer = [UInt8](repeating: 0, count: size)
            let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(position)) }
            if count <= 0 { return }
            guard let lastNewline = buffer[0..<count].lastIndex(of: UInt8(ascii: "\n")) else {
                if count < size { return }  // an unfinished line at the end of the file
                size *= 2  // one line longer than the buffer: read more at once
                continue
            }
            let lines = buffer[...lastNewline].split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
            position += Int64(lastNewline + 1)
            try body(lines, position)
        }
    }
}

/// What an uploader learned about its server, shared by its copies: its identity, and whether it has the
/// run (asked once, then again only after the server answered 404 for it).
final class ServerIdentity: Sendable {
    private let value = Mutex<String?>(nil)
    private let known = Mutex(false)

    var key: String? {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }

    var runKnown: Bool {
        get { known.withLock { $0 } }
        set { known.withLock { $0 = newValue } }
    }
}

/// Upload progress of one run to one server, kept in the run's `sync.json` under the server's key.
struct SyncState {
    var server: String
    var metricsOffset: Int64 = 0
    /// The `_idx` the next metric row without one gets; `nil` when an earlier version wrote the entry.
    var metricsNextIndex: Int?
    var eventsOffset: Int64 = 0
    var logOffset: Int64 = 0
    var systemOffset: Int64 = 0
    /// Lines of `system.jsonl` read so far: the next sample's number.
    var systemLines = 0
    /// Artifact files done, by path: `{"marker": "SIZE:MTIME_NS", "sha256": …}` (or `"refused"`).
    var artifacts: [String: JSONValue] = [:]

    static func path(_ directory: RunDirectory) -> String { directory.file("sync.json") }

    /// The entry for `server`, or else one an earlier version kept under the server's `url`.
    static func load(_ directory: RunDirectory, server: String, url: String? = nil) -> SyncState {
        var state = SyncState(server: server)
        guard let bytes = try? FileIO.read(path(directory)), let json = try? JSONParser.parse(bytes),
            let entry = json["servers"]?[server] ?? url.flatMap({ json["servers"]?[$0] })
        else { return state }
        state.metricsOffset = Int64(entry["metrics_offset"]?.intValue ?? 0)
        state.metricsNextIndex = entry["metrics_next_idx"]?.intValue
        state.eventsOffset = Int64(entry["events_offset"]?.intValue ?? 0)
        state.logOffset = Int64(entry["log_offset"]?.intValue ?? 0)
        state.systemOffset = Int64(entry["system_offset"]?.intValue ?? 0)
        state.systemLines = entry["system_lines"]?.intValue ?? 0
        state.artifacts = entry["artifacts"]?.objectValue ?? [:]
        return state
    }

    func save(_ directory: RunDirectory) throws {
        let file = Self.path(directory)
        var servers = (try? FileIO.read(file)).flatMap { try? JSONParser.parse($0) }?["servers"]?.objectValue ?? [:]
        servers[server] = [
            "metrics_offset": .int(Int(metricsOffset)),
            "metrics_next_idx": metricsNextIndex.map(JSONValue.int) ?? .null,
            "events_offset": .int(Int(eventsOffset)),
            "log_offset": .int(Int(logOffset)), "system_offset": .int(Int(systemOffset)),
            "system_lines": .int(systemLines), "artifacts": .object(artifacts),
            "updated_at": .string(Timestamp.string(Date())),
        ]
        try FileIO.replaceAtomically(file, with: JSONWriter.pretty(["servers": .object(servers)]))
    }
}
