import Foundation
import Hummingbird
import QuillAPI
import QuillCore
import QuillJobs
import QuillStore

/// `/api/v1/jobs`: submit, list, get, cancel, retry; and the worker side: claim (long-poll), heartbeat,
/// output, finish. Every job is a run (see ``QuillJobs/JobQueue``).
struct JobRoutes {
    let api: APIContext
    let queue: JobQueue

    /// The longest long-poll a claim may ask for, and the longest and shortest lease.
    static let waitRange = 0.0...5.0
    static let leaseRange = 1.0...3600.0

    func register(_ group: RouterGroup<QuillRequestContext>) {
        group.post { request, context in try await submit(request, context) }
        group.get { request, context in try await list(request, context) }
        group.post("claim") { request, context in try await claim(request, context) }
        group.get(":id") { _, context in
            let job = try await job(context)
            _ = try await api.authorization.readJob(job, context.caller)
            return try JSONResponse.make(DTO.job(job))
        }
        group.post(":id/cancel") { _, context in
            let job = try await job(context)
            _ = try await api.authorization.writeJob(job, context.caller)
            return try JSONResponse.make(DTO.job(try await queue.cancel(job.id)))
        }
        group.post(":id/retry") { _, context in
            let job = try await job(context)
            _ = try await api.authorization.writeJob(job, context.caller)
            return try JSONResponse.make(DTO.job(try await queue.retry(job.id)))
        }
        group.post(":id/heartbeat") { request, context in
            try api.authorization.runWorker(context.caller)
            let id = try Self.jobID(context)
            let body = try await api.body(APIJobHeartbeat.self, request)
            let lease = try Self.duration(body.leaseSeconds, Self.leaseRange, "body.lease_seconds")
            if let slurmJobID = body.slurmJobID, slurmJobID.isEmpty || slurmJobID.utf8.count > 64 {
                throw QuillError(.invalidArgument, "body.slurm_job_id must be a SLURM job id of 1 to 64 characters")
            }
            let state = try await queue.renew(
                AttemptRef(jobID: id, number: body.attempt, worker: body.worker),
                lease: lease,
                slurmJobID: body.slurmJobID
            )
            return try JSONResponse.make(
                APIJobLease(expiresAt: state.expiresAt, cancelRequested: state.cancelRequested)
            )
        }
        group.post(":id/output") { request, context in
            try api.authorization.runWorker(context.caller)
            let id = try Self.jobID(context)
            let body = try await api.body(APIJobOutput.self, request)
            try await queue.appendOutput(
                AttemptRef(jobID: id, number: body.attempt, worker: body.worker),
                lines: body.lines
            )
            return Response(status: .noContent)
        }
        group.post(":id/finish") { request, context in
            try api.authorization.runWorker(context.caller)
            let id = try Self.jobID(context)
            let body = try await api.body(APIJobFinish.self, request)
            if let code = body.exitCode, !(Int(Int32.min)...Int(Int32.max)).contains(code) {
                throw QuillError(.invalidArgument, "body.exit_code must fit in 32 bits")
            }
            if let signal = body.signal, !(0...1024).contains(signal) {
                throw QuillError(.invalidArgument, "body.signal must be 0 to 1024")
            }
            guard let outcome = AttemptOutcome(rawValue: body.outcome), outcome != .lost else {
                throw QuillError(
                    .invalidArgument,
                    "body.outcome must be completed, failed, cancelled, timed_out, handed_back or preempted, not '\(body.outcome)'"
                )
            }
            let result = AttemptResult(outcome, exitCode: body.exitCode, signal: body.signal, reason: body.reason)
            let job = try await queue.finish(AttemptRef(jobID: id, number: body.attempt, worker: body.worker), result)
            return try JSONResponse.make(DTO.job(job))
        }
    }

    private func submit(_ request: Request, _ context: QuillRequestContext) async throws -> Response {
        let caller = context.caller
        try api.authorization.requireWriter(caller)
        let body = try await api.body(APIJobSubmit.self, request)
        guard let command = body.argv.first else { throw QuillError(.invalidArgument, "body.argv must name a command") }
        for (index, argument) in body.argv.enumerated() {
            try RequestRules.checkKey(argument, "body.argv[\(index)]")
        }
        if let reference = body.project, reference.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw QuillError(.invalidArgument, "body.project must name a project (a name, or namespace/slug)")
        }
        let project = try await api.projectForWriting(id: body.projectID, reference: body.project ?? "default", caller)
        let name = body.name.flatMap { $0.isEmpty ? nil : $0 } ?? (command as NSString).lastPathComponent
        var job = NewJob(projectID: project.id, runID: .random(), name: name, argv: body.argv)
        job.workdir = body.workdir.flatMap { $0.isEmpty ? nil : $0 }
        job.environment = try RequestRules.stringMap(body.env ?? [:], field: "body.env")
        job.config = body.config ?? [:]
        try RequestRules.refuseNUL(in: .object(job.config), "body.config")
        job.tags = try RequestRules.stringMap(body.tags ?? [:], field: "body.tags")
        let gpus = body.gpus ?? 0
        guard (0...1024).contains(gpus) else { throw QuillError(.invalidArgument, "body.gpus must be 0 to 1024") }
        let labels = body.labels ?? []
        for label in labels { try RequestRules.checkKey(label, "a label of body.labels") }
        job.resources = JobResources(gpus: gpus, device: body.device.flatMap { $0.isEmpty ? nil : $0 }, labels: labels)
        job.priority = body.priority ?? 0
        guard (-1_000_000...1_000_000).contains(job.priority) else {
            throw QuillError(.invalidArgument, "body.priority must be -1000000 to 1000000")
        }
        job.maxAttempts = body.maxAttempts ?? 3
        guard (1...100).contains(job.maxAttempts) else {
            throw QuillError(.invalidArgument, "body.max_attempts must be 1 to 100")
        }
        if let timeout = body.timeoutSeconds {
            job.timeout = try Self.duration(timeout, 0.001...31_536_000, "body.timeout_seconds")
        }
        job.submittedBy = caller.userName
        let queued = try await queue.submit(job)
        return try JSONResponse.make(DTO.job(queued), status: .created)
    }

    private func list(_ request: Request, _ context: QuillRequestContext) async throws -> Response {
        let parameters = QueryParameters(request)
        var query = JobQuery()
        for status in try parameters.all("status") {
            guard let parsed = JobStatus(rawValue: status) else {
                throw QuillError(
                    .invalidArgument,
                    "status must be one of \(JobStatus.allCases.map(\.rawValue).joined(separator: ", ")), not '\(status)'"
                )
            }
            query.statuses.insert(parsed)
        }
        query.limit = try parameters.int("limit", in: 1...1000) ?? 100
        query.beforeID = try parameters.int("before", in: 1...Int.max).map(Int64.init)
        query.claimOrder = try Self.claimOrder(parameters)
        query.projectIDs = try await api.authorization.readableJobProjects(context.caller)
        let jobs = try await queue.jobs.jobs(query)
        let counts = try await queue.jobs.jobCounts(projectIDs: query.projectIDs)
        return try JSONResponse.make(
            APIJobList(
                jobs: jobs.map(DTO.job),
                nextBefore: !query.claimOrder && jobs.count == query.limit ? jobs.last?.id : nil,
                counts: Dictionary(uniqueKeysWithValues: counts.map { ($0.key.rawValue, $0.value) })
            )
        )
    }

    private func claim(_ request: Request, _ context: QuillRequestContext) async throws -> Response {
        try api.authorization.runWorker(context.caller)
        let body = try await api.body(APIJobClaimRequest.self, request)
        guard (1...1024).contains(body.slots) else {
            throw QuillError(.invalidArgument, "body.slots must be 1 to 1024")
        }
        try RequestRules.checkKey(body.worker, "body.worker")
        guard body.gpus.allSatisfy({ (0...1024).contains($0) }) else {
            throw QuillError(.invalidArgument, "body.gpus must hold GPU indices from 0 to 1024")
        }
        for label in body.labels { try RequestRules.checkKey(label, "a label of body.labels") }
        let lease = try Self.duration(body.leaseSeconds, Self.leaseRange, "body.lease_seconds")
        let wait = try Self.duration(body.waitSeconds ?? 0, Self.waitRange, "body.wait_seconds")
        let worker = WorkerCapabilities(name: body.worker, slots: body.slots, gpus: body.gpus, labels: body.labels)
        guard let claim = try await queue.claim(worker, lease: lease, wait: wait) else {
            return Response(status: .noContent)
        }
        return try JSONResponse.make(APIJobClaim(job: DTO.job(claim.job), attempt: DTO.attempt(claim.attempt)))
    }

    private func job(_ context: QuillRequestContext) async throws -> Job {
        let id = try Self.jobID(context)
        guard let job = try await queue.jobs.job(id) else {
            throw QuillError(.notFound, "job \(id) not found; list jobs with `quill jobs`")
        }
        return job
    }

    /// The job id in the path; text that is not one is a job that does not exist.
    static func jobID(_ context: QuillRequestContext) throws -> Int64 {
        let text = try context.parameters.require("id")
        guard let id = Int64(text), id > 0 else {
            throw QuillError(.notFound, "job '\(text)' not found; job ids are positive integers")
        }
        return id
    }

    /// Seconds from a body as a duration, refused outside `range` (which keeps the conversion exact).
    static func duration(_ seconds: Double, _ range: ClosedRange<Double>, _ field: String) throws -> Duration {
        guard seconds.isFinite, range.contains(seconds) else {
            throw QuillError(.invalidArgument, "\(field) must be \(range.lowerBound) to \(range.upperBound) seconds")
        }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }
}
