import Dispatch
import Foundation
import Quill
import QuillAPI
import QuillClient
import QuillCore
import Synchronization

// The readers: a local home's run directories through LocalRunStore (a run's effective status, rows a
// resume superseded left out, as `quill runs` and `quill metrics` read them), or a server through the
// Swift client (`Quill.Client` for listings, QuillClient's RemoteRunReader, the reader of
// `quill metrics --server`, for one run's rows).

/// Where a query reads from.
private enum Source {
    case local(QuillHome)
    case server(url: String, apiKey: String?, timeout: Double)
}

/// The most seconds a server read may take in all (`timeout_s`; 60 by default).
private let timeoutRange: ClosedRange<Double> = 0.1...3600

/// The source a query names: `tracking_uri` (a server), `home` (a folder), else `QUILL_TRACKING_URI`, else
/// the home of `QUILL_HOME` or `~/.quill`, as the CLI picks.
private func source(_ query: Request) throws -> Source {
    let home = try query.nonEmptyString("home")
    var uri = try query.nonEmptyString("tracking_uri")
    if home != nil, uri != nil {
        throw QuillError(.invalidArgument, "\(query.name) names both home and tracking_uri; give one of them")
    }
    let timeout = try query.double("timeout_s") ?? 60
    guard timeoutRange.contains(timeout) else {
        throw QuillError(.invalidArgument, "\(query.name).timeout_s must be 0.1 to 3600 seconds, not \(timeout)")
    }
    if let home { return .local(QuillHome(path: home)) }
    let environment = ProcessInfo.processInfo.environment
    if uri == nil { uri = environment["QUILL_TRACKING_URI"].flatMap { $0.isEmpty ? nil : $0 } }
    guard let uri else { return .local(QuillHome.fromEnvironment(environment)) }
    try BlockingHTTPClient.checkServerURL(uri)
    let url = Credentials.normalize(uri)
    let key = try query.nonEmptyString("api_key") ?? Credentials.apiKey(server: url, environment: environment)
    return .server(url: url, apiKey: key, timeout: timeout)
}

/// A date in ISO 8601 (UTC, microseconds), or null.
private func isoTime(_ date: Date?) -> JSONValue {
    date.map { .string(Timestamp.string($0)) } ?? .null
}

// MARK: quill_runs

/// The fields of `quill_runs`'s query.
private let runsFields: Set<String> = [
    "home", "tracking_uri", "api_key", "project", "status", "tag", "limit", "timeout_s",
]

/// Lists runs, newest first, that match every filter given.
///
/// The caller passes a JSON query: the source (`home`, or `tracking_uri` with an optional `api_key`; neither:
/// `QUILL_TRACKING_URI`, else `QUILL_HOME`), and the filters `project`, `status`, `tag` (a label, or
/// `key=value`) and `limit` (no limit when absent), plus `timeout_s` (a server read's deadline in seconds,
/// 60 by default). `*out_json` receives a JSON array of run objects `{"id","name","project","kind","status",
/// "started_at","finished_at","params","config","tags","summary","parent"}` (with `"dir"` for local runs),
/// which the caller frees with `quill_free`. The call blocks the calling thread until the answer is read,
/// and never longer than `timeout_s` for a server.
///
/// - Returns: 0 on success; 1 with `*error` set on failure: `invalid_argument` for a bad query, `not_found`
///   for a project the server does not know, `io` when the server cannot be reached in time.
@_cdecl("quill_runs")
public func quillRuns(_ queryJSON: UnsafePointer<CChar>?, _ outJSON: StringOut, _ error: ErrorOut) -> Int32 {
    answer(error) {
        let out = try required(outJSON, "out_json")
        let query = try Request(queryJSON, "query_json", known: runsFields)
        let project = try query.nonEmptyString("project")
        let status = try runStatus(query)
        let tag = try query.nonEmptyString("tag")
        let limit = try query.int("limit") ?? Int.max
        guard limit >= 0 else { throw QuillError(.invalidArgument, "query_json.limit must be 0 or more, not \(limit)") }
        let runs: [JSONValue]
        switch try source(query) {
        case .local(let home):
            runs = try localRuns(home, project: project, status: status, tag: tag, limit: limit)
        case .server(let url, let apiKey, let timeout):
            let client = try Quill.Client(
                server: url,
                apiKey: apiKey,
                requestTimeout: .milliseconds(Int64(timeout * 1000))
            )
            let found = try waitFor(within: timeout, "listing the runs of \(url)") {
                try await client.runs(status: status, tag: tag, project: project, limit: limit)
            }
            runs = found.map(serverRunJSON)
        }
        try deliver(.array(runs), to: out)
    }
}

/// The `status` filter of a query.
private func runStatus(_ query: Request) throws -> RunStatus? {
    guard let name = try query.string("status") else { return nil }
    guard let parsed = RunStatus(rawValue: name.lowercased()) else {
        throw QuillError(
            .invalidArgument,
            "query_json.status '\(name)' is unknown; use one of \(RunStatus.allCases.map(\.rawValue).joined(separator: ", "))"
        )
    }
    return parsed
}

/// Splits a tag filter as the CLI and the client do: `key=value` (or `key:value`), else a label.
private func tagFilter(_ tag: String) throws -> TagFilter {
    let separator = tag.firstIndex { $0 == "=" || $0 == ":" }
    let key = separator.map { String(tag[..<$0]) } ?? tag
    guard !key.isEmpty else {
        throw QuillError(.invalidArgument, "the tag '\(tag)' has no key; pass a label or key=value")
    }
    return TagFilter(key: key, value: separator.map { String(tag[tag.index(after: $0)...]) })
}

/// The runs of a home, newest first, filtered as `quill runs` filters them.
private func localRuns(
    _ home: QuillHome,
    project: String?,
    status: RunStatus?,
    tag: String?,
    limit: Int
) throws -> [JSONValue] {
    let filter = try tag.map(tagFilter)
    let slug = project.map(Project.slug(for:))
    let matching = LocalRunStore(home: home).list().runs.lazy.filter { run in
        if let slug, run.meta.projectSlug != slug { return false }
        if let status, run.meta.status != status { return false }
        return filter?.matches(run.meta.tagValues) ?? true
    }
    return matching.prefix(limit).map { run in
        let meta = run.meta
        return [
            "id": .string(meta.id.rawValue),
            "name": .string(meta.name),
            "project": .string(meta.project),
            "kind": .string(meta.kind.label),
            "status": .string(meta.status.rawValue),
            "started_at": isoTime(meta.startedAt),
            "finished_at": isoTime(meta.finishedAt),
            "params": .object(meta.params),
            "config": (try? run.directory.readConfig()) ?? .object([:]),
            "tags": .object(meta.tagValues.mapValues(JSONValue.string)),
            "summary": .object(meta.summary),
            "dir": .string(run.directory.path),
            "parent": meta.parent.map { .string($0.rawValue) } ?? .null,
        ]
    }
}

/// A server's run as a run object.
private func serverRunJSON(_ details: APIRunDetails) -> JSONValue {
    let run = details.run
    return [
        "id": .string(run.id),
        "name": .string(run.name),
        "project": details.project.map(JSONValue.string) ?? .null,
        "kind": .string(run.kind),
        "status": .string(run.status),
        "started_at": isoTime(run.startedAt),
        "finished_at": isoTime(run.endedAt),
        "params": .object(details.params),
        "config": .object(run.config),
        "tags": .object(details.tags.mapValues(JSONValue.string)),
        "summary": .object(run.summary),
        "parent": run.parent.map(JSONValue.string) ?? .null,
    ]
}

// MARK: quill_run_metrics

/// The fields of `quill_run_metrics`'s query.
private let metricsFields: Set<String> = ["run", "home", "tracking_uri", "api_key", "keys", "timeout_s"]

/// A run's metric rows as a table.
///
/// The caller passes a JSON query: `run` (an id, unique id prefix or name; a server takes an id or a
/// name), the source as for `quill_runs`, and optionally `keys` (the columns wanted, in order; all keys,
/// sorted, when absent). `*out_json` receives `{"columns":["_idx","_step","_time",key…],"rows":[[…],…]}`,
/// one row per logged row that holds a wanted key, oldest first, rows a resume superseded left out; a
/// missing value is null, non-finite values are the strings `"NaN"`, `"Infinity"`, `"-Infinity"`, `_time`
/// is seconds since the epoch. The caller frees it with `quill_free`.
///
/// - Returns: 0 on success; 1 with `*error` set on failure: `not_found` or `ambiguous` for the run,
///   `invalid_argument` for a bad query, `io` when the server cannot be reached in time.
@_cdecl("quill_run_metrics")
public func quillRunMetrics(_ queryJSON: UnsafePointer<CChar>?, _ outJSON: StringOut, _ error: ErrorOut) -> Int32 {
    answer(error) {
        let out = try required(outJSON, "out_json")
        let query = try Request(queryJSON, "query_json", known: metricsFields)
        guard let reference = try query.nonEmptyString("run") else {
            throw QuillError(.invalidArgument, "query_json.run is missing; pass the run's id, id prefix or name")
        }
        let wanted = try query.strings("keys") ?? []
        let rows: [MetricRow]
        switch try source(query) {
        case .local(let home):
            let found = try LocalRunStore(home: home).resolve(reference)
            rows = try found.directory.readMetrics(meta: found.meta).rows
        case .server(let url, let apiKey, let timeout):
            let reader = RemoteRunReader(client: BlockingHTTPClient(baseURL: url, apiKey: apiKey, timeout: timeout))
            rows = try waitForBlocking(within: timeout, "reading the metrics of run '\(reference)' from \(url)") {
                try reader.metricRows(of: reader.run(reference, project: nil), keys: wanted, maxPoints: nil)
            }
        }
        try deliver(metricTable(rows, wanted: wanted), to: out)
    }
}

/// Rows as columns and arrays: the wanted keys in order (every key, sorted, when none is wanted), and only
/// the rows that hold one of them.
private func metricTable(_ rows: [MetricRow], wanted: [String]) -> JSONValue {
    var keys = wanted
    if keys.isEmpty {
        var all = Set<String>()
        for row in rows { all.formUnion(row.values.keys) }
        keys = all.sorted()
    } else {
        var seen = Set<String>()
        keys = keys.filter { seen.insert($0).inserted }
    }
    var table: [JSONValue] = []
    table.reserveCapacity(rows.count)
    for row in rows where wanted.isEmpty || keys.contains(where: { row.values[$0] != nil }) {
        var cells: [JSONValue] = [
            .int(row.index), row.step.map(JSONValue.int) ?? .null, .double(row.timestamp.timeIntervalSince1970),
        ]
        cells.reserveCapacity(3 + keys.count)
        for key in keys { cells.append(row.values[key].map(JSONValue.double) ?? .null) }
        table.append(.array(cells))
    }
    return ["columns": .array((["_idx", "_step", "_time"] + keys).map(JSONValue.string)), "rows": .array(table)]
}

// MARK: Waiting for async work

/// Where an async call's result waits for the blocked caller.
private final class ResultSlot<Value: Sendable>: Sendable {
    private let result = Mutex<Result<Value, any Error>?>(nil)

    func set(_ value: Result<Value, any Error>) {
        result.withLock { $0 = value }
    }

    func get() -> Result<Value, any Error>? {
        result.withLock { $0 }
    }
}

/// Runs blocking work (HTTP requests that wait for their answer) on a Dispatch thread and blocks the calling
/// thread until it ends, at most `seconds` in all however many requests the work sends: past that the caller
/// gets an `io` error and the work ends by its own request timeouts.
private func waitForBlocking<Value: Sendable>(
    within seconds: Double,
    _ what: String,
    _ work: @escaping @Sendable () throws -> Value
) throws -> Value {
    let slot = ResultSlot<Value>()
    let done = DispatchSemaphore(value: 0)
    DispatchQueue.global().async {
        slot.set(Result { try work() })
        done.signal()
    }
    guard done.wait(timeout: .now() + .milliseconds(Int(seconds * 1000))) == .success, let result = slot.get() else {
        throw QuillError(
            .io,
            "\(what) did not finish within \(seconds) s; check that the server is up, or pass a larger timeout_s"
        )
    }
    return try result.get()
}

/// Runs async work on the concurrency runtime's pool and blocks the calling thread (a C caller's, never a
/// pool thread) until it ends, at most `seconds`: past that the work is cancelled and an `io` error says
/// what did not finish.
private func waitFor<Value: Sendable>(
    within seconds: Double,
    _ what: String,
    _ work: @escaping @Sendable () async throws -> Value
) throws -> Value {
    let slot = ResultSlot<Value>()
    let done = DispatchSemaphore(value: 0)
    let task = Task.detached {
        do {
            slot.set(.success(try await work()))
        } catch {
            slot.set(.failure(error))
        }
        done.signal()
    }
    guard done.wait(timeout: .now() + .milliseconds(Int(seconds * 1000))) == .success, let result = slot.get() else {
        task.cancel()
        throw QuillError(
            .io,
            "\(what) did not finish within \(seconds) s; check that the server is up, or pass a larger timeout_s"
        )
    }
    return try result.get()
}
