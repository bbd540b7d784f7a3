import Foundation
import Quill
import QuillClient
import QuillCore

/// Reads the run directories of a Quill home, for the read commands without `--server`.
struct LocalRunReader: RunReader {
    let store: LocalRunStore

    init(home: QuillHome) {
        store = LocalRunStore(home: home)
    }

    var source: RunSource { .local(runsFolder: store.home.runsPath) }

    /// Lists runs newest first: project, statuses and tags filter on the metadata; the query and the order
    /// read configs and metrics only when they name them.
    func runs(_ query: RunListQuery) throws -> RunListing {
        guard query.cursor == nil else {
            throw QuillError(.invalidArgument, "a cursor pages through a server's runs; local runs have no cursor")
        }
        let (all, unreadable) = store.list()
        let slug = query.project.map(Project.slug(for:))
        let statuses = Set(query.statuses)
        var runs = all.filter { run in
            if let slug, run.meta.projectSlug != slug { return false }
            if !statuses.isEmpty, !statuses.contains(run.meta.status) { return false }
            return query.tags.allSatisfy { $0.matches(run.meta.tagValues) }
        }
        runs = try Self.apply(query: query.query, sort: query.sort, to: runs)
        var listing = RunListing(runs: runs.prefix(query.limit).map { RunEntry(meta: $0.meta, json: Self.json($0)) })
        listing.more = max(0, runs.count - query.limit)
        listing.scanned = all.count
        listing.warnings = unreadable.map { "skipped unreadable run \($0)" }
        return listing
    }

    /// Finds a run by id, unique id prefix or name, and reads its config and metrics unless only the
    /// metadata is wanted.
    func run(_ reference: String, project: String?, metadataOnly: Bool) throws -> RunDetails {
        let found = try store.resolve(reference, project: project)
        let directory = found.directory
        if metadataOnly {
            return RunDetails(
                meta: found.meta,
                config: .object([:]),
                statistics: [:],
                location: directory.path,
                json: Self.json(found)
            )
        }
        let config = try directory.readConfig()
        let (rows, diagnostics) = try directory.readMetrics(meta: found.meta)
        let statistics = MetricStatistics.compute(rows)
        var members = Self.json(found).objectValue ?? [:]
        members["config"] = config
        members["metrics"] = .object(
            statistics.mapValues { stats in
                [
                    "count": .int(stats.count), "last": .double(stats.last),
                    "last_step": stats.lastStep.map(JSONValue.int) ?? .null,
                    "min": .double(stats.min), "max": .double(stats.max),
                ]
            }
        )
        members["artifacts"] = .array(
            directory.listArtifacts().map { ["path": .string($0.path), "size": .int(Int($0.size))] }
        )
        members["warnings"] = .array(
            [diagnostics.warning(file: RunDirectory.metricsFileName)].compactMap { $0.map(JSONValue.string) }
        )
        var details = RunDetails(
            meta: found.meta,
            config: config,
            statistics: statistics,
            location: directory.path,
            json: .object(members)
        )
        details.warnings = [diagnostics.warning(file: directory.metricsPath)].compactMap { $0 }
        details.cachedRows = rows
        return details
    }

    /// Every row of the run's metrics file (the caller picks the keys; nothing is downsampled here).
    func metricRows(of run: RunDetails, keys: [String], maxPoints: Int?) throws -> [MetricRow] {
        if let rows = run.cachedRows { return rows }
        return try RunDirectory(path: run.location).readMetrics(meta: run.meta).rows
    }

    /// The last `limit` lines of the run's log file.
    func logLines(of run: RunDetails, limit: Int) throws -> [LogLine] {
        Array(try RunDirectory(path: run.location).readLog().suffix(max(0, limit)))
    }

    /// The files under the run's `artifacts/` folder, with their sizes and modification times.
    func artifacts(of run: RunDetails) throws -> [ArtifactEntry] {
        let directory = RunDirectory(path: run.location)
        let root = directory.artifactsPath
        return directory.listArtifacts().map { file in
            let attributes = try? FileManager.default.attributesOfItem(atPath: root + "/" + file.path)
            let modified = attributes?[.modificationDate] as? Date
            return ArtifactEntry(
                path: file.path,
                size: file.size,
                modified: modified,
                status: nil,
                sha256: nil,
                json: [
                    "path": .string(file.path), "size": .int(Int(file.size)),
                    "modified_at": modified.map { .string(Timestamp.string($0)) } ?? .null,
                ]
            )
        }
    }

    /// Copies an artifact file out of the run's `artifacts/` folder.
    func fetchArtifact(of run: RunDetails, path: String, to destination: String) throws {
        let relative = try ArtifactPath.normalize(path, what: "artifact path")
        let source = RunDirectory(path: run.location).artifactsPath + "/" + relative
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw QuillError(.notFound, "run '\(run.meta.name)' has no artifact file '\(path)'")
        }
        if FileManager.default.fileExists(atPath: destination) {
            try FileManager.default.removeItem(atPath: destination)
        }
        try FileManager.default.copyItem(atPath: source, toPath: destination)
    }

    /// A run's metadata with its folder, as `quill runs --json` prints each run.
    static func json(_ run: LocalRun) -> JSONValue {
        var members = run.meta.json.objectValue ?? [:]
        members["dir"] = .string(run.directory.path)
        return .object(members)
    }

    /// Filters with a query and orders with a sort, loading configs and metrics only when they are used.
    static func apply(query text: String?, sort: String?, to runs: [LocalRun]) throws -> [LocalRun] {
        let query = try text.map { try RunQuery(parsing: $0) }
        let order = try sort.map { try RunSort(parsing: $0) }
        guard query != nil || order != nil else { return runs }
        let fields = (query?.fields ?? []) + (order.map { [$0.field] } ?? [])
        let needsMetrics = fields.contains { if case .metric = $0 { true } else { false } }
        let needsConfig = fields.contains { if case .param = $0 { true } else { false } }
        var candidates: [(run: LocalRun, values: QueryableRun)] = []
        for run in runs {
            let config = needsConfig ? (try? run.directory.readConfig()) ?? .object([:]) : .object([:])
            let statistics =
                needsMetrics
                ? MetricStatistics.compute((try? run.directory.readMetrics(meta: run.meta).rows) ?? []) : [:]
            let values = QueryableRun(meta: run.meta, config: config, metrics: statistics)
            if query?.matches(values) ?? true { candidates.append((run, values)) }
        }
        guard let order else { return candidates.map(\.run) }
        // Stable: runs that tie keep their newest-first order.
        return candidates.enumerated().sorted { lhs, rhs in
            if order.precedes(lhs.element.values, rhs.element.values) { return true }
            if order.precedes(rhs.element.values, lhs.element.values) { return false }
            return lhs.offset < rhs.offset
        }.map(\.element.run)
    }
}
