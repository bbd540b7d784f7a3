import ArgumentParser
import Foundation
import QuillAPI
import QuillClient
import QuillCore

/// `quill jobs [--status S]`: the jobs on a server, newest first.
struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "List the jobs on a server, newest first, with the counts by status."
    )

    @OptionGroup var options: AccountServerOptions

    @Option(help: "Only jobs of this status: queued, running, completed, failed, cancelled (repeatable).")
    var status: [String] = []

    @Option(help: "At most this many jobs.")
    var limit = 50

    func validate() throws {
        for status in status where JobStatus(rawValue: status) == nil {
            throw ValidationError(
                "--status takes one of \(JobStatus.allCases.map(\.rawValue).joined(separator: ", ")), not '\(status)'"
            )
        }
        guard (1...1000).contains(limit) else { throw ValidationError("--limit must be 1 to 1000") }
    }

    func run() async throws {
        let server = try ServerClient(server: options.server)
        let query = APIPath.query([("limit", String(limit))] + status.map { ("status", $0) })
        let (list, json) = try server.call(APIJobList.self, "GET", APIPath.jobs + query)
        if options.json { return Console.printJSON(json) }
        Console.print(JobOutput.table(list.jobs))
        let counts = list.counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }
        Console.print(counts.isEmpty ? "no jobs" : counts.joined(separator: ", "))
    }
}
