// Times run searches of the SQLite store (or, with --store postgres://…, the PostgreSQL store) at 100,000
// runs: the first page, a deep page through cursors, a filtered query and a sort on a metric. Release build:
// see bench/search/README.md.
import Foundation
import GRDB
import Logging
import PostgresNIO
import QuillCore
import QuillStore
import QuillStorePostgres
import QuillStoreSQLite

struct Options {
    var runs = 100_000
    var repeats = 9
    var path: String?
    var postgres: String?

    init(_ arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--runs": runs = iterator.next().flatMap(Int.init) ?? runs
            case "--repeats": repeats = iterator.next().flatMap(Int.init) ?? repeats
            case "--db": path = iterator.next()
            case "--store": postgres = iterator.next()
            default:
                FileHandle.standardError.write(
                    Data("usage: quill-search-bench [--runs N] [--repeats N] [--db PATH | --store postgres://…]\n".utf8)
                )
                exit(2)
            }
        }
    }
}

func runID(_ index: Int) -> String {
    let text = String(index, radix: 36)
    return String(repeating: "0", count: max(0, 8 - text.count)) + text
}

/// One run of the fill, the same for both stores.
struct BenchRun {
    var id: String
    var name: String
    var status: String
    var started: Int64
    var config: String
    var summary: String
    var params: [(String, String)]
    var tags: [(String, String)]
    /// Key, last, min, max.
    var stats: [(String, Double, Double, Double)]
}

/// The runs of the fill, from a fixed seed.
func benchRuns(_ count: Int) -> [BenchRun] {
    var random = SplitMix64(seed: 42)
    let base: Int64 = 1_700_000_000_000_000
    let statuses = ["completed", "completed", "failed", "running"]
    let teams = ["vision", "nlp", "audio", "speech", "robotics"]
    return (0..<count).map { index in
        // Three runs share each start time, so the order needs its tie-breaker.
        let started = base + Int64(index / 3) * 1_000_000
        let lr = [0.1, 0.03, 0.01, 0.003, 0.001, 0.0003][Int.random(in: 0..<6, using: &random)]
        let batch = [32, 64, 128, 256][Int.random(in: 0..<4, using: &random)]
        let optimizer = ["adam", "sgd", "adamw"][Int.random(in: 0..<3, using: &random)]
        let config = JSONWriter.string([
            "lr": .double(lr), "batch_size": .int(batch), "optimizer": ["name": .string(optimizer)],
        ])
        let accuracy = Double.random(in: 0.5..<1, using: &random)
        let team = teams[Int.random(in: 0..<teams.count, using: &random)]
        let lossMin = Double.random(in: 0.05..<2, using: &random)
        let accMax = Double.random(in: 0.4..<1, using: &random)
        return BenchRun(
            id: runID(index),
            name: "run-\(index)",
            status: statuses[index % statuses.count],
            started: started,
            config: config,
            summary: JSONWriter.string(["acc": .double(accuracy)]),
            params: [("seed", String(index % 1000)), ("epochs", "10")],
            tags: [("team", team), ("stage", index % 2 == 0 ? "prod" : "dev")],
            stats: [("loss", lossMin + 0.01, lossMin, lossMin + 1.5), ("acc", accMax - 0.01, 0.1, accMax)]
        )
    }
}

/// Fills the SQLite store with SQL in one transaction (the search index is built through the store).
func fill(path: String, projectID: Int64, runs: [BenchRun]) throws {
    let queue = try DatabaseQueue(path: path)
    try queue.write { db in
        let run = try db.makeStatement(
            sql: """
                INSERT INTO runs (id, project_id, name, kind, status, created_at, updated_at, started_at, ended_at,
                                  user, host, config, summary)
                VALUES (?, ?, ?, 'training', ?, ?, ?, ?, ?, 'ada', 'gpu-1', ?, ?)
                """
        )
        let param = try db.makeStatement(sql: "INSERT INTO params (run_id, key, value) VALUES (?, ?, ?)")
        let tag = try db.makeStatement(sql: "INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?)")
        let stats = try db.makeStatement(
            sql: """
                INSERT INTO metric_stats (run_id, key, count, last_idx, last_value, last_step, max_step, min_value, max_value)
                VALUES (?, ?, 100, 99, ?, 99, 99, ?, ?)
                """
        )
        for bench in runs {
            try run.execute(arguments: [
                bench.id, projectID, bench.name, bench.status, bench.started, bench.started, bench.started,
                bench.started + 3_600_000_000, bench.config, bench.summary,
            ])
            for (key, value) in bench.params { try param.execute(arguments: [bench.id, key, value]) }
            for (key, value) in bench.tags { try tag.execute(arguments: [bench.id, key, value]) }
            for (key, last, min, max) in bench.stats { try stats.execute(arguments: [bench.id, key, last, min, max]) }
        }
    }
}

/// Fills the PostgreSQL store with SQL, 1,000 runs a transaction (the search index is built through the store).
func fill(_ store: PostgresStore, projectID: Int64, runs: [BenchRun]) async throws {
    let logger = Logger(label: "quill-search-bench")
    func insert(_ prefix: String, _ rows: [[SQLValue]], on connection: PostgresConnection) async throws {
        guard let width = rows.first?.count else { return }
        let row = "(" + Array(repeating: "?", count: width).joined(separator: ", ") + ")"
        let sql = prefix + " VALUES " + Array(repeating: row, count: rows.count).joined(separator: ", ")
        let statement = SQLFragment(sql, Array(rows.joined()))
        var binds = PostgresBindings(capacity: statement.arguments.count)
        for value in statement.arguments {
            switch value {
            case .null: binds.appendNull()
            case .integer(let number): binds.append(number)
            case .real(let number): binds.append(number)
            case .text(let text): binds.append(text)
            }
        }
        try await connection.query(
            PostgresQuery(unsafeSQL: statement.text(for: .postgres), binds: binds),
            logger: logger
        )
    }
    var start = 0
    while start < runs.count {
        let chunk = runs[start..<min(start + 1000, runs.count)]
        start = chunk.endIndex
        try await store.transaction { connection in
            try await insert(
                """
                INSERT INTO runs (id, project_id, name, kind, status, created_at, updated_at, started_at, ended_at,
                                  "user", host, config, summary)
                """,
                chunk.map { bench in
                    [
                        .text(bench.id), .integer(projectID), .text(bench.name), .text("training"), .text(bench.status),
                        .integer(bench.started), .integer(bench.started), .integer(bench.started),
                        .integer(bench.started + 3_600_000_000), .text("ada"), .text("gpu-1"), .text(bench.config),
                        .text(bench.summary),
                    ]
                },
                on: connection
            )
            try await insert(
                "INSERT INTO params (run_id, key, value)",
                chunk.flatMap { bench in bench.params.map { [.text(bench.id), .text($0.0), .text($0.1)] } },
                on: connection
            )
            try await insert(
                "INSERT INTO tags (run_id, key, value)",
                chunk.flatMap { bench in bench.tags.map { [.text(bench.id), .text($0.0), .text($0.1)] } },
                on: connection
            )
            try await insert(
                """
                INSERT INTO metric_stats (run_id, key, count, last_idx, last_value, last_step, max_step, min_value,
                                          max_value)
                """,
                chunk.flatMap { bench in
                    bench.stats.map { key, last, min, max in
                        [
                            .text(bench.id), .text(key), .integer(100), .integer(99), .real(last), .integer(99),
                            .integer(99), .real(min), .real(max),
                        ]
                    }
                },
                on: connection
            )
        }
    }
}

/// A project of the PostgreSQL store, created with SQL when missing (the bench needs only its id).
func project(_ store: PostgresStore, _ name: String) async throws -> Int64 {
    let logger = Logger(label: "quill-search-bench")
    return try await store.withConnection { connection in
        var id: Int64?
        let rows = try await connection.query(
            """
            INSERT INTO projects (namespace, slug, display_name, created_at) VALUES ('bench', \(name), \(name), 0)
            ON CONFLICT (namespace, slug) DO UPDATE SET display_name = EXCLUDED.display_name RETURNING id
            """,
            logger: logger
        )
        for try await value in rows.decode(Int64.self) { id = value }
        guard let id else { throw QuillError(.io, "could not create the project \(name)") }
        return id
    }
}

/// The number of runs of the PostgreSQL store.
func runCount(_ store: PostgresStore) async throws -> Int64 {
    let logger = Logger(label: "quill-search-bench")
    return try await store.withConnection { connection in
        var count: Int64 = 0
        for try await value in try await connection.query("SELECT count(*) FROM runs", logger: logger)
            .decode(Int64.self)
        {
            count = value
        }
        return count
    }
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}

/// A store searched by the bench, with its two projects.
struct Target: Sendable {
    let name: String
    let store: any TrackingStore
    let projectID: Int64
    let otherID: Int64
}

/// Times one search on every target, interleaved (each repeat runs it on each store in turn), after one
/// warm-up each: medians, minimums and the runs of the last page, per target.
func time(
    _ repeats: Int,
    _ searches: [(any TrackingStore, RunSearch)]
) async throws -> [(
    median: Double, min: Double, runs: Int
)] {
    var samples = Array(repeating: [Double](), count: searches.count)
    var counts = Array(repeating: 0, count: searches.count)
    // Warm the page cache and the statement cache.
    for (store, search) in searches { _ = try await store.searchRuns(search) }
    for _ in 0..<repeats {
        for (index, (store, search)) in searches.enumerated() {
            let start = ContinuousClock.now
            let page = try await store.searchRuns(search)
            let elapsed = ContinuousClock.now - start
            counts[index] = page.runs.count
            samples[index].append(
                Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000
            )
        }
    }
    return samples.indices.map { (median(samples[$0]), samples[$0].min() ?? 0, counts[$0]) }
}

/// A search after `pages` pages of it, reached by walking the cursors.
func deep(_ store: any TrackingStore, _ search: RunSearch, pages: Int) async throws -> RunSearch {
    var search = search
    for _ in 0..<pages { search.cursor = try await store.searchRuns(search).nextCursor }
    return search
}

let options = Options(CommandLine.arguments)
var targets: [Target] = []
var service: Task<Void, any Error>?
if let url = options.postgres {
    let postgres = try PostgresStore(location: try PostgresLocation(parsing: url))
    service = Task { try await postgres.run() }
    let projectID = try await project(postgres, "search")
    let otherID = try await project(postgres, "other")
    if try await runCount(postgres) == 0 {
        let start = ContinuousClock.now
        try await fill(postgres, projectID: projectID, runs: benchRuns(options.runs))
        let filled = ContinuousClock.now
        try await postgres.rebuildSearchIndex()
        try await postgres.withConnection { connection in
            _ = try await connection.query("ANALYZE", logger: Logger(label: "quill-search-bench"))
        }
        print(
            "PostgreSQL: filled \(options.runs) runs in \(filled - start), search index in \(ContinuousClock.now - filled)"
        )
    }
    print("PostgreSQL: \(url), \(try await runCount(postgres)) runs")
    targets.append(Target(name: "PostgreSQL", store: postgres, projectID: projectID, otherID: otherID))
}
let directory =
    options.path.map { ($0 as NSString).deletingLastPathComponent }
    ?? NSTemporaryDirectory() + "quill-search-bench-\(getpid())"
if options.path != nil || options.postgres == nil {
    let path = options.path ?? directory + "/quill.db"
    let fresh = !FileManager.default.fileExists(atPath: path)
    let sqlite = try SQLiteTrackingStore(path: path)
    let projectID = try await sqlite.project(namespace: "bench", displayName: "search").id
    let otherID = try await sqlite.project(namespace: "bench", displayName: "other").id
    if fresh {
        let start = ContinuousClock.now
        try fill(path: path, projectID: projectID, runs: benchRuns(options.runs))
        let filled = ContinuousClock.now
        try await sqlite.rebuildSearchIndex()
        print(
            "SQLite: filled \(options.runs) runs in \(filled - start), search index in \(ContinuousClock.now - filled)"
        )
    }
    print("SQLite: \(path), \(try await sqlite.counts().runs) runs")
    targets.insert(Target(name: "SQLite", store: sqlite, projectID: projectID, otherID: otherID), at: 0)
}
print("medians of \(options.repeats) repeats, the stores interleaved; load average \(loadAverage())")
print("")
print(
    "| search | runs returned | " + targets.map { "\($0.name) median ms | \($0.name) min ms" }.joined(separator: " | ")
        + " |"
)
print("|---|---:|" + targets.map { _ in "---:|---:" }.joined(separator: "|") + "|")

/// Times a search made for each target (`make` gets the target's project ids) and prints a row.
func report(
    _ name: String,
    _ targets: [Target],
    repeats: Int,
    deepPages: Int = 0,
    _ make: (Target) throws -> RunSearch
) async throws {
    var searches: [(any TrackingStore, RunSearch)] = []
    for target in targets {
        searches.append((target.store, try await deep(target.store, try make(target), pages: deepPages)))
    }
    let results = try await time(repeats, searches)
    let runs = Set(results.map(\.runs)).sorted().map { String($0) }.joined(separator: " / ")
    let cells = results.map { String(format: "%.2f | %.2f", $0.median, $0.min) }.joined(separator: " | ")
    print("| \(name) | \(runs) | \(cells) |")
}

/// The one-minute load average.
func loadAverage() -> String {
    var loads = [0.0, 0.0, 0.0]
    return getloadavg(&loads, 3) > 0 ? String(format: "%.2f", loads[0]) : "?"
}

func search(_ target: Target, query: String? = nil, sort: String? = nil) throws -> RunSearch {
    var search = RunSearch(projectIDs: [target.projectID])
    search.limit = 50
    search.query = try query.map { try RunQuery(parsing: $0) }
    search.sort = try sort.map { try RunSort(parsing: $0) }
    return search
}

let filter = "params.lr in (0.01, 0.001) and metrics.loss.min < 0.5 or tags.team = \"vision\""
let repeats = options.repeats
try await report("first page, default order (limit 50)", targets, repeats: repeats) { try search($0) }
try await report("first page, default order, two projects", targets, repeats: repeats) { target in
    var both = try search(target)
    both.projectIDs = [target.projectID, target.otherID]
    return both
}
// A page 1,000 pages deep (runs 50,000 to 50,049), reached by walking the cursors.
try await report("page 1,001 via cursor, default order", targets, repeats: repeats, deepPages: 1000) {
    try search($0)
}
try await report("`\(filter)`", targets, repeats: repeats) { try search($0, query: filter) }
try await report(
    "`params.seed = 7 and tags.team = audio and status = failed` (no match; 100 runs have seed 7)",
    targets,
    repeats: repeats
) { try search($0, query: "params.seed = 7 and tags.team = audio and status = failed") }
try await report("`params.seed = 7 or params.seed = 8` (200 runs, no early stop)", targets, repeats: repeats) {
    try search($0, query: "params.seed = 7 or params.seed = 8")
}
try await report("sort `metrics.loss.min`, first page", targets, repeats: repeats) {
    try search($0, sort: "metrics.loss.min")
}
try await report("sort `metrics.loss.min`, page 201 via cursor", targets, repeats: repeats, deepPages: 200) {
    try search($0, sort: "metrics.loss.min")
}
try await report("sort `params.lr desc` (many ties), first page", targets, repeats: repeats) {
    try search($0, sort: "params.lr desc")
}
try await report("sort `status` (text, 3 values), first page", targets, repeats: repeats) {
    try search($0, sort: "status")
}
try await report("the filter above, sorted by `metrics.loss.min`", targets, repeats: repeats) {
    try search($0, query: filter, sort: "metrics.loss.min")
}
print("")
print("load average at the end \(loadAverage())")

service?.cancel()
if options.path == nil, options.postgres == nil { try? FileManager.default.removeItem(atPath: directory) }
