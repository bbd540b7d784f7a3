import ArgumentParser
import Foundation
import QuillAPI
import QuillClient
import QuillCore

/// `quill retry ID`: queues a finished job again.
struct RetryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Queue a finished (completed, failed or cancelled) job again."
    )

    @OptionGroup var options: AccountServerOptions

    @Argument(help: "The job's id.")
    var id: Int64

    func run() async throws {
        let server = try ServerClient(server: options.server)
        let (job, json) = try server.call(APIJob.self, "POST", APIPath.job(id, "retry"))
        if options.json { return Console.printJSON(json) }
        Console.print("job \(job.id) queued again (run \(job.runID))")
    }
}
