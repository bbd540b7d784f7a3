import ArgumentParser
import Foundation
import QuillAPI
import QuillClient
import QuillCore

/// `quill logs ID [-f]`: a job's output, which is its run's log.
struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Print a job's output (its run's log); with -f, follow it until the job ends."
    )

    @Option(help: ArgumentHelp("The server (default: $QUILL_TRACKING_URI).", valueName: "url"))
    var server: String?

    @Argument(help: "The job's id.")
    var id: Int64

    @Flag(name: .shortAndLong, help: "Keep printing new output until the job ends.")
    var follow = false

    func validate() throws {
        try ServerURL.check(server: server)
    }

    func run() async throws {
        let client = try ServerClient(server: server)
        var offset = 0
        while true {
            let (job, _) = try client.call(APIJob.self, "GET", APIPath.job(id))
            let ended = JobStatus(rawValue: job.status)?.isTerminal == true
            // The run exists once the job started; before that there is no output.
            if job.startedAt != nil || !job.attempts.isEmpty {
                let path = APIPath.runLogs(job.runID) + APIPath.query([("after", String(offset)), ("limit", "10000")])
                let (page, _) = try client.call(APILogList.self, "GET", path)
                for line in page.logs { Console.print(line.message) }
                offset = page.next
                if page.next < page.total { continue }
            }
            if !follow || ended { return }
            try await Task.sleep(for: .milliseconds(500))
        }
    }
}
