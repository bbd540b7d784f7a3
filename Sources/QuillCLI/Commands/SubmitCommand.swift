import ArgumentParser
import Foundation
import Quill
import QuillAPI
import QuillCore

/// `quill submit [options] -- COMMAND ARGS…`: queues a job on a server.
struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Queue a command as a job on a server; a worker runs it and it becomes a run.",
        discussion: """
            Prints the job's id and its run's id. `quill wait ID` follows it, `quill job ID` shows it, \
            `quill cancel ID` stops it. Durations take s, m, h or d (90s, 15m, 2h).
            """
    )

    @OptionGroup var options: AccountServerOptions

    @OptionGroup var job: JobOptions

    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments, after --.")
    var command: [String] = []

    func validate() throws {
        try CommandAfterDashes.validate(command, subcommand: "submit", help: Self.self)
    }

    /// The command without the `--` that separates it.
    var arguments: [String] { CommandAfterDashes.arguments(command) }

    func run() async throws {
        let client = try ServerClient(server: options.server).jobs
        let (job, json) = try await client.submitWithJSON(try self.job.submission(argv: arguments))
        if options.json { return Console.printJSON(json) }
        Console.print("job \(job.id) queued (run \(job.runID)); follow it with `quill wait \(job.id)`")
    }
}
