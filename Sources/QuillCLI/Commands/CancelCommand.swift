import ArgumentParser
import Foundation
import Quill
import QuillCore

/// `quill cancel ID…`: cancels jobs.
struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel jobs: a queued job at once, a running one is stopped by its worker and ends cancelled."
    )

    @OptionGroup var options: AccountServerOptions

    @Argument(help: "The jobs' ids.")
    var ids: [Int64]

    func validate() throws {
        guard !ids.isEmpty else { throw ValidationError("give the id of at least one job, e.g. `quill cancel 12`") }
    }

    func run() async throws {
        let client = try ServerClient(server: options.server).jobs
        var answers: [JSONValue] = []
        for id in ids {
            let (job, json) = try await client.cancelWithJSON(id)
            answers.append(json)
            if !options.json { Console.print("job \(id): \(JobOutput.status(job))") }
        }
        if options.json { Console.printJSON(.array(answers)) }
    }
}
