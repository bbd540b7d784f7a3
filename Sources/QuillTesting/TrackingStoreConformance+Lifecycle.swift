import Foundation
import QuillCore
import QuillStore
import Testing

// Project renames, tags and the trash; runs in the trash and the searches that see them; removed tags; params
// that may not change (MLflow's rule).
extension TrackingStoreConformance {
    func projectUpdates(_ store: any TrackingStore) async throws {
        let project = try await store.project(namespace: "ada", displayName: "Image Classifier")
        #expect(project.tags.isEmpty && project.deletedAt == nil && project.updatedAt == nil)
        let other = try await store.project(namespace: "ada", displayName: "Other")
        let elsewhere = try await store.project(namespace: "grace", displayName: "Renamed")

        var update = ProjectUpdate()
        update.displayName = "  Renamed  "
        update.setTags = ["team": "vision", "stage": "dev"]
        let renamed = try await store.updateProject(project.id, update)
        #expect(renamed.displayName == "Renamed", "trimmed, and another namespace's name does not conflict")
        #expect(renamed.slug == project.slug, "the slug, and so the URLs, stay")
        #expect(renamed.tags == ["team": "vision", "stage": "dev"])
        let firstChange = try #require(renamed.updatedAt)
        #expect(renamed.deletedAt == nil && renamed.createdAt == project.createdAt)
        #expect(try await store.project(id: project.id) == renamed)
        #expect(try await store.project(namespace: "ada", slug: project.slug) == renamed)
        #expect(try await store.projects().first { $0.id == project.id } == renamed)
        #expect(elsewhere.displayName == "Renamed")
        // Get-or-create by display name finds the renamed project rather than making a second "Renamed".
        #expect(try await store.project(namespace: "ada", displayName: "Renamed").id == project.id)

        // Removed tags go (a missing key is ignored), set ones are upserted; removed before set.
        update = ProjectUpdate()
        update.removedTags = ["stage", "never-set"]
        update.setTags = ["team": "nlp"]
        let retagged = try await store.updateProject(project.id, update)
        #expect(retagged.tags == ["team": "nlp"])
        #expect(retagged.displayName == "Renamed")
        #expect(try #require(retagged.updatedAt) >= firstChange)
        update = ProjectUpdate()
        update.removedTags = ["team"]
        update.setTags = ["team": "audio"]
        #expect(try await store.updateProject(project.id, update).tags == ["team": "audio"])

        // A change that changes nothing returns the project as it is.
        let unchanged = try await store.updateProject(project.id, ProjectUpdate())
        #expect(try await store.project(id: project.id) == unchanged)

        // The trash: the project stays readable by id, slug and in the list, with its deletion time.
        update = ProjectUpdate()
        update.deleted = true
        let trashed = try await store.updateProject(project.id, update)
        let deletedAt = try #require(trashed.deletedAt)
        #expect(trashed.tags == ["team": "audio"] && trashed.displayName == "Renamed")
        #expect(try await store.project(id: project.id)?.deletedAt == deletedAt)
        #expect(try await store.projects().first { $0.id == project.id }?.deletedAt == deletedAt)
        #expect(try await store.updateProject(project.id, update).deletedAt == deletedAt, "trashing again keeps it")

        // A display name another project of the namespace has is a conflict, in the trash or not.
        var rename = ProjectUpdate()
        rename.displayName = "Renamed"
        try await expectCode(.conflict) { _ = try await store.updateProject(other.id, rename) }
        rename.displayName = "Other"
        try await expectCode(.conflict) { _ = try await store.updateProject(project.id, rename) }
        rename.displayName = "   "
        try await expectCode(.invalidArgument) { _ = try await store.updateProject(other.id, rename) }
        #expect(try await store.project(id: other.id)?.displayName == "Other", "a refused change changes nothing")
        // Renaming a project to its own name is no conflict.
        rename.displayName = "Other"
        #expect(try await store.updateProject(other.id, rename).displayName == "Other")

        update.deleted = false
        let restored = try await store.updateProject(project.id, update)
        #expect(restored.deletedAt == nil && restored.tags == ["team": "audio"])
        #expect(try await store.project(id: project.id)?.deletedAt == nil)

        try await expectCode(.notFound) { _ = try await store.updateProject(999_999, ProjectUpdate()) }
    }

    func runTrashAndSearchLifecycle(_ store: any TrackingStore) async throws {
        let project = try await store.project(namespace: "ada", displayName: "trash")
        var ids: [RunID] = []
        for index in 0..<30 {
            var request = NewRun(projectID: project.id)
            request.name = "run-\(index)"
            // Few distinct start times, so pages break inside ties.
            request.startedAt = Date(timeIntervalSince1970: 1_700_000_000 + Double(index % 4))
            request.config = ["lr": [0.1, 0.01, 0.001][index % 3]]
            request.tags = ["team": index % 2 == 0 ? "vision" : "nlp"]
            let run = try await store.createRun(request)
            try await store.logMetric(run.id, MetricValue(key: "loss", value: Double(index % 7), step: 0))
            ids.append(run.id)
        }
        let trashed = Set(ids.enumerated().filter { $0.offset % 3 != 1 && $0.offset % 5 != 0 }.map(\.element))
        for id in trashed {
            let run = try await store.setRunDeleted(id, true)
            #expect(run.deletedAt != nil)
        }
        // A run in the trash still reads by id, with everything it logged.
        let first = try #require(trashed.first)
        let details = try #require(try await store.runDetails(first))
        #expect(details.run.deletedAt != nil && details.metrics["loss"]?.count == 1 && details.tags["team"] != nil)
        #expect(try await store.run(first)?.deletedAt == details.run.deletedAt)
        #expect(
            try await store.setRunDeleted(first, true).deletedAt == details.run.deletedAt,
            "deleting again keeps the time"
        )

        var all: [RunDetails] = []
        for id in ids { all.append(try #require(try await store.runDetails(id))) }
        let queries: [String?] = [nil, "tags.team = vision or params.lr < 0.05", "metrics.loss >= 3"]
        let sorts: [String?] = [nil, "params.lr", "metrics.loss desc", "name"]
        for lifecycle in RunLifecycle.allCases {
            let seen = all.filter { details in
                switch lifecycle {
                case .active: details.run.deletedAt == nil
                case .deleted: details.run.deletedAt != nil
                case .all: true
                }
            }
            for queryText in queries {
                for sortText in sorts {
                    let query = try queryText.map { try RunQuery(parsing: $0) }
                    let sort = try sortText.map { try RunSort(parsing: $0) }
                    let expected = Self.expected(seen, query: query, sort: sort)
                    for limit in [3, 100] {
                        var search = RunSearch(projectIDs: [project.id])
                        search.lifecycle = lifecycle
                        search.query = query
                        search.sort = sort
                        search.limit = limit
                        let walked = try await Self.walk(store, search)
                        let label = "\(lifecycle) \(queryText ?? "-") sort \(sortText ?? "-") limit \(limit)"
                        #expect(walked == expected, "\(label)")
                    }
                }
            }
        }
        var active = RunSearch(projectIDs: [project.id])
        #expect(try await Self.walk(store, active).count == ids.count - trashed.count)
        #expect(RunSearch(projectIDs: []).lifecycle == .active, "searches see active runs unless asked")
        active.projectIDs = [project.id, project.id + 1_000]
        #expect(Set(try await Self.walk(store, active)) == Set(ids).subtracting(trashed), "several projects")

        // Restored, a run is found again where it was.
        let restored = try await store.setRunDeleted(first, false)
        #expect(restored.deletedAt == nil)
        active.projectIDs = [project.id]
        #expect(try await Self.walk(store, active).contains(first))
        var deleted = RunSearch(projectIDs: [project.id])
        deleted.lifecycle = .deleted
        #expect(try await Self.walk(store, deleted).contains(first) == false)
        #expect(try await store.runDetails(first)?.run.deletedAt == nil)

        let ghost = try #require(RunID("ghost123"))
        try await expectCode(.notFound) { _ = try await store.setRunDeleted(ghost, true) }
    }

    func removingTags(_ store: any TrackingStore) async throws {
        let project = try await store.project(namespace: "ada", displayName: "p")
        var request = NewRun(projectID: project.id)
        request.tags = ["team": "vision", "stage": "dev", "keep": "yes"]
        let run = try await store.createRun(request)
        var batch = LogBatch()
        batch.removedTags = ["team", "never-set"]
        #expect(!batch.isEmpty)
        _ = try await store.logBatch(run.id, batch)
        #expect(try await store.runDetails(run.id)?.tags == ["stage": "dev", "keep": "yes"])
        // Removed first, then set: a key in both ends up set.
        batch = LogBatch()
        batch.removedTags = ["stage", "keep"]
        batch.tags = ["stage": "prod"]
        _ = try await store.logBatch(run.id, batch)
        #expect(try await store.runDetails(run.id)?.tags == ["stage": "prod"])
        // Searches see the removal at once.
        var search = RunSearch(projectIDs: [project.id])
        search.query = try RunQuery(parsing: "tags.keep = yes")
        #expect(try await store.searchRuns(search).runs.isEmpty)
        search.query = try RunQuery(parsing: "tags.stage = prod")
        #expect(try await store.searchRuns(search).runs.map(\.run.id) == [run.id])
    }

    func paramChangesRejected(_ store: any TrackingStore) async throws {
        let project = try await store.project(namespace: "ada", displayName: "p")
        var request = NewRun(projectID: project.id)
        request.tags = ["team": "vision"]
        let run = try await store.createRun(request)
        var first = LogBatch()
        first.paramChanges = .reject
        first.params = ["lr": "0.1", "quoted": "it's", "quill": 0.5]
        _ = try await store.logBatch(run.id, first)

        // The same values again (and `"0.5"` over Quill's number 0.5, the same text to MLflow) are no change.
        var again = LogBatch()
        again.paramChanges = .reject
        again.params = ["lr": "0.1", "quill": "0.5", "new": "1"]
        again.metrics = [MetricValue(key: "loss", value: 1, step: 0)]
        _ = try await store.logBatch(run.id, again)
        var details = try #require(try await store.runDetails(run.id))
        #expect(details.params == ["lr": "0.1", "quoted": "it's", "quill": 0.5, "new": "1"])
        #expect(details.metrics["loss"]?.count == 1)

        // A changed value refuses the whole batch, with MLflow's message, and writes nothing of it.
        var change = LogBatch()
        change.paramChanges = .reject
        change.params = ["lr": "0.2", "quoted": "its", "fresh": "x", "new": "1"]
        change.metrics = [MetricValue(key: "loss", value: 2, step: 1)]
        change.tags = ["stage": "dev"]
        change.removedTags = ["team"]
        change.logs = [LogLine(timestamp: nil, level: nil, message: "refused")]
        change.links = [RunLink(label: "paper", url: "https://example.org")]
        do {
            _ = try await store.logBatch(run.id, change)
            Issue.record("expected the batch to be refused")
        } catch let error as QuillError {
            #expect(error.code == .invalidArgument)
            #expect(
                error.message
                    == "Changing param values is not allowed. Params were already logged='[{'key': 'lr', 'old_value': '0.1', 'new_value': '0.2'}, {'key': 'quoted', 'old_value': \"it's\", 'new_value': 'its'}]' for run ID='\(run.id)'."
            )
        }
        details = try #require(try await store.runDetails(run.id))
        #expect(details.params == ["lr": "0.1", "quoted": "it's", "quill": 0.5, "new": "1"])
        #expect(details.tags == ["team": "vision"])
        #expect(details.metrics["loss"]?.count == 1 && details.links.isEmpty)
        #expect(try await store.logLines(run.id, limit: 10).isEmpty)
        #expect(try await store.metricHistory(run.id, key: "loss", steps: nil).map(\.step) == [0])

        // A run's config counts as its params (flattened by dotted key), as MLflow is shown it.
        var configured = NewRun(projectID: project.id)
        configured.config = ["optimizer": ["lr": 0.1], "epochs": 3]
        let withConfig = try await store.createRun(configured)
        var overConfig = LogBatch()
        overConfig.paramChanges = .reject
        overConfig.params = ["optimizer.lr": "0.1", "epochs": "3", "seed": "1"]
        _ = try await store.logBatch(withConfig.id, overConfig)
        overConfig.params = ["optimizer.lr": "0.01"]
        try await expectCode(.invalidArgument) { _ = try await store.logBatch(withConfig.id, overConfig) }
        #expect(try await store.runDetails(withConfig.id)?.params == ["seed": "1"])

        // Quill's own policy replaces.
        var replace = LogBatch()
        replace.params = ["lr": "0.2"]
        _ = try await store.logBatch(run.id, replace)
        #expect(try await store.runDetails(run.id)?.params["lr"] == "0.2")

        // Conflicting batches at the same time: exactly one wins, the others are refused whole.
        for round in 0..<4 {
            let raced = try await store.createRun(NewRun(projectID: project.id))
            let outcomes = await withTaskGroup(of: (Int, QuillError.Code?).self) { group in
                for contender in 0..<4 {
                    group.addTask {
                        var batch = LogBatch()
                        batch.paramChanges = .reject
                        batch.params = ["seed": .string("\(contender)"), "round": .string("\(round)")]
                        batch.metrics = [MetricValue(key: "m\(contender)", value: 1, step: 0)]
                        do {
                            _ = try await store.logBatch(raced.id, batch)
                            return (contender, nil)
                        } catch let error as QuillError {
                            return (contender, error.code)
                        } catch {
                            return (contender, .io)
                        }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            let winners = outcomes.filter { $0.1 == nil }.map(\.0)
            #expect(winners.count == 1, "\(outcomes)")
            #expect(outcomes.filter { $0.1 == .invalidArgument }.count == 3, "\(outcomes)")
            let details = try #require(try await store.runDetails(raced.id))
            let winner = try #require(winners.first)
            #expect(details.params == ["seed": .string("\(winner)"), "round": .string("\(round)")])
            #expect(details.metrics.keys.sorted() == ["m\(winner)"], "the losers wrote nothing")
        }
    }

    /// Expects `body` to throw a ``QuillError`` with `code`.
    func expectCode(_ code: QuillError.Code, _ body: () async throws -> Void) async throws {
        do {
            try await body()
            Issue.record("expected \(code)")
        } catch let error as QuillError {
            #expect(error.code == code, "\(error)")
        }
    }
}
