import Foundation
import HTTPTypes
import Hummingbird
import QuillAPI
import QuillCore
import QuillJobs
import QuillStore

/// whirr 0.5.3's server API under `/whirr`, over Quill's job queue, so whirr's own client
/// (`WhirrClient("http://host:8080/whirr")`) and worker (`whirr worker --server http://host:8080/whirr`) work
/// against `quill serve`. Shapes, status codes and error bodies are whirr's; where whirr's server is unsafe
/// (concurrent claims, re-queues without fencing) this one is correct. See Docs/Whirr.md.
struct WhirrRoutes: Sendable {
    let api: APIContext
    let queue: JobQueue
    /// whirr's data directory: a job's run folder is `<dataDirectory>/runs/job-<id>`.
    let dataDirectory: String
    /// The artifacts of Quill runs: a job run by a Quill worker has no whirr folder, its files are these.
    let artifacts: any ArtifactStore
    /// Their bytes.
    let blobs: any BlobStore
    /// How far each running job's run folder has been imported (each heartbeat reads only what is new).
    let imports = WhirrImportProgress()
    /// How long an empty claim waits for a job before answering `{"job": null}` (whirr's worker then sleeps
    /// 5 s), so an idle whirr worker starts a new job at once.
    var claimWait: Duration = .seconds(10)
    /// How long a whirr worker's device stays online without a claim or heartbeat (it heartbeats every 30 s).
    var deviceLease: Duration = .seconds(120)
    /// Jobs a whirr worker id may run at once: every whirr worker on a host shares the id `<host>:default`,
    /// and each runs one job at a time.
    static let slotsPerWorkerID = 1024

    /// whirr's worker names its jobs' projects nothing: jobs submitted through whirr go to this project, in
    /// the caller's namespace.
    static let projectName = "whirr"

    func register(_ router: Router<QuillRequestContext>) {
        let group = router.group("whirr")
            .add(middleware: WhirrErrorMiddleware())
            .add(middleware: PeerClientAuthMiddleware(authenticator: api.authorization.authenticator))
            .add(middleware: WhirrAdminMiddleware(authorization: api.authorization))
        let table = WhirrRouteTable(group: group)
        table.add("health", .get) { _, _ in try JSONResponse.make(WhirrHealth()) }
        table.add("api/v1/status", .get) { _, _ in try await status() }
        table.add("api/v1/jobs", .post) { request, context in try await submit(request, context) }
        table.add("api/v1/jobs", .get) { request, _ in try await listJobs(request) }
        table.add("api/v1/jobs/claim", .post) { request, _ in try await claim(request) }
        table.add("api/v1/jobs/:id", .get) { _, context in
            try JSONResponse.make(WhirrMapping.job(try await job(try jobID(context))))
        }
        table.add("api/v1/jobs/:id/heartbeat", .post) { request, context in
            try await heartbeat(request, try jobID(context))
        }
        table.add("api/v1/jobs/:id/complete", .post) { request, context in
            try await complete(request, try jobID(context))
        }
        table.add("api/v1/jobs/:id/fail", .post) { request, context in try await fail(request, try jobID(context)) }
        table.add("api/v1/jobs/:id/cancel", .post) { _, context in try await cancel(try jobID(context)) }
        table.add("api/v1/workers/register", .post) { request, _ in try await registerWorker(request) }
        table.add("api/v1/workers/unregister", .post) { request, _ in try await unregisterWorker(request) }
        table.add("api/v1/workers", .get) { _, _ in
            let devices = try await queue.jobs.devices(now: Date())
            return try JSONResponse.make(WhirrWorkerList(workers: devices.map(WhirrMapping.worker)))
        }
        registerRuns(table)
        table.finish()
    }

    // MARK: Jobs

    private func status() async throws -> Response {
        let counts = try await queue.jobs.jobCounts(projectIDs: nil)
        let devices = try await queue.jobs.devices(now: Date())
        return try JSONResponse.make(
            WhirrStatus(
                queued: (counts[.queued] ?? 0) + (counts[.lost] ?? 0),
                running: counts[.running] ?? 0,
                completed: counts[.completed] ?? 0,
                failed: counts[.failed] ?? 0,
                workersOnline: devices.filter { $0.status != .offline }.count,
                workersTotal: devices.count
            )
        )
    }

    private func submit(_ request: Request, _ context: QuillRequestContext) async throws -> Response {
        let body = try await decode(WhirrJobCreate.self, request)
        guard let program = body.commandArgv.first else {
            throw WhirrValidationFailure([
                .init(
                    type: "too_short",
                    loc: ["body", "command_argv"],
                    msg: "List should have at least 1 item after validation, not 0",
                    input: [],
                    ctx: ["field_type": "List", "min_length": 1, "actual_length": 0]
                )
            ])
        }
        let project = try await api.store.project(
            namespace: api.defaultNamespace(context.caller),
            displayName: Self.projectName,
            createdBy: context.caller.userName
        )
        var spec = NewJob(
            projectID: project.id,
            runID: RunID.random(),
            name: body.name ?? URL(fileURLWithPath: program).lastPathComponent,
            argv: body.commandArgv
        )
        spec.workdir = body.workdir
        spec.config = body.config ?? [:]
        spec.tags = WhirrMapping.submittedTags(body)
        spec.submittedBy = context.caller.userName
        let job = try await queue.submit(spec)
        return try JSONResponse.make(
            WhirrJobCreateResponse(
                jobID: job.id,
                runID: WhirrMapping.runName(job.id),
                runDir: runDirectory(job.id),
                message: "Job \(job.id) created"
            )
        )
    }

    private func listJobs(_ request: Request) async throws -> Response {
        let limit = try queryInteger(request, "limit", default: 50, range: 1...500)
        let status = request.uri.queryParameters["status"].map(String.init)
        let statuses: Set<JobStatus>
        switch status {
        case nil, "active": statuses = [.queued, .running, .lost]
        case let name?:
            guard let known = JobStatus(rawValue: name) else { return try JSONResponse.make(WhirrJobList(jobs: [])) }
            statuses = [known]
        }
        // whirr lists oldest first; the store pages newest first.
        var jobs: [Job] = []
        var before: Int64?
        while true {
            let page = try await queue.jobs.jobs(JobQuery(statuses: statuses, beforeID: before, limit: 1000))
            jobs += page
            guard page.count == 1000, let last = page.last else { break }
            before = last.id
        }
        let shown = jobs.reversed().prefix(limit).map(WhirrMapping.job)
        return try JSONResponse.make(WhirrJobList(jobs: Array(shown)))
    }

    private func claim(_ request: Request) async throws -> Response {
        let body = try await decode(WhirrJobClaim.self, request)
        try checkLease(body.leaseSeconds)
        try await keepOnline(body.workerID)
        let worker = WorkerCapabilities(
            name: body.workerID,
            slots: Self.slotsPerWorkerID,
            gpus: body.gpuID.map { [$0] } ?? []
        )
        guard let claim = try await queue.claim(worker, lease: .seconds(body.leaseSeconds), wait: claimWait) else {
            return try JSONResponse.make(WhirrJobClaimResponse(job: nil))
        }
        return try JSONResponse.make(WhirrJobClaimResponse(job: WhirrMapping.job(claim.job)))
    }

    private func heartbeat(_ request: Request, _ id: Int64) async throws -> Response {
        let body = try await decode(WhirrJobHeartbeat.self, request)
        try checkLease(body.leaseSeconds)
        guard let job = try await queue.jobs.job(id), let attempt = held(job, by: body.workerID) else {
            throw WhirrHTTPError(.notFound, "Job \(id) not found or not owned by worker \(body.workerID)")
        }
        let state: LeaseState
        do {
            state = try await queue.renew(attempt, lease: .seconds(body.leaseSeconds))
        } catch let error as QuillError where error.code == .conflict {
            throw WhirrHTTPError(.notFound, "Job \(id) not found or not owned by worker \(body.workerID)")
        }
        try? await keepOnline(body.workerID)
        await WhirrRunImport(store: api.store, directory: runDirectory(id), progress: imports).importNew(
            into: job.spec.runID
        )
        return try JSONResponse.make(
            WhirrHeartbeatResponse(
                leaseExpiresAt: WhirrMapping.time(state.expiresAt),
                cancelRequested: state.cancelRequested
            )
        )
    }

    private func complete(_ request: Request, _ id: Int64) async throws -> Response {
        let body = try await decode(WhirrJobComplete.self, request)
        let (job, attempt) = try await owned(id, by: body.workerID)
        let result: AttemptResult
        if body.errorMessage == "Job shutdown" && body.exitCode != 0 && !job.cancelRequested {
            // whirr's worker was stopped (SIGINT/SIGTERM) and killed the job: hand it back to the queue.
            result = AttemptResult(.handedBack, reason: "whirr worker \(body.workerID) shut down")
        } else if body.exitCode == 0 {
            result = AttemptResult(.completed, exitCode: 0)
        } else {
            let outcome: AttemptOutcome = job.cancelRequested ? .cancelled : .failed
            result =
                body.exitCode < 0
                ? AttemptResult(outcome, signal: -body.exitCode, reason: body.errorMessage)
                : AttemptResult(outcome, exitCode: body.exitCode, reason: body.errorMessage)
        }
        await WhirrRunImport(store: api.store, directory: runDirectory(id), progress: imports).importAll(
            into: job.spec.runID
        )
        let finished = try await finish(attempt, result, id: id, worker: body.workerID)
        return try JSONResponse.make(WhirrMessage("Job \(id) marked as \(WhirrMapping.status(finished.status))"))
    }

    private func fail(_ request: Request, _ id: Int64) async throws -> Response {
        let body = try await decode(WhirrJobFail.self, request)
        let (job, attempt) = try await owned(id, by: body.workerID)
        let outcome: AttemptOutcome = job.cancelRequested ? .cancelled : .failed
        _ = try await finish(
            attempt,
            AttemptResult(outcome, exitCode: 1, reason: body.errorMessage),
            id: id,
            worker: body.workerID
        )
        return try JSONResponse.make(WhirrMessage("Job \(id) marked as failed"))
    }

    private func cancel(_ id: Int64) async throws -> Response {
        let before = try await job(id)
        _ = try await queue.cancel(id, reason: "cancelled through whirr's API")
        return try JSONResponse.make(
            WhirrJobCancelResponse(message: "Job \(id) cancelled", previousStatus: WhirrMapping.status(before.status))
        )
    }

    // MARK: Workers

    private func registerWorker(_ request: Request) async throws -> Response {
        let body = try await decode(WhirrWorkerRegistration.self, request)
        try await register(body.workerID, host: body.hostname, gpus: body.gpuIDs)
        return try JSONResponse.make(WhirrMessage("Worker \(body.workerID) registered"))
    }

    private func unregisterWorker(_ request: Request) async throws -> Response {
        let body = try await decode(WhirrWorkerUnregister.self, request)
        // Every whirr worker on a host shares its id: while one of them still runs a job, the device stays.
        if let device = try await queue.jobs.device(body.workerID, now: Date()), device.runningJobs.isEmpty {
            do {
                try await queue.jobs.unregisterDevice(body.workerID, now: Date())
            } catch let error as QuillError where error.code == .notFound {}
        }
        return try JSONResponse.make(WhirrMessage("Worker \(body.workerID) unregistered"))
    }

    private func register(_ name: String, host: String, gpus: [Int]) async throws {
        let device = NewDevice(
            name: name,
            host: host,
            cpus: 0,
            memoryBytes: 0,
            gpus: gpus.map { DeviceGPU(index: $0) },
            labels: ["whirr"],
            slots: Self.slotsPerWorkerID
        )
        _ = try await queue.jobs.registerDevice(device, lease: deviceLease, now: Date())
    }

    /// Keeps a whirr worker's device online (registering it when the server has not seen it: whirr's worker
    /// registers once, and a server restart or an expired device would otherwise forget it).
    private func keepOnline(_ name: String) async throws {
        do {
            _ = try await queue.jobs.deviceHeartbeat(name, lease: deviceLease, now: Date())
        } catch let error as QuillError where error.code == .notFound {
            try await register(name, host: name.split(separator: ":").first.map(String.init) ?? name, gpus: [])
        }
    }

    // MARK: Helpers

    /// whirr's data directory's run folder for a job.
    func runDirectory(_ id: Int64) -> String {
        URL(fileURLWithPath: dataDirectory).appendingPathComponent("runs").appendingPathComponent(
            WhirrMapping.runName(id)
        ).path
    }

    func job(_ id: Int64) async throws -> Job {
        guard let job = try await queue.jobs.job(id) else { throw WhirrHTTPError(.notFound, "Job \(id) not found") }
        return job
    }

    /// The running attempt of a job that `worker` holds, or `nil`.
    private func held(_ job: Job, by worker: String) -> AttemptRef? {
        guard let current = job.currentAttempt, current.worker == worker else { return nil }
        return AttemptRef(jobID: job.id, number: current.number, worker: worker)
    }

    /// The job and the attempt `worker` holds: 404 for an unknown job, 403 when the worker holds no running
    /// attempt of it (it was re-queued after a lost lease, or it ended).
    private func owned(_ id: Int64, by worker: String) async throws -> (Job, AttemptRef) {
        let job = try await job(id)
        guard let attempt = held(job, by: worker) else {
            throw WhirrHTTPError(.forbidden, "Job \(id) is not owned by worker \(worker)")
        }
        return (job, attempt)
    }

    private func finish(_ attempt: AttemptRef, _ result: AttemptResult, id: Int64, worker: String) async throws -> Job {
        do {
            return try await queue.finish(attempt, result)
        } catch let error as QuillError where error.code == .conflict {
            throw WhirrHTTPError(.forbidden, "Job \(id) is not owned by worker \(worker)")
        }
    }

    private func checkLease(_ seconds: Int) throws {
        guard (10...600).contains(seconds) else {
            throw WhirrValidationFailure.outOfRange(["body", "lease_seconds"], seconds, 10...600, input: .int(seconds))
        }
    }

    func jobID(_ context: QuillRequestContext) throws -> Int64 {
        let text = context.parameters.get("id") ?? ""
        guard let id = Int64(text) else { throw WhirrValidationFailure.notAnInteger(["path", "job_id"], text) }
        return id
    }

    func queryInteger(_ request: Request, _ name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = request.uri.queryParameters[Substring(name)].map(String.init) else { return value }
        guard let number = Int(text) else { throw WhirrValidationFailure.notAnInteger(["query", .string(name)], text) }
        guard range.contains(number) else {
            throw WhirrValidationFailure.outOfRange(["query", .string(name)], number, range, input: .string(text))
        }
        return number
    }

    /// The request's JSON body (`{}` when empty), or 422 `json_invalid` as FastAPI answers.
    func bodyJSON(_ request: Request) async throws -> JSONValue {
        let buffer = try await api.bodyBytes(request)
        if buffer.readableBytes == 0 { return .null }
        do {
            return try APIContext.json(from: buffer)
        } catch {
            throw WhirrValidationFailure([
                .init(
                    type: "json_invalid",
                    loc: ["body", 0],
                    msg: "JSON decode error",
                    input: [:],
                    ctx: ["error": "Invalid JSON"]
                )
            ])
        }
    }

    /// Decodes the body as a whirr request: 422 with the first missing or mistyped member otherwise.
    func decode<T: Decodable>(_ type: T.Type, _ request: Request) async throws -> T {
        let body = try await bodyJSON(request)
        guard case .object = body else {
            throw WhirrValidationFailure([
                .init(
                    type: body == .null ? "missing" : "model_attributes_type",
                    loc: ["body"],
                    msg: body == .null
                        ? "Field required" : "Input should be a valid dictionary or object to extract fields from",
                    input: body == .null ? .null : body
                )
            ])
        }
        do {
            return try APIDecoder().decode(T.self, from: body)
        } catch let error as QuillError {
            // "body.worker_id is required" / "body.lease_seconds must be an integer"
            let message = error.message
            let field =
                message.split(separator: " ").first.map { $0.split(separator: ".").dropFirst().joined(separator: ".") }
                ?? ""
            if message.contains("is required") { throw WhirrValidationFailure.missing(field, body: body) }
            throw WhirrValidationFailure([
                .init(type: "value_error", loc: ["body", .string(field)], msg: message, input: body[field] ?? .null)
            ])
        }
    }
}
