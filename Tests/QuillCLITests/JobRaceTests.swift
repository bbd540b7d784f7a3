import Foundation
import QuillCore
import QuillTesting
import Testing

@Suite("Jobs racing their own end, with real processes", .serialized)
struct JobRaceTests {
    @Test("cancel racing a job's natural end leaves one consistent final state, job and run alike")
    func cancelRacingTheEnd() throws {
        let cluster = try JobCluster()
        defer { cluster.stop() }
        try cluster.startWorker("racer", slots: 1, lease: 10)
        var outcomes: [String: Int] = [:]
        // Each job sleeps 2.5 s and the worker renews its lease (and so learns of a cancel) every 2 s: a cancel
        // before the first renewal stops the job, one after it meets the job's natural end.
        let delays = [0.3, 1.5, 1.9, 2.1, 2.4, 2.6]
        for delay in delays {
            let job = try cluster.submit([
                "--name", "race-\(delay)", "--", "/bin/sh", "-c", "sleep 2.5; echo natural-end",
            ])
            try cluster.waitFor(job.id, timeout: 60) { $0["status"] != "queued" }
            Thread.sleep(forTimeInterval: delay)
            _ = try? cluster.request("POST", "/api/v1/jobs/\(job.id)/cancel")
            let final = try cluster.waitFor(job.id, timeout: 60) {
                ["completed", "failed", "cancelled"].contains($0["status"]?.stringValue ?? "")
            }
            let status = try #require(final["status"]?.stringValue)
            outcomes[status, default: 0] += 1
            #expect(status == "completed" || status == "cancelled", "\(final)")
            let attempts = final["attempts"]?.arrayValue ?? []
            #expect(attempts.count == 1, "\(final)")
            #expect(attempts.first?["outcome"]?.stringValue == status, "\(final)")
            #expect(final["ended_at"] != nil && final["ended_at"] != .null, "\(final)")
            // The run agrees with the job, and stays that way.
            let expected = status == "completed" ? "completed" : "killed"
            let run = try cluster.get("/api/v1/runs/\(job.run)")
            #expect(run["status"]?.stringValue == expected, "job \(status), run \(String(describing: run["status"]))")
            Thread.sleep(forTimeInterval: 0.3)
            #expect(try cluster.job(job.id)["status"]?.stringValue == status)
            #expect(try cluster.get("/api/v1/runs/\(job.run)")["status"]?.stringValue == expected)
        }
        #expect(outcomes.values.reduce(0, +) == delays.count)
        #expect(outcomes["cancelled", default: 0] >= 1, "no cancel won the race: \(outcomes)")
        print("cancel racing the end: \(outcomes)")
    }
}
