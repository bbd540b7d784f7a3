public import QuillAPI
import QuillClient
public import QuillCore

extension Quill.Client {
    /// Queues a job described in full (resources, priority, attempts, timeout).
    ///
    /// ```swift
    /// var job = APIJobSubmit(argv: ["python", "train.py"], project: "vision")
    /// job.gpus = 1
    /// job.timeoutSeconds = 7200
    /// let queued = try await client.submit(job)
    /// ```
    ///
    /// - Returns: The job, `queued`, with its id and the id of the run it produces.
    /// - Throws: ``QuillError`` with the server's code: ``QuillError/Code/invalidArgument`` for a value out
    ///   of range, ``QuillError/Code/unauthorized`` or ``QuillError/Code/forbidden`` without the right key;
    ///   ``QuillError/Code/io`` when the server cannot be reached.
    public func submit(_ job: APIJobSubmit) async throws -> APIJob {
        try await submitWithJSON(job).job
    }

    /// Queues a command as a job.
    ///
    /// - Parameters:
    ///   - argv: The command and its arguments, run without a shell.
    ///   - name: The job's (and its run's) name; the command's name when `nil`.
    ///   - project: The project's name or `namespace/slug`; `default` when `nil`.
    ///   - workdir: The working directory on the worker; the worker's own when `nil`.
    ///   - config: The run's config.
    ///   - tags: Tags: a plain word is a label, `key=value` a key-value tag.
    ///   - environment: Variables added to the command's environment.
    /// - Returns: The job, `queued`.
    /// - Throws: As ``submit(_:)``.
    public func submit(
        _ argv: [String],
        name: String? = nil,
        project: String? = nil,
        workdir: String? = nil,
        config: [String: JSONValue] = [:],
        tags: [String] = [],
        environment: [String: String] = [:]
    ) async throws -> APIJob {
        try await submit(Self.submission(argv, name, project, workdir, config, tags, environment))
    }

    /// A job by id, with its attempts.
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/notFound`` when there is no such job (or the caller
    ///   may not read its project).
    public func job(_ id: Int64) async throws -> APIJob {
        try await jobWithJSON(id).job
    }

    /// Waits until a job ends (`completed`, `failed` or `cancelled`) and returns its final state.
    ///
    /// Asks the server for the job every `pollInterval` (at least once an hour). A wait that times out
    /// leaves the job running; cancel it with ``cancel(_:)`` when it should stop. Cancelling the waiting
    /// task ends the wait with `CancellationError`.
    ///
    /// ```swift
    /// do {
    ///     let job = try await client.wait(for: 12, timeout: .seconds(600))
    ///     print(job.status, job.exitCode ?? 0)
    /// } catch let timeout as JobWaitTimeout {
    ///     print("still \(timeout.job.status)")
    /// }
    /// ```
    ///
    /// - Parameters:
    ///   - id: The job.
    ///   - pollInterval: The time between two requests; `.zero` asks again at once.
    ///   - timeout: The longest wait; `nil` waits as long as the job takes.
    /// - Throws: ``JobWaitTimeout`` (with the job's last state) when `timeout` passes first; ``QuillError``
    ///   with code ``QuillError/Code/notFound`` for an unknown job, ``QuillError/Code/invalidArgument`` for a
    ///   negative `pollInterval` or `timeout`.
    public func wait(
        for id: Int64,
        pollInterval: Duration = .seconds(1),
        timeout: Duration? = nil
    ) async throws -> APIJob {
        guard let job = try await waitWithJSON(for: [id], pollInterval: pollInterval, timeout: timeout).first else {
            preconditionFailure("a wait for one job returns one job")
        }
        return job.job
    }

    /// Waits until every job ends and returns their final states, in the order of `ids`.
    ///
    /// All jobs are polled together, so `onChange` sees each change of each job (status, attempt, cancel
    /// request) as it is noticed, in any order: a progress display needs nothing else.
    ///
    /// - Parameters:
    ///   - ids: The jobs.
    ///   - pollInterval: The time between two rounds of requests; `.zero` asks again at once.
    ///   - timeout: The longest wait; `nil` waits as long as the jobs take.
    ///   - onChange: Called with a job's state when it is first seen and whenever it changes.
    /// - Throws: As ``wait(for:pollInterval:timeout:)``; the ``JobWaitTimeout`` carries the last state of
    ///   every job.
    public func wait(
        for ids: [Int64],
        pollInterval: Duration = .seconds(1),
        timeout: Duration? = nil,
        onChange: (@Sendable (APIJob) -> Void)? = nil
    ) async throws -> [APIJob] {
        try await waitWithJSON(for: ids, pollInterval: pollInterval, timeout: timeout, onChange: onChange).map(\.job)
    }

    /// Queues a command as a job and waits until it ends: ``submit(_:name:project:workdir:config:tags:environment:)``
    /// then ``wait(for:pollInterval:timeout:)``.
    ///
    /// - Returns: The job's final state.
    /// - Throws: As those two; a ``JobWaitTimeout`` leaves the job queued or running.
    public func submitAndWait(
        _ argv: [String],
        name: String? = nil,
        project: String? = nil,
        workdir: String? = nil,
        config: [String: JSONValue] = [:],
        tags: [String] = [],
        environment: [String: String] = [:],
        pollInterval: Duration = .seconds(1),
        timeout: Duration? = nil
    ) async throws -> APIJob {
        try Self.checkWait(pollInterval: pollInterval, timeout: timeout)
        let job = try await submit(Self.submission(argv, name, project, workdir, config, tags, environment))
        return try await wait(for: job.id, pollInterval: pollInterval, timeout: timeout)
    }

    /// Cancels a job: a queued one at once, a running one when its worker has stopped it. A job that already
    /// ended is left as it is.
    ///
    /// - Returns: The job after the request: `cancelled`, or still `running` with
    ///   ``QuillAPI/APIJob/cancelRequested`` set until its worker reports.
    /// - Throws: ``QuillError`` with code ``QuillError/Code/notFound`` for an unknown job,
    ///   ``QuillError/Code/forbidden`` without write access to its project.
    @discardableResult
    public func cancel(_ id: Int64) async throws -> APIJob {
        try await cancelWithJSON(id).job
    }

    /// The queue at a glance: its depth, running jobs, jobs by status and the workers.
    ///
    /// Job counts cover the projects the caller may read; worker counts every registered device.
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/unauthorized`` without a key when the server has
    ///   users.
    public func status() async throws -> APIQueueStatus {
        try await http.request(APIQueueStatus.self, "GET", APIPath.queue).value
    }

    // MARK: With the server's JSON (for the CLI's --json)

    /// ``submit(_:)`` with the JSON the server answered.
    package func submitWithJSON(_ job: APIJobSubmit) async throws -> (job: APIJob, json: JSONValue) {
        let (value, json) = try await http.request(
            APIJob.self,
            "POST",
            APIPath.jobs,
            json: try APIEncoder().encode(job)
        )
        return (value, json)
    }

    /// ``job(_:)`` with the JSON the server answered.
    package func jobWithJSON(_ id: Int64) async throws -> (job: APIJob, json: JSONValue) {
        let (value, json) = try await http.request(APIJob.self, "GET", APIPath.job(id))
        return (value, json)
    }

    /// ``cancel(_:)`` with the JSON the server answered.
    package func cancelWithJSON(_ id: Int64) async throws -> (job: APIJob, json: JSONValue) {
        let (value, json) = try await http.request(APIJob.self, "POST", APIPath.job(id, "cancel"))
        return (value, json)
    }

    /// ``wait(for:pollInterval:timeout:onChange:)`` with the JSON of each job's final state.
    package func waitWithJSON(
        for ids: [Int64],
        pollInterval: Duration = .seconds(1),
        timeout: Duration? = nil,
        onChange: (@Sendable (APIJob) -> Void)? = nil
    ) async throws -> [(job: APIJob, json: JSONValue)] {
        try Self.checkWait(pollInterval: pollInterval, timeout: timeout)
        let clock = ContinuousClock()
        // A Duration is at most about 2.9e11 years, so this sum cannot overflow an instant.
        let deadline = timeout.map { clock.now.advanced(by: $0) }
        var latest: [Int64: (job: APIJob, json: JSONValue)] = [:]
        var finished: Set<Int64> = []
        var seen: Set<Int64> = []
        let unique = ids.filter { seen.insert($0).inserted }  // polled in the order asked
        while true {
            for id in unique where !finished.contains(id) {
                let current = try await jobWithJSON(id)
                if latest[id]?.job != current.job { onChange?(current.job) }
                latest[id] = current
                if JobStatus(rawValue: current.job.status)?.isTerminal == true { finished.insert(id) }
            }
            if finished.count == unique.count { return ids.compactMap { latest[$0] } }
            let now = clock.now
            if let deadline, now >= deadline, let timeout {
                let jobs = ids.compactMap { latest[$0]?.job }
                let waiting = jobs.first { !finished.contains($0.id) } ?? jobs[0]
                throw JobWaitTimeout(job: waiting, jobs: jobs, timeout: timeout)
            }
            var pause = min(pollInterval, .seconds(3600))
            if let deadline { pause = min(pause, now.duration(to: deadline)) }
            if pause > .zero {
                try await Task.sleep(for: pause)
            } else {
                await Task.yield()
                try Task.checkCancellation()
            }
        }
    }

    static func checkWait(pollInterval: Duration, timeout: Duration?) throws {
        guard pollInterval >= .zero else {
            throw QuillError(.invalidArgument, "pollInterval must not be negative; pass .zero to poll without pause")
        }
        if let timeout, timeout < .zero {
            throw QuillError(.invalidArgument, "timeout must not be negative; pass nil to wait without a limit")
        }
    }

    /// The body of a submission from the convenience parameters.
    static func submission(
        _ argv: [String],
        _ name: String?,
        _ project: String?,
        _ workdir: String?,
        _ config: [String: JSONValue],
        _ tags: [String],
        _ environment: [String: String]
    ) -> APIJobSubmit {
        var body = APIJobSubmit(argv: argv, project: project)
        body.name = name
        body.workdir = workdir
        if !config.isEmpty { body.config = config }
        if !environment.isEmpty { body.env = environment }
        if !tags.isEmpty {
            var values: [String: String] = [:]
            for tag in tags {
                // As the SDK's runs read tags: the first `=` or `:` separates the key from the value.
                if let separator = tag.firstIndex(where: { $0 == "=" || $0 == ":" }) {
                    values[String(tag[..<separator])] = String(tag[tag.index(after: separator)...])
                } else {
                    values[tag] = ""
                }
            }
            body.tags = values
        }
        return body
    }
}
