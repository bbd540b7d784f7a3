import ArgumentParser
import Foundation
import Quill
import QuillAPI
import QuillCore
import QuillJobs

/// `quill sweep --grid k=v1,v2 … [--random N] [submit's options] [--wait] -- COMMAND {k} …`: one job per
/// combination of a grid.
struct SweepCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract:
            "Queue one job per combination of a grid of values (or N random ones); optionally wait and rank them.",
        discussion: """
            Each --grid key=v1,v2 adds a key; {key} in the command is replaced by the key's value ({{ and }} \
            are literal braces). Every job gets its values in its config (numbers as numbers) and its name, and \
            a tag sweep=ID shared by the sweep. With --random N, N distinct combinations are drawn; --seed S \
            draws the same ones again. With --wait, progress goes to standard error and a results table \
            sorted by --sort-by METRIC (the run's summary value, else the metric's last value) follows; the \
            exit status is 1 when a job did not complete.
            Example: quill sweep --grid lr=0.1,0.01 --grid bs=32,64 -- python train.py --lr {lr} --bs {bs}
            """
    )

    @OptionGroup var options: AccountServerOptions

    @Option(
        name: .customLong("grid"),
        help: ArgumentHelp("A key and its values, key=v1,v2 (repeatable).", valueName: "k=v1,v2")
    )
    var grid: [String] = []

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Submit N distinct random combinations instead of all.", valueName: "N")
    )
    var random: Int?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("The seed of --random's draws (default: a random one, printed).", valueName: "S")
    )
    var seed: Int?

    @Flag(help: "Wait for the jobs, showing progress, then print the results.")
    var wait = false

    @Option(help: ArgumentHelp("With --wait: sort the results by this summary metric.", valueName: "metric"))
    var sortBy: String?

    @Flag(help: "With --sort-by: largest first (default: smallest first).")
    var desc = false

    @Option(
        help: ArgumentHelp(
            "With --executor slurm: the sweep is one SLURM array job running at most N jobs at once (--array=…%N).",
            valueName: "N"
        )
    )
    var maxParallel: Int?

    @OptionGroup var job: JobOptions

    @Argument(
        parsing: .captureForPassthrough,
        help: "The command and its arguments, after --, with {key} placeholders."
    )
    var command: [String] = []

    func validate() throws {
        try CommandAfterDashes.validate(command, subcommand: "sweep", help: Self.self)
        if sortBy != nil, !wait { throw ValidationError("--sort-by ranks the results of --wait; add --wait") }
        if desc, sortBy == nil { throw ValidationError("--desc orders --sort-by; add --sort-by METRIC") }
        if seed != nil, random == nil { throw ValidationError("--seed seeds --random's draws; add --random N") }
        if let maxParallel {
            guard job.executor == "slurm" else {
                throw ValidationError("--max-parallel throttles a SLURM array job; add --executor slurm")
            }
            guard maxParallel >= 1 else {
                throw ValidationError("--max-parallel must be at least 1, not \(maxParallel)")
            }
        }
        _ = try plannedPoints(seed: 0)
    }

    /// The combinations to submit, with every check of the grid and the command.
    func plannedPoints(seed: UInt64) throws -> [SweepPlan.Point] {
        try SweepPlan(grid: grid, command: CommandAfterDashes.arguments(command)).points(random: random, seed: seed)
    }

    func run() async throws {
        let seedUsed: UInt64? =
            random == nil ? nil : seed.map { UInt64(bitPattern: Int64($0)) } ?? .random(in: 0...UInt64(Int64.max))
        let points = try plannedPoints(seed: seedUsed ?? 0)
        let client = try ServerClient(server: options.server).jobs
        let template = try job.submission(argv: CommandAfterDashes.arguments(command))
        let sweepID = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let base = template.name ?? ((template.argv.first ?? "sweep") as NSString).lastPathComponent
        var submitted: [(point: SweepPlan.Point, job: APIJob)] = []
        for point in points {
            var body = template
            body.argv = point.argv
            body.name = ([base] + point.values.map { "\($0.key)=\($0.text)" }).joined(separator: " ")
            var config = body.config ?? [:]
            for (key, text) in point.values { config[key] = JobOptions.configValue(text) }
            body.config = config
            var tags = body.tags ?? [:]
            if tags["sweep"] == nil { tags["sweep"] = sweepID }
            if tags[SlurmJobSpec.executorTag] == SlurmJobSpec.executorName {
                // One SLURM array job for the whole sweep (its worker gathers the jobs it claims together).
                tags[SlurmJobSpec.arrayTag] =
                    SlurmJobSpec.ArrayMembership(key: sweepID, count: points.count, maxParallel: maxParallel).tagValue
            }
            body.tags = tags
            do {
                submitted.append((point, try await client.submit(body)))
            } catch let error as QuillError where !submitted.isEmpty {
                throw QuillError(
                    error.code,
                    "\(error.message) (after \(submitted.count) of \(points.count) jobs were queued: \(submitted.map { String($0.job.id) }.joined(separator: ", ")))"
                )
            }
        }
        if let seedUsed, !options.json {
            Console.printError("seed \(Int64(bitPattern: seedUsed)) (--seed to draw the same jobs)")
        }
        guard wait else {
            if options.json {
                return Console.printJSON(json(submitted.map { SweepResult(point: $0.point, job: $0.job) }, seedUsed))
            }
            Console.print(table(submitted.map { SweepResult(point: $0.point, job: $0.job) }))
            return
        }
        if !options.json {
            let ids = submitted.map { String($0.job.id) }.joined(separator: ", ")
            Console.printError(
                "sweep=\(sweepID): queued \(submitted.count) job(s): \(ids); waiting (Ctrl-C stops waiting, not the jobs)"
            )
        }
        let finished = try await waitForAll(submitted.map(\.job), client)
        var results: [SweepResult] = []
        for (index, job) in finished.enumerated() {
            var result = SweepResult(point: submitted[index].point, job: job)
            if let sortBy { result.metric = try await Self.metric(sortBy, of: job, client) }
            results.append(result)
        }
        if sortBy != nil { results = Self.ranked(results, descending: desc) }
        if options.json {
            Console.printJSON(json(results, seedUsed))
        } else {
            Console.print(table(results))
        }
        let unfinished = results.filter { $0.job.status != "completed" }.count
        if unfinished > 0 {
            if !options.json { Console.printError("error: \(unfinished) of \(results.count) jobs did not complete") }
            throw ExitCode(1)
        }
    }

    /// Waits for every job, with one progress line on standard error whenever the counts change.
    func waitForAll(_ jobs: [APIJob], _ client: Quill.Client) async throws -> [APIJob] {
        let statuses = Locked<(byJob: [Int64: String], line: String)>(([:], ""))
        let quiet = options.json
        let total = jobs.count
        return try await client.wait(for: jobs.map(\.id), pollInterval: .milliseconds(500)) { job in
            let line: String? = statuses.withLock { state in
                state.byJob[job.id] = job.status
                var counts: [String: Int] = [:]
                for status in state.byJob.values { counts[status, default: 0] += 1 }
                let order = ["queued", "running", "completed", "failed", "cancelled", "lost"]
                let parts = order.compactMap { status in counts[status].map { "\($0) \(status)" } }
                let line = "sweep: \(total) jobs: " + parts.joined(separator: ", ")
                guard line != state.line, state.byJob.count == total else { return nil }
                state.line = line
                return line
            }
            if let line, !quiet { Console.printError(line) }
        }
    }

    /// A job's value of the metric: its run's summary value, else the metric's last value; `nil` when its
    /// run has neither (or the job never started one).
    static func metric(_ key: String, of job: APIJob, _ client: Quill.Client) async throws -> Double? {
        let details: APIRunDetails
        do {
            details = try await client.run(job.runID)
        } catch let error as QuillError where error.code == .notFound {
            return nil
        }
        if let value = details.run.summary[key]?.doubleValue { return value }
        return details.metrics[key]?.latest
    }

    /// Results with a value first, by value (ties by job id); then the rest, by job id.
    static func ranked(_ results: [SweepResult], descending: Bool) -> [SweepResult] {
        results.sorted { left, right in
            switch (left.metric, right.metric) {
            case (let l?, let r?) where l != r: descending ? l > r : l < r
            case (nil, _?): false
            case (_?, nil): true
            default: left.job.id < right.job.id
            }
        }
    }

    func table(_ results: [SweepResult]) -> String {
        let keys = results.first?.point.values.map(\.key) ?? []
        var headers = ["JOB", "RUN"] + (wait ? ["STATUS"] : []) + keys.map { $0.uppercased() }
        if let sortBy { headers.append(sortBy) }
        var table = Table(headers: headers, rightAligned: [0])
        for result in results {
            var row = [String(result.job.id), result.job.runID]
            if wait { row.append(JobOutput.status(result.job)) }
            row += result.point.values.map(\.text)
            if sortBy != nil { row.append(result.metric.map { Formatting.number($0) } ?? "-") }
            table.append(row)
        }
        return table.render()
    }

    func json(_ results: [SweepResult], _ seed: UInt64?) -> JSONValue {
        let jobs: [JSONValue] = results.map { result in
            var object: [String: JSONValue] = [
                "job_id": .int(Int(result.job.id)), "run_id": .string(result.job.runID),
                "name": .string(result.job.name),
                "status": .string(result.job.status),
                "values": .object(
                    Dictionary(result.point.values.map { ($0.key, JobOptions.configValue($0.text)) }) { first, _ in
                        first
                    }
                ),
            ]
            if sortBy != nil { object["metric"] = result.metric.map(JSONValue.double) ?? .null }
            return .object(object)
        }
        return ["seed": seed.map { .int(Int(Int64(bitPattern: $0))) } ?? .null, "jobs": .array(jobs)]
    }
}

/// One job of a sweep and, after --wait, its final state and metric.
struct SweepResult {
    var point: SweepPlan.Point
    var job: APIJob
    var metric: Double?
}
