import ArgumentParser
import Foundation
import QuillAPI
import QuillClient
import QuillCore

/// `quill job ID`: one job with its attempts.
struct JobCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "job", abstract: "Show a job and its attempts.")

    @OptionGroup var options: AccountServerOptions

    @Argument(help: "The job's id.")
    var id: Int64

    func run() async throws {
        let server = try ServerClient(server: options.server)
        let (job, json) = try server.call(APIJob.self, "GET", APIPath.job(id))
        if options.json { return Console.printJSON(json) }
        Console.print(JobOutput.details(job))
    }
}
