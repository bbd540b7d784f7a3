import Foundation
import QuillCore
public import QuillStore
public import Testing

/// The behaviour every ``TrackingStore`` backend must have, as checks any backend's tests run on a fresh
/// store (GRDB's `test(_:)` pattern): `@Test(arguments: TrackingStoreConformance.allCases)`.
public enum TrackingStoreConformance: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case projectsGetOrCreate
    case runLifecycle
    case runNamesAreUniquePerProject
    case parentsAndCycles
    case batchesAreIdempotentAndNumbered
    case nonFiniteValues
    case metricHistoryRangesAndDownsampling
    case downsampledHistoryKeepsSpikes
    case searchFiltersSortsAndPages
    case searchPagesNeitherSkipNorRepeat
    case searchMatchesInMemoryEvaluation
    case missingRunsAreNotFound
    case metricsAndLogsCanBeFollowed
    case projectNamesTagsAndTrash
    case runsInTheTrashAndSearchLifecycle
    case removedTags
    case paramChangesRejectedWholeBatch

    /// The check's name in test output.
    public var testDescription: String { rawValue }

    /// Runs the check on an empty store.
    public func check(_ store: any TrackingStore) async throws {
        switch self {
        case .projectsGetOrCreate: try await projectsGetOrCreate(store)
        case .runLifecycle: try await runLifecycle(store)
        case .runNamesAreUniquePerProject: try await runNames(store)
        case .parentsAndCycles: try await parents(store)
        case .batchesAreIdempotentAndNumbered: try await batches(store)
        case .nonFiniteValues: try await nonFinite(store)
        case .metricHistoryRangesAndDownsampling: try await history(store)
        case .downsampledHistoryKeepsSpikes: try await downsampledSpikes(store)
        case .searchFiltersSortsAndPages: try await search(store)
        case .searchPagesNeitherSkipNorRepeat: try await pagesNeitherSkipNorRepeat(store)
        case .searchMatchesInMemoryEvaluation: try await searchMatchesInMemoryEvaluation(store)
        case .missingRunsAreNotFound: try await missing(store)
        case .metricsAndLogsCanBeFollowed: try await following(store)
        case .projectNamesTagsAndTrash: try await projectUpdates(store)
        case .runsInTheTrashAndSearchLifecycle: try await runTrashAndSearchLifecycle(store)
        case .removedTags: try await removingTags(store)
        case .paramChangesRejectedWholeBatch: try await paramChangesRejected(store)
        }
    }

    private func projectsGetOrCreate(_ store: any TrackingStore) async throws {
        let first = try await store.project(namespace: "ada", displayName: "Image Classifier")
        let again = try await store.project(namespace: "ada", displayName: "image classifier")
        let other = try await store.project(namespace: "grace", displayName: "Image Classifier")
        #expect(first == again)
        #expect(first.slug == "image-classifier")
        #expect(first.visibility == .private)
        #expect(other.id != first.id)
        #expect(try await store.project(namespace: "ada", slug: "image-classifier") == first)
        #expect(try await store.project(namespace: "ada", slug: "nope") == nil)
        let public_ = try await store.setVisibility(projectID: first.id, .public)
        #expect(public_.visibility == .public)
        #expect(try await store.project(id: first.id)?.visibility == .public)
        #expect(try await store.projects().map(\.namespace) == ["ada", "grace"])
    }

    private func runLifecycle(_ store: any TrackingStore) async throws {
        let project = try await store.project(namespace: "ada", displayName: "p")
        var request = NewRun(projectID: project.id)
        request.name = "baseline"
        request.kind = .custom("distill")
        request.config = ["lr": 0.01, "optimizer": ["name": "adam"]]
        request.tags = ["team": "vision"]
        request.user = "ada"
        request.host = "gpu-01"
        request.git = ["commit": "abc", "branch": "main", "dirty": false]
        let run = try await store.createRun(request)
        #expect(run.name == "baseline")
        #expect(run.status == .running)
        #expect(run.kind == .custom("distill"))
        #expect(run.config["optimizer"]?["name"] == "adam")
        #expect(run.git?["branch"] == "main")

        var batch = LogBatch()
        batch.params = ["warmup": 100]
        batch.tags = ["stage": "2"]
        batch.links = [RunLink(label: "paper", url: "https://example.org/p")]
        batch.logs = [LogLine(timestamp: Date(), level: .info, message: "hello")]
        batch.metrics = [MetricValue(key: "loss", value: 0.5, step: 1), MetricValue(key: "loss", value: 0.25, step: 2)]
        let result = try await store.logBatch(run.id, batch)
        #expect(result == BatchResult(metricsWritten: 2, metricsIgnored: 0))

        var update = RunUpdate()
        update.status = .completed
        update.endedAt = Date()
        update.description = "done"
        update.summary = ["best": 0.25]
        let updated = try await store.updateRun(run.id, update)
        #expect(updated.status == .completed)
        #expect(updated.endedAt != nil)
        #expect(updated.summary == ["best": 0.25])
        #expect(updated.description == "done")

        let details = try #require(try await store.runDetails(run.id))
        #expect(details.params == ["warmup": 100])
        #expect(details.tags == ["team": "vision", "stage": "2"])
        #expect(details.links.map(\.label) == ["paper"])
        #expect(details.metrics["loss"]?.count == 2)
        #expect(details.metrics["loss"]?.last == 0.25)
        #expect(details.metrics["loss"]?.max == 0.5)
        #expect(try await store.logLines(run.id, limit: 10).map(\.message) == ["hello"])

        try await store.deleteRun(run.id)
        #expect(try await store.runDetails(run.id) == nil)
    }

    private func runNames(_ store: any TrackingStore) async throws {
        let project = try await store.project(namespace: "ada", displayName: "p")
        let other = try await store.project(namespace: "ada", displayName: "q")
        var names: [String] = []
        for projectID in [project.id, project.id, project.id, other.id] {
            var request = NewRun(projectID: projectID)
            request.name = "baseline"
            names.append(try await store.createRun(request).name)
        }
        #expect(names == ["baseline", "baseline_1", "baseline_2", "baseline"])
        let random = try await store.createRun(NewRun(projectID: project.id))
        #expect(random.name.wholeMatch(of: /[a-z]+_[a-z]+_[0-9]{1,3}/) != nil)
        var rename = RunUpdate()
        rename.name = "baseline"
        await expectConflict { _ = try await store.updateRun(random.id, rename) }
        rename.name = random.name
        #expect(try await store.updateRun(random.id, rename).name == random.name)
        // A client-chosen id that is taken, also by two creates at the same time: one wins, the other is a
        // conflict (HTTP 409), never another error.
        var taken = NewRun(projectID: other.id)
        taken.id = random.id
        await expectConflict { _ = try await store.createRun(taken) }
        for round in 0..<5 {
            var race = NewRun(projectID: project.id)
            race.id = RunID("race-\(round)")
            let request = race
            let outcomes = await withTaskGroup(of: QuillError.Code?.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        do {
                            _ = try await store.createRun(request)
                            return nil
                        } catch let error as QuillError {
                            return error.code
                        } catch {
                            return .io
                        }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == nil }.count == 1, "\(outcomes)")
            #expect(outcomes.filter { $0 == .conflict }.count == 3, "\(outcomes)")
        }
    }

    private func expectConflict(_ body: () async throws -> Void) async {
        do {
            try await body()
            Issue.record("expected a conflict")
        } catch let error as QuillError {
            #expect(error.code == .conflict, "\(error)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    private func parents(_ store: any TrackingStore) async throws {
        let project = try await store.project(namespace: "ada", displayName: "p")
        let parent = try await store.createRun(NewRun(projectID: project.id))
        var childRequest = NewRun(projectID: project.id)
        childRequest.parent = parent.id
        let child = try await store.createRun(childRequest)
        #expect(child.parent == parent.id)
        var cycle = RunUpdate()
        cycle.parent = .some(child.id)
        await #expect(throws: QuillError.self) { try await store.updateRun(parent.id, cycle) }
        var remove = RunUpdate()
        remove.parent = .some(nil)
        #expect(try await store.updateRun(child.id, remove).parent == nil)
        var orphan = NewRun(projectID: project.id)
        orphan.parent = RunID("missing1")
        await #expect(throws: QuillError.self) { try await store.createRun(orphan) }
        var reparent = RunUpdate()
        reparent.parent = .some(parent.id)
        _ = try await store.updateRun(child.id, reparent)
        try await store.deleteRun(parent.id)
        #expect(try await store.run(child.id)?.parent == nil)
    }

    private func batches(_ store: any TrackingStore) async throws {
        let project = try await store.project(namespace: "ada", displayName: "p")
        let run = try await store.createRun(NewRun(projectID: project.id))
        var batch = LogBatch()
        batch.metrics = (0..<10).map { MetricValue(key: "loss", value: Double($0), step: $0, index: $0) }
        #expect(try await store.logBatch(run.id, batch) == BatchResult(metricsWritten: 10, metricsIgnored: 0))
        // The same batch again (a retried or repeated sync) changes nothing.
        #expect(try await store.logBatch(run.id, batch) == BatchResult(metricsWritten: 0, metricsIgnored: 10))
        // Values without index or step are numbered after the last ones.
        try await store.logMetric(run.id, MetricValue(key: "loss", value: 99))
        try await store.logMetric(run.id, MetricValue(key: "acc", value: 0.5))
        let history = try await store.metricHistory(run.id, key: "loss", steps: nil)
        #expect(history.count == 11)
        #expect(history.last?.index == 10)
        #expect(history.last?.step == 10)
        #expect(try await store.metricHistory(run.id, key: "acc", steps: nil).first?.step == 0)
        let details = try #require(try await store.runDetails(run.id))
        #expect(details.metrics["loss"]?.count == 11)
        #expect(details.metrics["loss"]?.last == 99)
    }

    private func nonFinite(_ store: any TrackingStore) async throws {
        let project = try await store.project(namespace: "ada", displayName: "p")
        let run = try await store.createRun(NewRun(projectID: project.id))
        var batch = LogBatch()
        batch.metrics = [
            MetricValue(key: "x", value: .nan, step: 0), MetricValue(key: "x", value: .infinity, step: 1),
            MetricValue(key: "x", value: -.infinity, step: 2), MetricValue(key: "x", value: 1.5, step: 3),
        ]
        _ = try await store.logBatch(run.id, batch)
        let values = try await store.metricHistory(run.id, key: "x", steps: nil).map(\.value)
        #expect(values.count == 4)
        #expect(values[0].isNaN)
        #expect(values[1] == .infinity)
        #expect(values[2] == -.infinity)
        #expect(values[3] == 1.5)
        let stats = try #require(try await store.runDetails(run.id)?.metrics["x"])
        #expect(stats.min == -.infinity)
        #expect(stats.max == .infinity)
    }

    private func history(_ store: any TrackingStore) async throws {
        let project = try await store.project(namespace: "ada", displayName: "p")
        let run = try await store.createRun(NewRun(projectID: project.id))
        var batch = LogBatch()
        batch.metrics = (0..<10_000).map {
            MetricValue(key: "loss", value: $0 == 4321 ? 1000 : sin(Double($0)), step: $0, index: $0)
        }
        _ = try await store.logBatch(run.id, batch)
        let range = try await store.metricHistory(run.id, key: "loss", steps: 100...199)
        #expect(range.map(\.step) == Array(100...199))
        let small = try await store.metricHistory(run.id, key: "loss", steps: nil, maxPoints: 200)
        #expect(small.count <= 200)
        #expect(small.contains { $0.value == 1000 })
        #expect(try await store.metricHistory(run.id, key: "nope", steps: nil).isEmpty)
    }

    /// A long history (long enough for a backend's block summaries) downsampled: every spike shows, at
    /// most `maxPoints` real points in index order, and the total is the metric's point count.
    private func downsampledSpikes(_ store: any TrackingStore) async throws {
        let project = try await store.project(namespace: "ada", displayName: "p")
        let run = try await store.createRun(NewRun(projectID: project.id))
        let count = 100_000
        func value(_ index: Int) -> Double {
            switch index {
            case 31_337: 1e9
            case 77_777: -1e9
            case 12_345: .nan
            case 50_000..<53_000: .nan  // long enough to fill whole buckets
            default: sin(Double(index) / 100)
            }
        }
        for start in stride(from: 0, to: count, by: 10_000) {
            var batch = LogBatch()
            batch.metrics = (start..<start + 10_000).map {
                MetricValue(key: "loss", value: value($0), step: $0, index: $0)
            }
            _ = try await store.logBatch(run.id, batch)
        }
        let all = try await store.metricHistory(run.id, key: "loss", steps: nil)
        for maxPoints in [4, 200, 1000] {
            let history = try await store.downsampledHistory(run.id, key: "loss", steps: nil, maxPoints: maxPoints)
            #expect(history.totalPoints == count)
            #expect(history.points.count <= maxPoints)
            #expect(zip(history.points, history.points.dropFirst()).allSatisfy { $0.index < $1.index })
            #expect(history.points.allSatisfy { Self.same($0, all[$0.index]) })
            #expect(history.points.contains { $0.value == 1e9 })
            #expect(history.points.contains { $0.value == -1e9 })
            #expect(history.points.first?.index == 0)
            #expect(history.points.last?.index == count - 1)
            if maxPoints >= 200 {
                #expect(history.points.contains { $0.value.isNaN })
                #expect(history.points.count > maxPoints / 2)
            }
        }
        let range = try await store.downsampledHistory(run.id, key: "loss", steps: 1000...1999, maxPoints: 10)
        #expect(range.totalPoints == 1000)
        #expect(range.points == MetricDownsampling.minMax(Array(all[1000...1999]), maxPoints: 10))
        let short = try await store.downsampledHistory(run.id, key: "loss", steps: nil, maxPoints: 50_000)
        let exact = MetricDownsampling.minMax(all, maxPoints: 50_000)
        #expect(short.points.count == exact.count && zip(short.points, exact).allSatisfy(Self.same))
    }

    /// Two points are the same point (NaN values compare equal).
    private static func same(_ left: MetricPoint, _ right: MetricPoint) -> Bool {
        left.index == right.index && left.step == right.step && left.timestamp == right.timestamp
            && (left.value == right.value || (left.value.isNaN && right.value.isNaN))
    }

    private func search(_ store: any TrackingStore) async throws {
        let project = try await store.project(namespace: "ada", displayName: "p")
        for (index, lr) in [0.1, 0.01, 0.001, 0.01].enumerated() {
            var request = NewRun(projectID: project.id)
            request.name = "run\(index)"
            request.config = ["lr": .double(lr)]
            request.tags = ["team": index % 2 == 0 ? "vision" : "nlp"]
            request.startedAt = Date(timeIntervalSince1970: 1_700_000_000 + Double(index))
            let run = try await store.createRun(request)
            var batch = LogBatch()
            batch.metrics = [MetricValue(key: "loss", value: 1.0 / Double(index + 1), step: 0)]
            _ = try await store.logBatch(run.id, batch)
        }
        var search = RunSearch(projectIDs: [project.id])
        #expect(try await store.searchRuns(search).runs.map(\.run.name) == ["run3", "run2", "run1", "run0"])
        search.query = try RunQuery(
            parsing: "params.lr in (0.01, 0.001) and metrics.loss.min < 0.4 or tags.team = vision"
        )
        #expect(Set(try await store.searchRuns(search).runs.map(\.run.name)) == ["run0", "run2", "run3"])
        search.query = nil
        search.sort = try RunSort(parsing: "metrics.loss.min")
        search.limit = 3
        let first = try await store.searchRuns(search)
        #expect(first.runs.map(\.run.name) == ["run3", "run2", "run1"])
        let next: String = try #require(first.nextCursor)
        search.cursor = next
        let second = try await store.searchRuns(search)
        #expect(second.runs.map(\.run.name) == ["run0"])
        #expect(second.nextCursor == nil)
        search.cursor = "garbage"
        await #expect(throws: QuillError.self) { try await store.searchRuns(search) }
    }

    /// `metricTail` gives what follows an index and the largest index; `logTail` the last lines with their
    /// position and the count, as `logLines` pages them.
    private func following(_ store: any TrackingStore) async throws {
        let project = try await store.project(namespace: "ada", displayName: "p")
        let run = try await store.createRun(NewRun(projectID: project.id))
        var batch = LogBatch()
        batch.metrics = (0..<50).map { MetricValue(key: "loss", value: Double($0), step: $0 * 2, index: $0 * 3) }
        batch.logs = (0..<7).map { LogLine(timestamp: nil, level: nil, message: "line \($0)") }
        _ = try await store.logBatch(run.id, batch)
        let start = try await store.metricTail(run.id, key: "loss", after: nil, limit: 10)
        #expect(start.points.isEmpty && start.lastIndex == 147)
        let next = try await store.metricTail(run.id, key: "loss", after: 140, limit: 10)
        #expect(next.points.map(\.index) == [141, 144, 147])
        #expect(next.points.map(\.value) == [47, 48, 49])
        #expect(next.points.map(\.step) == [94, 96, 98])
        let limited = try await store.metricTail(run.id, key: "loss", after: -1, limit: 2)
        #expect(limited.points.map(\.index) == [0, 3] && limited.lastIndex == 147)
        let none = try await store.metricTail(run.id, key: "nope", after: 0, limit: 5)
        #expect(none.points.isEmpty && none.lastIndex == nil)
        let tail = try await store.logTail(run.id, count: 3)
        #expect(tail.lines.map(\.message) == ["line 4", "line 5", "line 6"])
        #expect(tail.offset == 4 && tail.total == 7)
        let all = try await store.logTail(run.id, count: 100)
        #expect(all.lines.count == 7 && all.offset == 0 && all.total == 7)
        let ghost = try #require(RunID("ghost123"))
        await #expect(throws: QuillError.self) { _ = try await store.logTail(ghost, count: 1) }
        await #expect(throws: QuillError.self) { _ = try await store.metricTail(ghost, key: "x", after: 0, limit: 1) }
    }

    private func missing(_ store: any TrackingStore) async throws {
        let ghost = try #require(RunID("ghost123"))
        for attempt in [
            { _ = try await store.logBatch(ghost, LogBatch()) },
            { _ = try await store.updateRun(ghost, RunUpdate()) },
            { try await store.deleteRun(ghost) },
            { _ = try await store.metricHistory(ghost, key: "x", steps: nil) },
            { _ = try await store.setRunDeleted(ghost, true) },
            { _ = try await store.updateProject(999_999, ProjectUpdate()) },
        ] as [@Sendable () async throws -> Void] {
            do {
                try await attempt()
                Issue.record("expected not found")
            } catch let error as QuillError {
                #expect(error.code == .notFound)
            }
        }
        #expect(try await store.runDetails(ghost) == nil)
        await #expect(throws: QuillError.self) { try await store.createRun(NewRun(projectID: 999_999)) }
    }
}
