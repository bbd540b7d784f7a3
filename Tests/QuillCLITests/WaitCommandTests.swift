import Foundation
import QuillCore
import QuillTesting
import Testing

@Suite("quill wait and quill cancel through the SDK's client", .serialized)
struct WaitCommandTests {
    @Test("--timeout passing first exits 124 with one line; any duration works; --json prints the final jobs")
    func waitTimeout() throws {
        let cluster = try JobCluster()
        defer { cluster.stop() }
        let queued = try cluster.submit(["--", "sleep", "1"])
        let other = try cluster.submit(["--", "sleep", "1"])
        let timedOut = try cluster.quill(
            "wait",
            String(queued.id),
            String(other.id),
            "--server",
            cluster.url,
            "--timeout",
            "0.3s"
        )
        #expect(timedOut.status == 124)
        #expect(timedOut.errorLines.last?.hasPrefix("error: 2 job(s) still not done after --timeout 0.3s") == true)
        #expect(timedOut.stderr.contains("job \(queued.id) (sleep): queued"))

        let cancel = try cluster.quill("cancel", String(queued.id), String(other.id), "--server", cluster.url, "--json")
        #expect(cancel.status == 0, "\(cancel.stderr)")
        #expect(
            try JSONParser.parse(cancel.stdout).arrayValue?.compactMap { $0["status"]?.stringValue } == [
                "cancelled", "cancelled",
            ]
        )
        // A duration far past what a clock can hold is a long wait, not a crash.
        let huge = try cluster.quill(
            "wait",
            String(queued.id),
            String(other.id),
            "--server",
            cluster.url,
            "--timeout",
            "99999999999999999999d",
            "--json"
        )
        #expect(huge.status == 130)
        let jobs = try JSONParser.parse(huge.stdout).arrayValue ?? []
        #expect(jobs.compactMap { $0["id"]?.intValue } == [queued.id, other.id])
        let missing = try cluster.quill("wait", "999999", "--server", cluster.url)
        #expect(missing.status == 1)
        #expect(missing.errorLines.count == 1)
        #expect(missing.stderr.contains("job 999999 not found"))
    }
}
