import ArgumentParser
import Foundation
import Quill
import QuillAPI
import QuillCore

/// `quill wait ID… [--timeout D]`: waits for jobs to end and exits with their status.
struct WaitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wait",
        abstract: "Wait for jobs to end; exit with the status of the first that did not complete.",
        discussion: """
            Exits 0 when every job completed; for a failed job, its command's exit status (or 128 + the \
            signal that ended it, or 1); 130 for a cancelled job; 124 when --timeout passed first.
            """
    )

    @OptionGroup var options: AccountServerOptions

    @Argument(help: "The jobs' ids.")
    var ids: [Int64]

    @Option(help: ArgumentHelp("Give up after this long (90s, 15m, 2h).", valueName: "duration"))
    var timeout: String?

    func validate() throws {
        guard !ids.isEmpty else { throw ValidationError("give the id of at least one job, e.g. `quill wait 12`") }
        if let timeout, JobOutput.seconds(timeout) == nil {
            throw ValidationError("--timeout takes a duration such as 90s, 15m or 2h, not '\(timeout)'")
        }
    }

    func run() async throws {
        let client = try ServerClient(server: options.server).jobs
        let shown = Locked<[Int64: String]>([:])
        let quiet = options.json
        let finished: [(job: APIJob, json: JSONValue)]
        do {
            finished = try await client.waitWithJSON(
                for: ids,
                pollInterval: .milliseconds(250),
                timeout: timeout.flatMap(JobOutput.duration)
            ) { job in
                let line = "job \(job.id) (\(job.name)): \(JobOutput.status(job))"
                let changed = shown.withLock { lines in
                    defer { lines[job.id] = line }
                    return lines[job.id] != line
                }
                if changed, !quiet { Console.printError(line) }
            }
        } catch let timedOut as JobWaitTimeout {
            let waiting = timedOut.jobs.filter { JobStatus(rawValue: $0.status)?.isTerminal != true }.count
            Console.printError(
                "error: \(waiting) job(s) still not done after --timeout \(timeout ?? ""); they keep running (`quill cancel` stops them)"
            )
            throw ExitCode(124)
        }
        if options.json { Console.printJSON(.array(finished.map(\.json))) }
        for (job, _) in finished {
            let code = Self.exitCode(job)
            if code != 0 { throw ExitCode(code) }
        }
    }

    /// The exit status that stands for a job's end.
    static func exitCode(_ job: APIJob) -> Int32 {
        switch job.status {
        case "completed": return 0
        case "cancelled": return 130
        default:
            if let code = job.exitCode, code != 0 { return Int32(clamping: code) }
            if let signal = job.signal { return Int32(clamping: 128 + signal) }
            return 1
        }
    }
}
