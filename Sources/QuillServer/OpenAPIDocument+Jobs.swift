import QuillCore

extension OpenAPIDocument {
    static let jobID = parameter("id", in: "path", "integer", "The job id", range: 1...Int(Int64.max))
    static let deviceName = parameter("name", in: "path", "string", "The device (worker) name")
    /// A number of seconds within bounds.
    static func seconds(_ range: ClosedRange<Double>, _ nullable: Bool) -> JSONValue {
        [
            "type": nullable ? ["number", "null"] : "number", "minimum": .double(range.lowerBound),
            "maximum": .double(range.upperBound),
        ]
    }
    static let names: JSONValue = ["type": "array", "items": name]
    static let gpuIndexes: JSONValue = ["type": "array", "items": integer(0...1024)]
    static let workerFields: [String: JSONValue] = [
        "worker": name, "attempt": integer(1...Int(Int32.max)),
    ]

    /// Schemas of the job and device endpoints.
    static var jobSchemas: [String: JSONValue] {
        [
            "JobAttempt": [
                "type": "object",
                "required": [
                    "number", "worker", "gpus", "started_at", "ended_at", "lease_expires_at", "outcome", "exit_code",
                    "signal", "reason",
                ],
                "properties": [
                    "number": ["type": "integer"], "worker": ["type": "string"],
                    "gpus": ["type": "array", "items": ["type": "integer"]],
                    "started_at": ["type": "string", "format": "date-time"], "ended_at": nullableString,
                    "lease_expires_at": ["type": "string", "format": "date-time"],
                    "outcome": [
                        "type": ["string", "null"],
                        "enum": [
                            "completed", "failed", "cancelled", "timed_out", "lost", "handed_back", "preempted", .null,
                        ],
                    ],
                    "exit_code": ["type": ["integer", "null"]], "signal": ["type": ["integer", "null"]],
                    "reason": nullableString,
                    "slurm_job_id": [
                        "type": "string",
                        "description":
                            "The SLURM job the attempt runs as (123, or 123_4 for an array task); only for a job on SLURM once submitted",
                    ],
                ],
            ],
            "Job": [
                "type": "object",
                "required": [
                    "id", "project_id", "run_id", "name", "argv", "workdir", "env", "config", "tags", "gpus", "device",
                    "labels", "priority", "max_attempts", "timeout_seconds", "status", "attempts_used",
                    "cancel_requested", "exit_code", "signal", "reason", "submitted_by", "created_at", "started_at",
                    "ended_at", "attempts",
                ],
                "properties": [
                    "id": ["type": "integer"], "project_id": ["type": "integer"], "run_id": ["type": "string"],
                    "name": ["type": "string"], "argv": ["type": "array", "items": ["type": "string"]],
                    "workdir": nullableString,
                    "env": ["type": "object", "additionalProperties": ["type": "string"]],
                    "config": ["type": "object"],
                    "tags": ["type": "object", "additionalProperties": ["type": "string"]],
                    "gpus": ["type": "integer"], "device": nullableString,
                    "labels": ["type": "array", "items": ["type": "string"]], "priority": ["type": "integer"],
                    "max_attempts": ["type": "integer"], "timeout_seconds": ["type": ["number", "null"]],
                    "status": [
                        "type": "string", "enum": ["queued", "running", "completed", "failed", "cancelled", "lost"],
                    ],
                    "attempts_used": ["type": "integer"], "cancel_requested": ["type": "boolean"],
                    "exit_code": ["type": ["integer", "null"]], "signal": ["type": ["integer", "null"]],
                    "reason": nullableString, "submitted_by": nullableString,
                    "created_at": ["type": "string", "format": "date-time"], "started_at": nullableString,
                    "ended_at": nullableString, "attempts": ["type": "array", "items": ref("JobAttempt")],
                ],
            ],
            "QueueStatus": [
                "type": "object", "required": ["queued", "running", "counts", "workers"],
                "properties": [
                    "queued": ["type": "integer"], "running": ["type": "integer"],
                    "counts": ["type": "object", "additionalProperties": ["type": "integer"]],
                    "workers": [
                        "type": "object", "required": ["online", "busy", "offline", "total", "slots"],
                        "properties": [
                            "online": ["type": "integer"], "busy": ["type": "integer"], "offline": ["type": "integer"],
                            "total": ["type": "integer"], "slots": ["type": "integer"],
                        ],
                    ],
                ],
            ],
            "DeviceGPU": [
                "type": "object", "required": ["index"],
                "properties": [
                    "index": ["type": "integer"], "name": ["type": "string"], "memory_bytes": ["type": "integer"],
                ],
            ],
            "Device": [
                "type": "object",
                "required": [
                    "name", "host", "cpus", "memory_bytes", "gpus", "labels", "slots", "status", "registered_at",
                    "last_seen", "running_jobs",
                ],
                "properties": [
                    "name": ["type": "string"], "host": ["type": "string"], "cpus": ["type": "integer"],
                    "memory_bytes": ["type": "integer"], "gpus": ["type": "array", "items": ref("DeviceGPU")],
                    "labels": ["type": "array", "items": ["type": "string"]], "slots": ["type": "integer"],
                    "status": ["type": "string", "enum": ["online", "busy", "offline"]],
                    "registered_at": ["type": "string", "format": "date-time"],
                    "last_seen": ["type": "string", "format": "date-time"],
                    "running_jobs": ["type": "array", "items": ["type": "integer"]],
                ],
            ],
        ]
    }

    /// The job queue and device endpoints.
    static var jobPaths: [String: JSONValue] {
        let lease = seconds(1...3600, false)
        return [
            "/api/v1/jobs": [
                "post": operation(
                    "Queue a job with its run, queued until a worker starts it (needs write access to the project)",
                    body: body(
                        required: ["argv"],
                        [
                            "project": optional("string", ["pattern": "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"]),
                            "project_id": integer(1...Int(Int32.max), nullable: true),
                            "name": optional("string"), "argv": ["type": "array", "minItems": 1, "items": name],
                            "workdir": optional("string"), "env": stringMap, "config": valueObject, "tags": stringMap,
                            "gpus": integer(0...1024, nullable: true), "device": optional("string"),
                            "labels": ["type": ["array", "null"], "items": name],
                            "priority": integer(-1_000_000...1_000_000, nullable: true),
                            "max_attempts": integer(1...100, nullable: true),
                            "timeout_seconds": seconds(0.001...31_536_000, true),
                        ]
                    ),
                    responses: ["201": json(ref("Job"), "The queued job"), "404": error, "422": error]
                ),
                "get": operation(
                    "List jobs of the projects the caller may read, newest first or in queue order",
                    parameters: [
                        parameter(
                            "status",
                            in: "query",
                            "string",
                            "Only this status (repeatable)",
                            schema: ["enum": ["queued", "running", "completed", "failed", "cancelled", "lost"]]
                        ),
                        parameter("limit", in: "query", "integer", "At most this many", range: 1...1000),
                        parameter(
                            "before",
                            in: "query",
                            "integer",
                            "Jobs older than this id",
                            range: 1...Int(Int64.max)
                        ),
                        parameter(
                            "order",
                            in: "query",
                            "string",
                            "newest first (default, paged by next_before), or queue: as workers claim, highest priority then oldest",
                            schema: ["enum": ["newest", "queue"]]
                        ),
                    ],
                    responses: [
                        "200": json(
                            [
                                "type": "object", "required": ["jobs", "next_before", "counts"],
                                "properties": [
                                    "jobs": ["type": "array", "items": ref("Job")],
                                    "next_before": ["type": ["integer", "null"]],
                                    "counts": ["type": "object", "additionalProperties": ["type": "integer"]],
                                ],
                            ],
                            "A page of jobs and the counts by status"
                        )
                    ]
                ),
            ],
            "/api/v1/jobs/claim": [
                "post": operation(
                    "Claim the next job this worker can run, waiting up to wait_seconds for one (administrators' workers)",
                    body: body(
                        required: ["worker", "slots", "gpus", "labels", "lease_seconds"],
                        [
                            "worker": name, "slots": integer(1...1024), "gpus": gpuIndexes, "labels": names,
                            "lease_seconds": lease, "wait_seconds": seconds(0...5, true),
                        ]
                    ),
                    responses: [
                        "200": json(
                            [
                                "type": "object", "required": ["job", "attempt"],
                                "properties": ["job": ref("Job"), "attempt": ref("JobAttempt")],
                            ],
                            "The claimed job and the attempt the worker now holds"
                        ),
                        "204": ["description": "No job came within wait_seconds"],
                    ]
                )
            ],
            "/api/v1/jobs/{id}": [
                "get": operation(
                    "Get a job with its attempts",
                    parameters: [jobID],
                    responses: ["200": json(ref("Job"), "The job")]
                )
            ],
            "/api/v1/jobs/{id}/cancel": [
                "post": operation(
                    "Cancel a job: a queued one at once, a running one by its worker",
                    parameters: [jobID],
                    responses: ["200": json(ref("Job"), "The job")]
                )
            ],
            "/api/v1/jobs/{id}/retry": [
                "post": operation(
                    "Queue a finished job again",
                    parameters: [jobID],
                    responses: ["200": json(ref("Job"), "The job, queued")]
                )
            ],
            "/api/v1/jobs/{id}/heartbeat": [
                "post": operation(
                    "Renew a running attempt's lease; says whether the job was cancelled",
                    parameters: [jobID],
                    body: body(
                        required: ["worker", "attempt", "lease_seconds"],
                        workerFields.merging([
                            "lease_seconds": lease,
                            "slurm_job_id": ["type": ["string", "null"], "minLength": 1, "maxLength": 64],
                        ]) { $1 }
                    ),
                    responses: [
                        "200": json(
                            [
                                "type": "object", "required": ["expires_at", "cancel_requested"],
                                "properties": [
                                    "expires_at": ["type": "string", "format": "date-time"],
                                    "cancel_requested": ["type": "boolean"],
                                ],
                            ],
                            "The renewed lease"
                        )
                    ]
                )
            ],
            "/api/v1/jobs/{id}/output": [
                "post": operation(
                    "Append output lines of a running attempt to its run's log",
                    parameters: [jobID],
                    body: body(
                        required: ["worker", "attempt", "lines"],
                        workerFields.merging(["lines": ["type": "array", "items": text]]) { $1 }
                    ),
                    responses: ["204": noContent]
                )
            ],
            "/api/v1/jobs/{id}/finish": [
                "post": operation(
                    "Report how a running attempt ended",
                    parameters: [jobID],
                    body: body(
                        required: ["worker", "attempt", "outcome"],
                        workerFields.merging([
                            "outcome": [
                                "type": "string",
                                "enum": ["completed", "failed", "cancelled", "timed_out", "handed_back", "preempted"],
                            ],
                            "exit_code": integer(Int(Int32.min)...Int(Int32.max), nullable: true),
                            "signal": integer(0...1024, nullable: true), "reason": optional("string"),
                        ]) { $1 }
                    ),
                    responses: ["200": json(ref("Job"), "The job")]
                )
            ],
            "/api/v1/queue": [
                "get": operation(
                    "The queue at a glance: its depth, running jobs, jobs by status (of the projects the caller may read) and workers by status",
                    responses: ["200": json(ref("QueueStatus"), "The queue's status")]
                )
            ],
            "/api/v1/devices": [
                "get": operation(
                    "List the devices (workers) with their status",
                    responses: ["200": list("devices", of: ref("Device"), "The devices, by name")]
                )
            ],
            "/api/v1/devices/{name}": [
                "get": operation(
                    "Get a device",
                    parameters: [deviceName],
                    responses: ["200": json(ref("Device"), "The device")]
                ),
                "put": operation(
                    "Register a worker as a device (administrators' workers)",
                    parameters: [deviceName],
                    body: body(
                        required: ["host", "cpus", "memory_bytes", "gpus", "labels", "slots", "lease_seconds"],
                        [
                            "host": text, "cpus": integer(0...1_000_000), "memory_bytes": integer(0...Int(Int64.max)),
                            "gpus": [
                                "type": "array",
                                "items": body(
                                    required: ["index"],
                                    [
                                        "index": integer(0...1024), "name": optional("string"),
                                        "memory_bytes": integer(0...Int(Int64.max), nullable: true),
                                    ]
                                ),
                            ],
                            "labels": names, "slots": integer(1...1024), "lease_seconds": lease,
                        ]
                    ),
                    responses: ["200": json(ref("Device"), "The device, online")]
                ),
            ],
            "/api/v1/devices/{name}/unregister": [
                "post": operation(
                    "Unregister a device: it stays listed, offline; the jobs it still runs are re-queued",
                    parameters: [deviceName],
                    responses: ["200": json(ref("Device"), "The device, offline")]
                )
            ],
            "/api/v1/devices/{name}/heartbeat": [
                "post": operation(
                    "Keep a device online",
                    parameters: [deviceName],
                    body: body(required: ["lease_seconds"], ["lease_seconds": lease]),
                    responses: ["200": json(ref("Device"), "The device")]
                )
            ],
        ]
    }
}
