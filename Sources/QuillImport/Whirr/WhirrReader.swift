import Foundation
import GRDB
package import QuillCore
import QuillStore

/// Reads whirr's runs: run folders (`meta.json`, `config.json`, `metrics.jsonl`, `output.log`, `artifacts/`, the
/// format Quill's run directories keep, read with QuillCore's own readers) and whirr's SQLite index
/// (`whirr.db`: its `runs` and `jobs` tables, read-only through GRDB).
///
/// `DIR` may be whirr's data folder (`.whirr`, or `whirr server --data-dir`: `whirr.db` and `runs/`), a project
/// folder holding `.whirr`, a folder of run folders, or one run folder. A run's facts come from its `meta.json`
/// first, then its row in `runs`, then its job (a job run by a whirr worker whose program never called
/// `whirr.init()` has only `output.log` and `artifacts/`). Metric points keep their `_idx`, as the server's own
/// import of whirr folders does, so the two never duplicate each other's points.
package struct WhirrReader: ImportSource {
    /// The folder given.
    package let location: String
    /// The project runs go to unless their `meta.json` names one (Quill's own run folders do).
    package let project: String
    private let runFolders: [String]
    private let index: DatabaseQueue?

    /// A reader of `directory`.
    ///
    /// - Throws: ``QuillError`` (`invalid_argument`) when `directory` holds no run folder and no `whirr.db`.
    package init(directory: String, project: String = "whirr") throws {
        location = directory
        self.project = project
        var root = directory
        if FileManager.default.fileExists(atPath: directory + "/.whirr") { root = directory + "/.whirr" }
        var folders: [String] = []
        if Self.isRunFolder(root) {
            folders = [root]
        } else {
            for parent in [root + "/runs", root] {
                let entries = (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? []
                folders += entries.sorted().map { parent + "/" + $0 }.filter(Self.isRunFolder)
            }
        }
        runFolders = folders
        let databasePath = root + "/whirr.db"
        if FileManager.default.fileExists(atPath: databasePath) {
            var configuration = Configuration()
            configuration.readonly = true
            do {
                index = try DatabaseQueue(path: databasePath, configuration: configuration)
            } catch {
                throw QuillError(
                    .invalidArgument,
                    "\(databasePath) cannot be read as whirr's index (\(error)); pass its data folder",
                    underlying: error
                )
            }
        } else {
            index = nil
        }
        guard !runFolders.isEmpty || index != nil else {
            throw QuillError(
                .invalidArgument,
                "\(directory) holds no whirr run folders and no whirr.db; pass whirr's data folder (.whirr or --data-dir), its runs/ folder or a run folder"
            )
        }
    }

    /// A folder whirr or Quill wrote a run into.
    static func isRunFolder(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            return false
        }
        return ["meta.json", "metrics.jsonl", "output.log"].contains {
            FileManager.default.fileExists(atPath: path + "/" + $0)
        }
    }

    // MARK: The index

    private struct IndexRun {
        var id: String
        var name: String?
        var config: [String: JSONValue]
        var tags: [String]
        var status: String?
        var startedAt: Date?
        var finishedAt: Date?
        var summary: [String: JSONValue]
        var hostname: String?
        var runDirectory: String?
    }

    private func indexRuns() throws -> [IndexRun] {
        guard let index else { return [] }
        return try index.read { db in
            guard try db.tableExists("runs") else { return [] }
            var runs = try Row.fetchAll(db, sql: "SELECT * FROM runs ORDER BY started_at, id").map { row in
                IndexRun(
                    id: row["id"] ?? "",
                    name: row["name"],
                    config: Self.json(row["config"])?.objectValue ?? [:],
                    tags: Self.json(row["tags"])?.arrayValue?.compactMap(\.stringValue) ?? [],
                    status: row["status"],
                    startedAt: Self.date(row["started_at"]),
                    finishedAt: Self.date(row["finished_at"]),
                    summary: Self.json(row["summary"])?.objectValue ?? [:],
                    hostname: row["hostname"],
                    runDirectory: row["run_dir"]
                )
            }
            // Jobs that ran (their worker made `job-<id>`) stand in for runs their program never recorded.
            if try db.tableExists("jobs") {
                let known = Set(runs.map(\.id))
                for row in try Row.fetchAll(db, sql: "SELECT * FROM jobs ORDER BY id") {
                    let id = "job-" + String((row["id"] as Int64?) ?? 0)
                    guard !known.contains(id) else { continue }
                    let status: String? = row["status"]
                    runs.append(
                        IndexRun(
                            id: id,
                            name: row["name"],
                            config: Self.json(row["config"])?.objectValue ?? [:],
                            tags: Self.json(row["tags"])?.arrayValue?.compactMap(\.stringValue) ?? [],
                            status: status == "cancelled" ? "killed" : status,
                            startedAt: Self.date(row["started_at"]),
                            finishedAt: Self.date(row["finished_at"]),
                            summary: [:],
                            hostname: nil,
                            runDirectory: nil
                        )
                    )
                }
            }
            return runs
        }
    }

    private static func json(_ text: String?) -> JSONValue? {
        text.flatMap { try? JSONParser.parse($0) }
    }

    /// whirr's times: ISO 8601 (`…Z`, `…+00:00`) or SQLite's `2026-11-30 00:59:04` (UTC).
    static func date(_ text: String?) -> Date? {
        guard let text, !text.isEmpty else { return nil }
        if let date = Timestamp.parse(text) { return date }
        return Timestamp.parse(text.replacingOccurrences(of: " ", with: "T") + "Z")
    }

    // MARK: ImportSource

    package func experiments() throws -> [ImportedExperiment] {
        let names = Set(try runs().map(\.experimentID))
        return names.sorted().map { ImportedExperiment(sourceID: $0, name: $0) }
    }

    package func runs() throws -> [ImportedRun] {
        var runs: [ImportedRun] = []
        var seen = Set<String>()
        let indexed = try indexRuns()
        let byID = Dictionary(indexed.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var folders = runFolders
        for row in indexed {
            if let directory = row.runDirectory, Self.isRunFolder(directory), !folders.contains(directory) {
                folders.append(directory)
            }
        }
        for folder in folders {
            let name = (folder as NSString).lastPathComponent
            guard !seen.contains(name) else { continue }
            if let run = try run(folder: folder, index: byID[name]) {
                seen.insert(name)
                seen.insert(run.id.rawValue)
                runs.append(run)
            }
        }
        for row in indexed where !seen.contains(row.id) {
            guard let status = row.status, status != "queued", row.startedAt != nil || status != "killed" else {
                continue
            }
            guard let id = RunID(row.id) else { continue }
            var run = ImportedRun(id: id, experimentID: project)
            apply(row, to: &run)
            runs.append(run)
        }
        return runs
    }

    package func skipped() -> [ImportSkip] {
        var skips: [ImportSkip] = []
        let indexed = Set(((try? indexRuns()) ?? []).map(\.id))
        let bare = runFolders.filter {
            !FileIO.exists($0 + "/meta.json") && !indexed.contains(($0 as NSString).lastPathComponent)
        }
        skips.append(
            ImportSkip(
                "run folders",
                count: bare.count,
                reason: "no meta.json and no row in whirr.db say what run they hold"
            )
        )
        if let index,
            let jobs = try? index.read({ db -> Int in
                guard try db.tableExists("jobs") else { return 0 }
                return try Int.fetchOne(db, sql: "SELECT count(*) FROM jobs WHERE started_at IS NULL") ?? 0
            })
        {
            skips.append(ImportSkip("whirr jobs", count: jobs, reason: "they never started, so they have no run"))
        }
        return skips
    }

    private func apply(_ row: IndexRun, to run: inout ImportedRun) {
        run.name = row.name
        run.config = row.config
        run.tags = Self.tagValues(row.tags)
        run.status = row.status.flatMap(RunStatus.init(rawValue:)) ?? .running
        run.startedAt = row.startedAt
        run.endedAt = row.finishedAt
        run.summary = row.summary
        run.host = row.hostname
    }

    /// whirr's tag list as Quill tags: `key:value`, or a label with an empty value.
    static func tagValues(_ tags: [String]) -> [String: String] {
        var values: [String: String] = [:]
        for tag in tags {
            let parts = tag.split(separator: ":", maxSplits: 1)
            guard let key = parts.first else { continue }
            values[String(key)] = parts.count > 1 ? String(parts[1]) : ""
        }
        return values
    }

    private func run(folder: String, index row: IndexRun?) throws -> ImportedRun? {
        let directory = RunDirectory(path: folder)
        if let bytes = try FileIO.read(directory.metaPath) {
            let json = try JSONParser.parse(bytes)
            let meta = try RunMeta(json: json, directoryName: directory.name)
            var run = ImportedRun(id: meta.id, experimentID: json["project"]?.stringValue ?? project)
            if let row { apply(row, to: &run) }
            run.name = meta.name
            run.status = meta.status
            run.startedAt = meta.startedAt
            run.endedAt = meta.finishedAt
            run.parent = meta.parent
            run.tags = meta.tagValues
            run.params = meta.params
            run.summary = meta.summary.isEmpty ? run.summary : meta.summary
            run.git = meta.git?.json
            if let host = meta.host {
                run.user = host.user.isEmpty ? nil : host.user
                run.host = host.hostname
            }
            run.config = try directory.readConfig().objectValue ?? run.config
            run.folder = folder
            return run
        }
        guard let row, let id = RunID(row.id) else { return nil }
        var run = ImportedRun(id: id, experimentID: project)
        apply(row, to: &run)
        if let config = try? directory.readConfig().objectValue, !config.isEmpty { run.config = config }
        run.folder = folder
        return run
    }

    package func metrics(of run: ImportedRun) throws -> [ImportedSeries] {
        guard let folder = run.folder else { return [] }
        let directory = RunDirectory(path: folder)
        let rows = try (FileIO.exists(directory.metaPath) ? directory.readMetrics() : directory.readMetricRows()).rows
        var order: [String] = []
        var points: [String: [MetricValue]] = [:]
        for row in rows {
            for (key, value) in row.values.sorted(by: { $0.key < $1.key }) {
                if points[key] == nil { order.append(key) }
                points[key, default: []].append(
                    MetricValue(key: key, value: value, step: row.step, timestamp: row.timestamp, index: row.index)
                )
            }
        }
        return order.map { ImportedSeries(key: $0, points: points[$0] ?? []) }
    }

    package func artifacts(of run: ImportedRun) throws -> ArtifactListing {
        guard let folder = run.folder else { return ArtifactListing() }
        let directory = RunDirectory(path: folder)
        return ArtifactListing(
            files: directory.listArtifacts().map {
                ImportedArtifact(path: $0.path, size: $0.size, content: .file(directory.artifactsPath + "/" + $0.path))
            }
        )
    }

    /// `output.log`, a line each, as the server's import of whirr folders reads it.
    package func logLines(of run: ImportedRun) throws -> [LogLine] {
        guard let folder = run.folder, let bytes = try FileIO.read(RunDirectory(path: folder).logPath),
            let lastNewline = bytes.lastIndex(of: UInt8(ascii: "\n"))
        else { return [] }
        return String(decoding: bytes[...lastNewline], as: UTF8.self)
            .split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            .map { LogLine(timestamp: nil, level: nil, message: String($0)) }
    }
}
