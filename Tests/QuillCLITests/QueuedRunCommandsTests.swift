import Foundation
import QuillCore
import QuillTesting
import Testing

/// Every job is a run from its submission: real `quill serve`, `quill submit`, `quill worker` and `quill runs`
/// processes on 127.0.0.1.
@Suite("A job's run from submission to its end", .serialized)
struct QueuedRunCommandsTests {
    @Test(
        "a submitted job's run exists at once, queued; claim makes it running, cancel killed, retry queued, a lost attempt queued, used-up attempts failed"
    )
    func runFollowsTheJob() throws {
        let cluster = try JobCluster()
        defer { cluster.stop() }
        // No worker yet: every job waits.
        let long = try cluster.submit([
            "--name", "long", "--tag", "team=ml", "--config", "lr=0.1", "--max-attempts", "2", "--",
            "/bin/sh", "-c", "sleep 60",
        ])
        let once = try cluster.submit(["--name", "once", "--max-attempts", "1", "--", "/bin/sh", "-c", "sleep 60"])
        let quick = try cluster.submit(["--name", "quick", "--", "/bin/sh", "-c", "echo quick-done"])

        let run = try cluster.get("/api/v1/runs/\(long.run)")
        #expect(run["status"] == "queued")
        #expect(run["name"] == "long")
        #expect(run["ended_at"] == .null)
        #expect(run["config"]?["lr"]?.doubleValue == 0.1)
        #expect(run["tags"]?["team"] == "ml")
        #expect(run["tags"]?["quill.job"] == .string(String(long.id)))

        // `quill runs --status queued` lists the three runs; STARTED is "-" for a run that has not started.
        let listed = try cluster.quill("runs", "--server", cluster.url, "--status", "queued", "--json")
        #expect(listed.status == 0, "\(listed.stderr)")
        let ids = try JSONParser.parse(listed.stdout)["runs"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
        #expect(Set(ids) == [long.run, once.run, quick.run])
        let table = try cluster.quill("runs", "--server", cluster.url, "--status", "queued")
        let row = table.stdout.split(separator: "\n").first { $0.contains(quick.run) }.map(String.init) ?? ""
        #expect(row.contains(" queued "), "\(table.stdout)")
        #expect(row.split(separator: " ").contains("-"), "a queued run has no start yet: \(row)")
        let refused = try cluster.quill("runs", "--server", cluster.url, "--status", "waiting")
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("queued"), "the error lists the statuses: \(refused.stderr)")

        // Cancelling a queued job kills its run at once; retrying it queues the run again.
        #expect(try cluster.quill("cancel", String(quick.id), "--server", cluster.url).status == 0)
        let killed = try cluster.get("/api/v1/runs/\(quick.run)")
        #expect(killed["status"] == "killed")
        #expect(killed["ended_at"] != .null)
        #expect(try cluster.quill("retry", String(quick.id), "--server", cluster.url).status == 0)
        let requeued = try cluster.get("/api/v1/runs/\(quick.run)")
        #expect(requeued["status"] == "queued")
        #expect(requeued["ended_at"] == .null)

        // A worker (two slots, short lease) claims the two oldest: their runs run on its host.
        try cluster.startWorker("doomed", slots: 2, lease: 2)
        try cluster.waitFor(long.id) { $0["status"] == "running" }
        try cluster.waitFor(once.id) { $0["status"] == "running" }
        let running = try cluster.get("/api/v1/runs/\(long.run)")
        #expect(running["status"] == "running")
        #expect(running["host"] == "doomed")
        let started = running["started_at"]?.stringValue.flatMap(Timestamp.parse)
        let submitted = run["started_at"]?.stringValue.flatMap(Timestamp.parse)
        #expect(started != nil && submitted != nil && started! >= submitted!, "the run starts when the job starts")

        // The worker dies: the job with an attempt left is queued again, its run too; the other one failed.
        cluster.killWorker("doomed")
        try cluster.waitFor(long.id, timeout: 60) { $0["status"] == "queued" }
        try cluster.waitFor(once.id, timeout: 60) { $0["status"] == "failed" }
        #expect(try cluster.get("/api/v1/runs/\(long.run)")["status"] == "queued")
        let failed = try cluster.get("/api/v1/runs/\(once.run)")
        #expect(failed["status"] == "failed")
        #expect(failed["ended_at"] != .null)

        // Cancel the long one while queued; a new worker runs the quick one to the end.
        #expect(try cluster.quill("cancel", String(long.id), "--server", cluster.url).status == 0)
        #expect(try cluster.get("/api/v1/runs/\(long.run)")["status"] == "killed")
        try cluster.startWorker("rescuer")
        try cluster.waitFor(quick.id) { $0["status"] == "completed" }
        let done = try cluster.get("/api/v1/runs/\(quick.run)")
        #expect(done["status"] == "completed")
        #expect(done["host"] == "rescuer")
        #expect(try cluster.logLines(quick.run).contains("quick-done"))
        let none = try cluster.quill("runs", "--server", cluster.url, "--status", "queued", "--json")
        #expect(try JSONParser.parse(none.stdout)["runs"]?.arrayValue?.isEmpty == true, "\(none.stdout)")
    }
}
