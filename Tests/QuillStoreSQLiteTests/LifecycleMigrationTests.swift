import Foundation
import GRDB
import QuillCore
import QuillStore
import QuillStoreSQLite
import QuillTesting
import Testing

/// Migration "v16: project tags and the trash" on a database made by the migrations before it, and how the
/// trash shows in counts and activity.
@Suite("SQLite: project tags and the trash")
struct LifecycleMigrationTests {
    @Test("v16: a v15 database keeps its projects and runs, all active, and takes tags, renames and the trash")
    func migration() async throws {
        let temp = TemporaryDirectory("quill-v16")
        let currentPath = temp.file("current.db")
        let olderPath = temp.file("v15.db")
        let current = try SQLiteTrackingStore(path: currentPath)
        let project = try await current.project(namespace: "ada", displayName: "Vision")
        var request = NewRun(projectID: project.id)
        request.name = "old"
        request.tags = ["team": "ml"]
        request.config = ["lr": 0.1]
        let old = try await current.createRun(request)
        var batch = LogBatch()
        batch.metrics = (0..<10).map { MetricValue(key: "loss", value: Double($0), step: $0) }
        batch.params = ["seed": 7]
        _ = try await current.logBatch(old.id, batch)
        let before = try #require(try await current.runDetails(old.id))
        let schema = try JobRunTests.schema(currentPath)
        try await current.close()

        try JobRunTests.copy(currentPath, to: olderPath, migratedUpTo: "v15: queued runs")
        #expect(try Self.columns(olderPath, "runs").contains("deleted_at") == false)
        #expect(try JobRunTests.schema(olderPath).contains("table project_tags") == false)
        let migrated = try SQLiteTrackingStore(path: olderPath)
        #expect(try Self.columns(olderPath, "runs").contains("deleted_at"))
        #expect(try Self.columns(olderPath, "projects").isSuperset(of: ["deleted_at", "updated_at"]))
        #expect(try JobRunTests.schema(olderPath) == schema, "the same tables and indexes as a new database")

        #expect(try await migrated.runDetails(old.id) == before)
        #expect(before.run.deletedAt == nil)
        let stored = try #require(try await migrated.project(id: project.id))
        #expect(stored == project)
        #expect(stored.tags.isEmpty && stored.deletedAt == nil && stored.updatedAt == nil)
        var search = RunSearch(projectIDs: [project.id])
        search.query = try RunQuery(parsing: "tags.team = ml and metrics.loss.last = 9")
        #expect(try await migrated.searchRuns(search).runs.map(\.run.id) == [old.id])

        var update = ProjectUpdate()
        update.setTags = ["owner": "ada"]
        update.displayName = "Vision 2"
        let changed = try await migrated.updateProject(project.id, update)
        #expect(changed.tags == ["owner": "ada"] && changed.displayName == "Vision 2" && changed.updatedAt != nil)
        _ = try await migrated.setRunDeleted(old.id, true)
        #expect(try await migrated.searchRuns(search).runs.isEmpty)
        search.lifecycle = .deleted
        #expect(try await migrated.searchRuns(search).runs.map(\.run.id) == [old.id])
        // Deleting the project deletes its tags (foreign key cascade), as it deletes its runs.
        try await DatabaseQueue(path: olderPath).write { db in
            try db.execute(sql: "DELETE FROM projects WHERE id = ?", arguments: [project.id])
        }
        #expect(try Self.count(olderPath, "project_tags") == 0)
        try await migrated.close()
    }

    @Test("counts and activity count active projects and runs; storage counts every run's points")
    func countsLeaveTheTrashOut() async throws {
        let temp = TemporaryDirectory("quill-trash-counts")
        let store = try SQLiteTrackingStore(path: temp.file("quill.db"))
        let project = try await store.project(namespace: "ada", displayName: "p")
        let gone = try await store.project(namespace: "ada", displayName: "gone")
        var runs: [StoredRun] = []
        for _ in 0..<3 {
            let run = try await store.createRun(NewRun(projectID: project.id))
            try await store.logMetric(run.id, MetricValue(key: "loss", value: 1, step: 0))
            runs.append(run)
        }
        _ = try await store.setRunDeleted(runs[0].id, true)
        var update = ProjectUpdate()
        update.deleted = true
        _ = try await store.updateProject(gone.id, update)

        let counts = try await store.counts()
        #expect(counts.projects == 1 && counts.runs == 2 && counts.metricPoints == 3)
        let activity = try await store.projectActivity([project.id])
        #expect(activity[project.id]?.runsByStatus[.running] == 2)
        let statistics = try await store.statistics(
            projectIDs: [project.id, gone.id],
            since: Date(timeIntervalSince1970: 0)
        )
        #expect(statistics.projects == 1)
        #expect(statistics.runsByStatus[.running] == 2)
        #expect(statistics.runsPerDay.map(\.runs).reduce(0, +) == 2)
        #expect(statistics.metricPoints == 3 && statistics.metricSeries == 3)

        _ = try await store.setRunDeleted(runs[0].id, false)
        #expect(try await store.counts().runs == 3)
    }

    @Test("a search of deleted runs reads the trash's partial index, an active one its usual index")
    func searchPlans() async throws {
        let temp = TemporaryDirectory("quill-trash-plan")
        let path = temp.file("quill.db")
        let store = try SQLiteTrackingStore(path: path)
        try await store.close()
        let plans = try await DatabaseQueue(path: path).read { db in
            try ["IS NOT NULL", "IS NULL"].map { test in
                try Row.fetchAll(
                    db,
                    sql: """
                        EXPLAIN QUERY PLAN SELECT r.* FROM runs r WHERE r.project_id IN (1) AND r.deleted_at \(test)
                        ORDER BY r.started_at DESC, r.id DESC LIMIT 51
                        """
                ).map { $0["detail"] as String }.joined(separator: "; ")
            }
        }
        #expect(plans[0].contains("runs_deleted_by_project"), "\(plans[0])")
        #expect(plans[1].contains("runs_by_project_start"), "\(plans[1])")
        #expect(!plans[0].contains("TEMP B-TREE") && !plans[1].contains("TEMP B-TREE"), "\(plans)")
    }

    static func columns(_ path: String, _ table: String) throws -> Set<String> {
        try DatabaseQueue(path: path).read { db in
            Set(try Row.fetchAll(db, sql: "PRAGMA table_info(\(table))").map { $0["name"] as String })
        }
    }

    static func count(_ path: String, _ table: String) throws -> Int {
        try DatabaseQueue(path: path).read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)") ?? 0 }
    }
}
