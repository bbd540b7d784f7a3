import Dispatch
import Foundation
import QuillCore
package import QuillStore

/// The stores an import writes into: runs and projects, artifact records, artifact bytes, and the namespace
/// that receives the projects.
package struct ImportDestination: Sendable {
    /// Projects, runs, params, tags and metric points.
    package var runs: any TrackingStore
    /// Artifact records.
    package var artifacts: any ArtifactStore
    /// Artifact bytes.
    package var blobs: any BlobStore
    /// The namespace of the projects (`local` in single-user mode).
    package var namespace: String

    /// A destination.
    package init(runs: any TrackingStore, artifacts: any ArtifactStore, blobs: any BlobStore, namespace: String) {
        self.runs = runs
        self.artifacts = artifacts
        self.blobs = blobs
        self.namespace = namespace
    }
}

/// Copies what an ``ImportSource`` reads into Quill's stores, or only counts it (a dry run).
///
/// Everything is keyed so that a second import duplicates nothing: projects by name (slug), runs by id, metric
/// points by their index in the source's order (the store ignores a `(series, index)` it has), artifacts by path
/// and content hash, output lines by how many the run's log already has. A run that exists is brought up to date
/// (status, end time, params, tags, new points), never created twice.
package struct Importer: Sendable {
    /// Points written in one batch.
    static let batchSize = 20_000

    let source: any ImportSource
    let destination: ImportDestination?

    /// An import from `source` into `destination`, or a dry run when `destination` is `nil`.
    package init(source: any ImportSource, destination: ImportDestination?) {
        self.source = source
        self.destination = destination
    }

    /// Runs the import, calling `progress` after each run and every batch of points.
    package func run(progress: @escaping @Sendable (ImportProgress) -> Void = { _ in }) async throws -> ImportReport {
        let source = self.source
        var report = ImportReport(source: source.location, dryRun: destination == nil)
        let experiments = try await Self.offPool { try source.experiments() }
        let runs = Self.parentsFirst(try await Self.offPool { try source.runs() })
        report.skip(source.skipped())
        report.read.experiments = experiments.count
        var projects: [String: StoredProject] = [:]
        if let destination {
            for experiment in experiments {
                projects[experiment.sourceID] = try await importExperiment(experiment, destination, &report)
            }
        }
        let known = Set(experiments.map(\.sourceID))
        var state = ImportProgress(runsDone: 0, runsTotal: runs.count, points: 0)
        progress(state)
        for run in runs {
            defer {
                state.runsDone += 1
                progress(state)
            }
            guard known.contains(run.experimentID) else {
                report.skip([ImportSkip("runs", reason: "their experiment could not be read")])
                continue
            }
            report.read.runs += 1
            let series = try await Self.offPool { try source.metrics(of: run) }
            let listing = try await Self.offPool { try source.artifacts(of: run) }
            let lines = try await Self.offPool { try source.logLines(of: run) }
            report.skip(listing.skipped)
            let points = series.reduce(0) { $0 + $1.points.count }
            report.read.points += points
            report.read.artifacts += listing.files.count
            report.read.logLines += lines.count
            guard let destination, let project = projects[run.experimentID] else {
                state.points += points
                continue
            }
            guard let stored = try await importRun(run, project, destination, &report) else { continue }
            try await importMetrics(series, of: stored, destination, &report) { written in
                state.points += written
                progress(state)
            }
            try await importLog(lines, of: stored, destination, &report)
            for file in listing.files {
                try await importArtifact(file, of: stored, destination, &report)
            }
        }
        return report
    }

    // MARK: Projects and runs

    private func importExperiment(
        _ experiment: ImportedExperiment,
        _ destination: ImportDestination,
        _ report: inout ImportReport
    ) async throws -> StoredProject {
        let store = destination.runs
        let slug = Project(displayName: experiment.name).slug
        let existing = try await store.project(namespace: destination.namespace, slug: slug)
        var project: StoredProject
        if let existing {
            project = existing
        } else {
            project = try await store.project(namespace: destination.namespace, displayName: experiment.name)
            report.written.experiments += 1
        }
        if project.displayName != experiment.name {
            report.skip([
                ImportSkip(
                    "experiment names",
                    reason: "names that differ only in punctuation or case share a project (slug '\(slug)')"
                )
            ])
        }
        var update = ProjectUpdate()
        update.setTags = experiment.tags.filter { project.tags[$0.key] != $0.value }
        if experiment.deleted, project.deletedAt == nil, existing == nil { update.deleted = true }
        guard !update.setTags.isEmpty || update.deleted != nil else { return project }
        do {
            project = try await store.updateProject(project.id, update)
        } catch let error as QuillError where error.code == .unavailable {
            if !update.setTags.isEmpty {
                report.skip([ImportSkip("experiment tags", count: update.setTags.count, reason: Self.noLifecycleReason)]
                )
            }
            if update.deleted == true {
                report.skip([ImportSkip("experiment deletions", reason: Self.noLifecycleReason)])
            }
        }
        return project
    }

    package static let noLifecycleReason = "this store cannot keep project tags or the trash yet (`unavailable`)"

    /// Creates the run or brings an existing one up to date; `nil` when it cannot be imported.
    private func importRun(
        _ run: ImportedRun,
        _ project: StoredProject,
        _ destination: ImportDestination,
        _ report: inout ImportReport
    ) async throws -> StoredRun? {
        let store = destination.runs
        var stored: StoredRun
        if let existing = try await store.run(run.id) {
            guard existing.projectID == project.id else {
                report.skip([
                    ImportSkip("runs", reason: "a run with the same id already exists in another project")
                ])
                return nil
            }
            stored = existing
            var update = RunUpdate()
            if existing.status != run.status { update.status = run.status }
            if let ended = run.endedAt, existing.endedAt.map({ abs($0.timeIntervalSince(ended)) > 0.0005 }) ?? true {
                update.endedAt = ended
            }
            if update.status != nil || update.endedAt != nil { stored = try await store.updateRun(run.id, update) }
        } else {
            var request = NewRun(projectID: project.id)
            request.id = run.id
            request.name = run.name
            request.status = run.status
            request.startedAt = run.startedAt
            request.endedAt = run.endedAt
            request.user = run.user
            request.host = run.host
            request.git = run.git
            request.config = run.config
            if let parent = run.parent {
                if try await store.run(parent) != nil {
                    request.parent = parent
                } else {
                    report.skip([ImportSkip("parent links", reason: "the parent run is not in the source")])
                }
            }
            stored = try await store.createRun(request)
            report.written.runs += 1
        }
        if !run.params.isEmpty || !run.tags.isEmpty {
            var batch = LogBatch()
            batch.params = run.params
            batch.tags = run.tags
            _ = try await store.logBatch(run.id, batch)
        }
        if !run.summary.isEmpty, run.summary.contains(where: { stored.summary[$0.key] != $0.value }) {
            var update = RunUpdate()
            update.summary = run.summary
            stored = try await store.updateRun(run.id, update)
        }
        if run.deleted, stored.deletedAt == nil {
            do {
                stored = try await store.setRunDeleted(run.id, true)
            } catch let error as QuillError where error.code == .unavailable {
                report.skip([ImportSkip("run deletions", reason: Self.noLifecycleReason)])
            }
        }
        return stored
    }

    // MARK: Metrics and output

    private func importMetrics(
        _ series: [ImportedSeries],
        of run: StoredRun,
        _ destination: ImportDestination,
        _ report: inout ImportReport,
        progress: (Int) -> Void
    ) async throws {
        var batch = LogBatch()
        func flush() async throws {
            guard !batch.metrics.isEmpty else { return }
            let result = try await destination.runs.logBatch(run.id, batch)
            report.written.points += result.metricsWritten
            progress(batch.metrics.count)
            batch.metrics.removeAll(keepingCapacity: true)
        }
        for metric in series {
            for point in metric.points {
                batch.metrics.append(point)
                if batch.metrics.count >= Self.batchSize { try await flush() }
            }
        }
        try await flush()
    }

    private func importLog(
        _ lines: [LogLine],
        of run: StoredRun,
        _ destination: ImportDestination,
        _ report: inout ImportReport
    ) async throws {
        guard !lines.isEmpty else { return }
        // The lines the run's log already has (an earlier import, or the server's own whirr import) are skipped.
        let present = try await destination.runs.logTail(run.id, count: 0).total
        guard present < lines.count else { return }
        var batch = LogBatch()
        batch.logs = Array(lines[present...])
        _ = try await destination.runs.logBatch(run.id, batch)
        report.written.logLines += batch.logs.count
    }

    // MARK: Artifacts

    private func importArtifact(
        _ file: ImportedArtifact,
        of run: StoredRun,
        _ destination: ImportDestination,
        _ report: inout ImportReport
    ) async throws {
        let path: String
        do {
            path = try ArtifactPathRules.validate(file.path)
        } catch let error as QuillError {
            report.skip([ImportSkip("artifacts", reason: error.message)])
            return
        }
        let bytes: Data?
        let existing = try await destination.artifacts.artifact(run.id, path: path)
        if let existing, existing.status == .uploaded, let stored = existing.sha256 {
            // Present: compare by content, so a changed file replaces the stored version and an unchanged one is
            // not stored again.
            if file.size != nil, existing.size != file.size {
                bytes = nil
            } else {
                switch file.content {
                case .file(let local):
                    guard let hash = try? SHA256.hex(ofFileAt: local) else {
                        report.skip([ImportSkip("artifacts", reason: "the file could not be read")])
                        return
                    }
                    if hash.sha256 == stored { return }
                    bytes = nil
                case .download(let download):
                    let data = try await Self.offPool { try download() }
                    if SHA256.hex(of: data) == stored { return }
                    bytes = data
                }
            }
        } else {
            bytes = nil
        }
        let previous = existing?.sha256
        do {
            _ = try await destination.artifacts.createArtifact(NewArtifact(run: run.id, path: path))
            let limits = BlobLimits(maximumBytes: .max)
            let mark: (StoredBlob) async throws -> StoredArtifact = { blob in
                try await destination.artifacts.markArtifactUploaded(
                    run.id,
                    path: path,
                    size: blob.size,
                    sha256: blob.sha256
                )
            }
            let uploaded: StoredArtifact
            switch (file.content, bytes) {
            case (_, .some(let data)):
                uploaded = try await destination.blobs.put(
                    DataChunks(data: data),
                    limits: limits,
                    expected: BlobExpectation(),
                    then: mark
                )
            case (.file(let local), nil):
                guard let handle = FileHandle(forReadingAtPath: local) else {
                    report.skip([ImportSkip("artifacts", reason: "the file could not be read")])
                    _ = try? await destination.artifacts.markArtifactFailed(run.id, path: path)
                    return
                }
                defer { try? handle.close() }
                uploaded = try await destination.blobs.put(
                    FileChunks(handle: handle),
                    limits: limits,
                    expected: BlobExpectation(),
                    then: mark
                )
            case (.download(let download), nil):
                let data = try await Self.offPool { try download() }
                uploaded = try await destination.blobs.put(
                    DataChunks(data: data),
                    limits: limits,
                    expected: BlobExpectation(),
                    then: mark
                )
            }
            report.written.artifacts += 1
            if let previous, previous != uploaded.sha256 { await reclaim(previous, destination) }
        } catch let error as QuillError where error.code == .io || error.code == .notFound {
            _ = try? await destination.artifacts.markArtifactFailed(run.id, path: path)
            report.skip([ImportSkip("artifacts", reason: "the bytes could not be read (\(error.message))")])
        }
    }

    /// Removes a replaced version's bytes when no record holds them (as the server's uploads do); a failure
    /// leaves them to `quill artifacts gc`.
    private func reclaim(_ hash: String, _ destination: ImportDestination) async {
        let records = destination.artifacts
        guard
            let gone = try? await destination.blobs.reclaim(
                sha256: hash,
                isStored: { try await records.storesContent(sha256: hash) }
            )
        else { return }
        let held = gone ? false : (try? await records.storesContent(sha256: hash)) == true
        if gone || held {
            try? await records.forgetReleasedContent(sha256: hash)
        }
    }

    // MARK: Helpers

    /// Runs before their children (a parent must exist when a child is created); otherwise in the source's order.
    static func parentsFirst(_ runs: [ImportedRun]) -> [ImportedRun] {
        let ids = Set(runs.map(\.id))
        var placed = Set<RunID>()
        var ordered: [ImportedRun] = []
        var pending = runs
        while !pending.isEmpty {
            var next: [ImportedRun] = []
            for run in pending {
                if let parent = run.parent, parent != run.id, ids.contains(parent), !placed.contains(parent) {
                    next.append(run)
                } else {
                    ordered.append(run)
                    placed.insert(run.id)
                }
            }
            if next.count == pending.count {  // a cycle: place the rest as they come
                ordered += next
                break
            }
            pending = next
        }
        return ordered
    }

    /// Runs blocking source work (files, SQLite, blocking HTTP) on a Dispatch thread, off the cooperative pool.
    static func offPool<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
        }
    }
}
