import ArgumentParser
import Foundation
import Quill
import QuillCore

/// `quill job ID`: one job with its attempts.
struct JobCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "job", abstract: "Show a job and its attempts.")

    @OptionGroup var options: AccountServerOptions

    @Argument(help: "The job's id.")
    var id: Int64

    func run() async throws {
        let (job, json) = try await ServerClient(server: options.server).jobs.jobWithJSON(id)
        if options.json { return Console.printJSON(json) }
        Console.print(JobOutput.details(job))
    }
}
