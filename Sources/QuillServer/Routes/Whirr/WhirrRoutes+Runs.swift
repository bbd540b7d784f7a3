import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import QuillAPI
import QuillCore
import QuillJobs
import QuillStore

/// whirr's run routes: a job's run is `job-<id>`, its Quill run's record, and its files in whirr's data
/// directory (`<data dir>/runs/job-<id>`), where a whirr worker sharing that directory writes them.
extension WhirrRoutes {
    func registerRuns(_ table: WhirrRouteTable) {
        table.add("api/v1/runs", .get) { request, _ in try await listRuns(request) }
        table.add("api/v1/runs/:run", .get) { _, context in
            let (job, run) = try await jobRun(context)
            return try JSONResponse.make(whirrRun(job, run))
        }
        table.add("api/v1/runs/:run/metrics", .get) { _, context in
            let (job, run) = try await jobRun(context)
            let files = WhirrRunFiles(directory: runDirectory(job.id))
            // A whirr worker wrote the run folder; a Quill worker (or the SDK) logged to the Quill run.
            let rows = files.hasMetrics ? files.metricRows() : try await storedMetricRows(run.id)
            return try JSONResponse.make(WhirrRunMetrics(rows: rows))
        }
        table.add("api/v1/runs/:run/artifacts", .get) { _, context in
            let (job, run) = try await jobRun(context)
            let files = WhirrRunFiles(directory: runDirectory(job.id))
            guard files.exists else {
                return try JSONResponse.make(WhirrRunArtifacts(artifacts: try await storedArtifacts(run.id)))
            }
            return try JSONResponse.make(WhirrRunArtifacts(artifacts: files.files()))
        }
        table.add("api/v1/runs/:run/artifacts/**", .get) { _, context in
            let (job, run) = try await jobRun(context)
            let path = context.parameters.getCatchAll().joined(separator: "/")
            let files = WhirrRunFiles(directory: runDirectory(job.id))
            guard files.exists else { return try await storedArtifact(run.id, path) }
            return try files.download(path)
        }
    }

    /// `GET /api/v1/runs`: the runs of jobs that started, newest first, filtered by whirr's run status and tag.
    private func listRuns(_ request: Request) async throws -> Response {
        let limit = try queryInteger(request, "limit", default: 50, range: 1...500)
        let status = request.uri.queryParameters["status"].map(String.init)
        let tag = request.uri.queryParameters["tag"].map(String.init)
        var runs: [WhirrRun] = []
        var before: Int64?
        scan: while true {
            let page = try await queue.jobs.jobs(JobQuery(beforeID: before, limit: 200))
            for job in page where job.status != .queued || !job.attempts.isEmpty {
                guard let run = try await api.store.run(job.spec.runID) else { continue }
                let shown = whirrRun(job, run)
                if let status, shown.status != status { continue }
                if let tag, !(shown.tags ?? []).contains(tag) { continue }
                runs.append(shown)
                if runs.count == limit { break scan }
            }
            guard page.count == 200, let last = page.last else { break }
            before = last.id
        }
        return try JSONResponse.make(WhirrRunList(runs: runs))
    }

    /// A Quill run's metric points as whirr's `metrics.jsonl` rows: the points of one index and step (as one
    /// row of Quill's `metrics.jsonl` logs them) make one row, in index then step order, numbered from 0 as
    /// `_idx`, with `_timestamp` (as Python's `isoformat()` writes it), `step` and each metric's value.
    private func storedMetricRows(_ run: RunID) async throws -> [[String: JSONValue]] {
        guard let details = try await api.store.runDetails(run) else { return [] }
        struct Position: Hashable, Comparable {
            var index: Int
            var step: Int
            static func < (a: Position, b: Position) -> Bool { (a.index, a.step) < (b.index, b.step) }
        }
        var rows: [Position: [String: JSONValue]] = [:]
        for key in details.metrics.keys.sorted() {
            for point in try await api.store.metricHistory(run, key: key, steps: nil) {
                let position = Position(index: point.index, step: point.step ?? Int.min)
                var row =
                    rows[position] ?? [
                        "_timestamp": .string(WhirrRunFiles.modified(point.timestamp)),
                        "step": point.step.map(JSONValue.int) ?? .null,
                    ]
                row[key] = point.value.isFinite ? .double(point.value) : .null
                rows[position] = row
            }
        }
        return rows.keys.sorted().enumerated().compactMap { number, position in
            rows[position].map { $0.merging(["_idx": .int(number)]) { _, new in new } }
        }
    }

    /// A Quill run's uploaded artifacts as whirr lists a run folder's files: by path, with size and the time
    /// they were stored.
    private func storedArtifacts(_ run: RunID) async throws -> [WhirrArtifact] {
        try await artifacts.artifacts(run).compactMap { artifact in
            guard artifact.status == .uploaded, let size = artifact.size else { return nil }
            return WhirrArtifact(path: artifact.path, size: size, modified: WhirrRunFiles.modified(artifact.updatedAt))
        }
        .sorted { $0.path < $1.path }
    }

    /// A Quill run's uploaded artifact's bytes, as whirr serves a run folder's file; 404 `Artifact not found`.
    private func storedArtifact(_ run: RunID, _ path: String) async throws -> Response {
        guard let artifact = try await artifacts.artifact(run, path: path), artifact.status == .uploaded,
            let hash = artifact.sha256, let blob = try await blobs.open(sha256: hash)
        else { throw WhirrHTTPError(.notFound, "Artifact not found: \(path)") }
        var bytes: [UInt8] = []
        if blob.size > 0 { try await blob.read(0...(blob.size - 1)) { bytes += $0 } }
        let name = artifact.fileName.replacingOccurrences(of: "\"", with: "")
        return Response(
            status: .ok,
            headers: [
                .contentType: WhirrRunFiles.contentType(name),
                .contentDisposition: "attachment; filename=\"\(name)\"",
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }

    /// The job and Quill run a whirr run name (`job-<id>`) names; 404 `Run … not found` otherwise.
    private func jobRun(_ context: QuillRequestContext) async throws -> (Job, StoredRun) {
        let name = context.parameters.get("run") ?? ""
        guard let id = WhirrMapping.jobID(runName: name), let job = try await queue.jobs.job(id),
            let run = try await api.store.run(job.spec.runID)
        else { throw WhirrHTTPError(.notFound, "Run \(name) not found") }
        return (job, run)
    }

    /// A job's run as whirr's `RunResponse`; its status is the job's (`completed`, `failed`, `cancelled`,
    /// `running`).
    private func whirrRun(_ job: Job, _ run: StoredRun) -> WhirrRun {
        let shown = WhirrMapping.nameAndTags(job.spec)
        let status = job.status.isTerminal ? job.status.rawValue : "running"
        return WhirrRun(
            id: WhirrMapping.runName(job.id),
            jobID: job.id,
            name: shown.name ?? run.name,
            config: run.config.isEmpty ? nil : run.config,
            tags: shown.tags,
            status: status,
            startedAt: WhirrMapping.time(run.startedAt),
            finishedAt: WhirrMapping.time(run.endedAt),
            durationSeconds: run.endedAt.map { $0.timeIntervalSince(run.startedAt) },
            summary: run.summary.isEmpty ? nil : run.summary,
            hostname: run.host,
            runDir: runDirectory(job.id)
        )
    }
}
