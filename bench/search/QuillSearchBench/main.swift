// Times run searches of the SQLite store at 100,000 runs: the first page, a deep page through cursors,
// a filtered query and a sort on a metric. Release build: see bench/search/README.md.
import Foundation
import GRDB
import QuillCore
import QuillStore
import QuillStoreSQLite

struct Options {
    var runs = 100_000
    var repeats = 9
    var path: String?

    init(_ arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--runs": runs = iterator.next().flatMap(Int.init) ?? runs
            case "--repeats": repeats = iterator.next().flatMap(Int.init) ?? repeats
            case "--db": path = iterator.next()
            default:
                FileHandle.standardError.write(
                    Data("usage: quill-search-bench [--runs N] [--repeats N] [--db PATH]\n".utf8)
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

/// Fills the store with SQL in one transaction, then builds the search index through the store.
func fill(path: String, projectID: Int64, runs: Int) throws {
    let queue = try DatabaseQueue(path: path)
    var random = SplitMix64(seed: 42)
    let base: Int64 = 1_700_000_000_000_000
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
        let statuses = ["completed", "completed", "failed", "running"]
        let teams = ["vision", "nlp", "audio", "speech", "robotics"]
        for index in 0..<runs {
            let id = runID(index)
            // Three runs share each start time, so the order needs its tie-breaker.
            let started = base + Int64(index / 3) * 1_000_000
            let lr = [0.1, 0.03, 0.01, 0.003, 0.001, 0.0003][Int.random(in: 0..<6, using: &random)]
            let batch = [32, 64, 128, 256][Int.random(in: 0..<4, using: &random)]
            let optimizer = ["adam", "sgd", "adamw"][Int.random(in: 0..<3, using: &random)]
            let config = JSONWriter.string([
                "lr": .double(lr), "batch_size": .int(batch), "optimizer": ["name": .string(optimizer)],
            ])
            let accuracy = Double.random(in: 0.5..<1, using: &random)
            try run.execute(arguments: [
                id, projectID, "run-\(index)", statuses[index % statuses.count], started, started, started,
                started + 3_600_000_000, config, JSONWriter.string(["acc": .double(accuracy)]),
            ])
            try param.execute(arguments: [id, "seed", String(index % 1000)])
            try param.execute(arguments: [id, "epochs", "10"])
            try tag.execute(arguments: [id, "team", teams[Int.random(in: 0..<teams.count, using: &random)]])
            try tag.execute(arguments: [id, "stage", index % 2 == 0 ? "prod" : "dev"])
            let lossMin = Double.random(in: 0.05..<2, using: &random)
            try stats.execute(arguments: [id, "loss", lossMin + 0.01, lossMin, lossMin + 1.5])
            let accMax = Double.random(in: 0.4..<1, using: &random)
            try stats.execute(arguments: [id, "acc", accMax - 0.01, 0.1, accMax])
        }
    }
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}

func time(_ repeats: Int, _ body: () async throws -> RunPage) async throws -> (median: Double, min: Double, runs: Int) {
    var samples: [Double] = []
    var count = 0
    _ = try await body()  // warm the page cache and the statement cache
    for _ in 0..<repeats {
        let start = ContinuousClock.now
        let page = try await body()
        let elapsed = ContinuousClock.now - start
        count = page.runs.count
        samples.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
    }
    return (median(samples), samples.min() ?? 0, count)
}

let options = Options(CommandLine.arguments)
let directory =
    options.path.map { ($0 as NSString).deletingLastPathComponent }
    ?? NSTemporaryDirectory() + "quill-search-bench-\(getpid())"
let path = options.path ?? directory + "/quill.db"
let fresh = !FileManager.default.fileExists(atPath: path)
let store = try SQLiteTrackingStore(path: path)
let project = try await store.project(namespace: "bench", displayName: "search")
if fresh {
    let start = ContinuousClock.now
    try fill(path: path, projectID: project.id, runs: options.runs)
    let filled = ContinuousClock.now
    try await store.rebuildSearchIndex()
    print("filled \(options.runs) runs in \(filled - start), search index in \(ContinuousClock.now - filled)")
}
print("store: \(path), \(try await store.counts().runs) runs; medians of \(options.repeats) repeats")
print("")
print("| search | runs returned | median ms | min ms |")
print("|---|---:|---:|---:|")

func report(_ name: String, _ result: (median: Double, min: Double, runs: Int)) {
    print(
        "| \(name) | \(result.runs) | \(String(format: "%.2f", result.median)) | \(String(format: "%.2f", result.min)) |"
    )
}

var search = RunSearch(projectIDs: [project.id])
search.limit = 50
let first = search
report("first page, default order (limit 50)", try await time(options.repeats) { try await store.searchRuns(first) })

let other = try await store.project(namespace: "bench", displayName: "other")
var both = search
both.projectIDs = [project.id, other.id]
let bothSearch = both
report(
    "first page, default order, two projects",
    try await time(options.repeats) { try await store.searchRuns(bothSearch) }
)

// A page 1,000 pages deep (runs 50,000 to 50,049), reached by walking the cursors.
var deep = search
for _ in 0..<1000 { deep.cursor = try await store.searchRuns(deep).nextCursor }
let deepSearch = deep
report(
    "page 1,001 via cursor, default order",
    try await time(options.repeats) { try await store.searchRuns(deepSearch) }
)

var filtered = search
filtered.query = try RunQuery(
    parsing: "params.lr in (0.01, 0.001) and metrics.loss.min < 0.5 or tags.team = \"vision\""
)
let filteredSearch = filtered
report(
    "`params.lr in (0.01, 0.001) and metrics.loss.min < 0.5 or tags.team = \"vision\"`",
    try await time(options.repeats) { try await store.searchRuns(filteredSearch) }
)

var selective = search
selective.query = try RunQuery(parsing: "params.seed = 7 and tags.team = audio and status = failed")
let selectiveSearch = selective
report(
    "`params.seed = 7 and tags.team = audio and status = failed` (no match; 100 runs have seed 7)",
    try await time(options.repeats) { try await store.searchRuns(selectiveSearch) }
)

var sorted = search
sorted.sort = try RunSort(parsing: "metrics.loss.min")
let sortedSearch = sorted
report(
    "sort `metrics.loss.min`, first page",
    try await time(options.repeats) { try await store.searchRuns(sortedSearch) }
)

var sortedDeep = sorted
for _ in 0..<200 { sortedDeep.cursor = try await store.searchRuns(sortedDeep).nextCursor }
let sortedDeepSearch = sortedDeep
report(
    "sort `metrics.loss.min`, page 201 via cursor",
    try await time(options.repeats) { try await store.searchRuns(sortedDeepSearch) }
)

var sortedParam = search
sortedParam.sort = try RunSort(parsing: "params.lr desc")
let sortedParamSearch = sortedParam
report(
    "sort `params.lr desc` (many ties), first page",
    try await time(options.repeats) { try await store.searchRuns(sortedParamSearch) }
)

var sortedStatus = search
sortedStatus.sort = try RunSort(parsing: "status")
let sortedStatusSearch = sortedStatus
report(
    "sort `status` (text, 3 values), first page",
    try await time(options.repeats) { try await store.searchRuns(sortedStatusSearch) }
)

var sortedFiltered = sorted
sortedFiltered.query = filtered.query
let sortedFilteredSearch = sortedFiltered
report(
    "the filter above, sorted by `metrics.loss.min`",
    try await time(options.repeats) { try await store.searchRuns(sortedFilteredSearch) }
)

if options.path == nil { try? FileManager.default.removeItem(atPath: directory) }
