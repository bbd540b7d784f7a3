// Times MLflow's run search (MLflowRunSearch, what `POST /api/2.0/mlflow/runs/search` calls) over a SQLite
// store of 10,000 runs logged as MLflow logs them: a filter on a metric and a param, ordered by a metric, in
// pages of 1,000. Release build: see bench/search/README.md.
import Foundation
import QuillCore
import QuillServer
import QuillStore
import QuillStoreSQLite

struct Options {
    var runs = 10_000
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
                    Data("usage: quill-mlflow-search-bench [--runs N] [--repeats N] [--db PATH]\n".utf8)
                )
                exit(2)
            }
        }
    }
}

/// Logs runs through the store as the MLflow routes do: 32-hex ids, string params, metrics with steps.
func fill(_ store: SQLiteTrackingStore, projectID: Int64, runs: Int) async throws {
    var random = SplitMix64(seed: 7)
    let base = 1_700_000_000.0
    for index in 0..<runs {
        var run = NewRun(projectID: projectID)
        let hex = String(format: "%016llx%016llx", random.next(), random.next())
        run.id = RunID(hex)
        run.name = "run-\(index)"
        run.status = index % 10 == 0 ? .failed : .completed
        // Two runs share each start millisecond, so the order needs its tie-breaker.
        run.startedAt = Date(timeIntervalSince1970: base + Double(index / 2) / 1000)
        run.endedAt = Date(timeIntervalSince1970: base + 3600 + Double(index) / 1000)
        run.user = "ada"
        run.tags = ["mlflow.runName": "run-\(index)", "team": ["vision", "nlp", "audio"][index % 3]]
        let created = try await store.createRun(run)
        var batch = LogBatch()
        batch.params = [
            "lr": .string(["0.1", "0.01", "0.001"][Int.random(in: 0..<3, using: &random)]),
            "optimizer": .string(["adam", "sgd", "adamw"][Int.random(in: 0..<3, using: &random)]),
            "batch_size": .string(["32", "64", "128"][Int.random(in: 0..<3, using: &random)]),
        ]
        for step in 0..<5 {
            let accuracy = Double(Int.random(in: 0..<1000, using: &random)) / 1000
            batch.metrics.append(MetricValue(key: "accuracy", value: accuracy, step: step))
            batch.metrics.append(MetricValue(key: "loss", value: 1 - accuracy, step: step))
        }
        _ = try await store.logBatch(created.id, batch)
    }
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
}

@main
struct MLflowSearchBench {
    static func main() async throws {
        let options = Options(CommandLine.arguments)
        let directory = options.path.map { URL(fileURLWithPath: $0).deletingLastPathComponent().path }
        let temporary =
            directory == nil
            ? NSTemporaryDirectory() + "quill-mlflow-search-\(ProcessInfo.processInfo.processIdentifier)" : nil
        if let temporary {
            try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        }
        defer { if let temporary { try? FileManager.default.removeItem(atPath: temporary) } }
        let path = options.path ?? (temporary ?? ".") + "/quill.db"
        let store = try SQLiteTrackingStore(path: path)
        let project = try await store.project(namespace: "local", displayName: "bench", createdBy: nil)
        var existing = RunSearch(projectIDs: [project.id])
        existing.limit = 1
        if try await store.searchRuns(existing).runs.isEmpty {
            let start = ContinuousClock.now
            try await fill(store, projectID: project.id, runs: options.runs)
            print("filled \(options.runs) runs in \(ContinuousClock.now - start)")
        }
        let search = MLflowRunSearch(store: store)
        let cases: [(String, String?, [String])] = [
            (
                "metric and param filter, order by a metric", "metrics.accuracy > 0.5 and params.optimizer = 'adam'",
                ["metrics.accuracy DESC"]
            ),
            ("no filter, default order", nil, []),
            ("no filter, order by a metric", nil, ["metrics.loss"]),
            ("param filter, order by a param (in memory)", "params.lr = '0.01'", ["params.batch_size DESC"]),
        ]
        print("| search (pages of 1,000) | runs | pages | median, all pages | median per page |")
        print("|---|---|---|---|---|")
        for (label, filter, orderBy) in cases {
            var times: [Double] = []
            var count = 0
            var pages = 0
            for _ in 0..<options.repeats {
                let start = ContinuousClock.now
                var token: String?
                count = 0
                pages = 0
                repeat {
                    let page = try await search.search(
                        projectIDs: [project.id],
                        filter: filter,
                        orderBy: orderBy,
                        maxResults: 1000,
                        pageToken: token,
                        lifecycle: .active
                    )
                    count += page.runs.count
                    pages += 1
                    token = page.nextPageToken
                } while token != nil
                let elapsed = ContinuousClock.now - start
                times.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
            }
            let total = median(times)
            print(
                String(
                    format: "| %@ | %d | %d | %.1f ms | %.1f ms |",
                    label,
                    count,
                    pages,
                    total,
                    total / Double(pages)
                )
            )
        }
    }
}
