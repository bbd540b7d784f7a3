import QuillCore

/// The OpenAPI 3.1 description of the REST API, served at `/api/v1/openapi.json`.
///
/// Built in code next to the routes so the two change together; `Tests/QuillServerTests/OpenAPITests`
/// validates the document and checks real responses against its schemas.
enum OpenAPIDocument {
    static func ref(_ name: String) -> JSONValue { ["$ref": .string("#/components/schemas/\(name)")] }

    static func json(_ schema: JSONValue, _ description: String) -> JSONValue {
        ["description": .string(description), "content": ["application/json": ["schema": schema]]]
    }

    static let error: JSONValue = json(ref("Error"), "An error: its code and what to do")

    static func operation(
        _ summary: String,
        parameters: [JSONValue] = [],
        body: JSONValue? = nil,
        bodyRequired: Bool = true,
        responses: [String: JSONValue],
        links: [String: JSONValue] = [:]
    ) -> JSONValue {
        var responses = responses
        // Links tell clients (and schemathesis's stateful tests) where an answer's fields lead.
        for (status, response) in responses where status.hasPrefix("2") && !links.isEmpty {
            if case .object(var members) = response {
                members["links"] = .object(links)
                responses[status] = .object(members)
            }
        }
        var members: [String: JSONValue] = ["summary": .string(summary), "responses": .object(responses)]
        if !parameters.isEmpty { members["parameters"] = .array(parameters) }
        if let body {
            members["requestBody"] = [
                "required": .bool(bodyRequired), "content": ["application/json": ["schema": body]],
            ]
        }
        return .object(members)
    }

    /// An integer schema with bounds (``MetricBounds`` for indexes and steps).
    static func integer(_ range: ClosedRange<Int>, nullable: Bool = false) -> JSONValue {
        [
            "type": nullable ? ["integer", "null"] : "integer", "minimum": .int(range.lowerBound),
            "maximum": .int(range.upperBound),
        ]
    }

    static func parameter(
        _ name: String,
        in location: String,
        _ type: String,
        _ description: String,
        required: Bool = false,
        schema extra: [String: JSONValue] = [:],
        range: ClosedRange<Int>? = nil
    ) -> JSONValue {
        var schema = extra
        schema["type"] = .string(type)
        // Query and path strings have no NUL byte either (the server refuses one).
        if type == "string", schema["pattern"] == nil, schema["format"] == nil { schema["pattern"] = noNUL }
        if let range { schema.merge(integer(range).objectValue ?? [:]) { _, new in new } }
        return [
            "name": .string(name), "in": .string(location), "required": .bool(required || location == "path"),
            "description": .string(description), "schema": .object(schema),
        ]
    }

    static let runID = parameter("id", in: "path", "string", "The run id")
    /// The step range and downsampling of a metric history (`/metrics?key=` and `/histories`).
    static let historyParameters: [JSONValue] = [
        parameter("from", in: "query", "integer", "First step", range: MetricBounds.steps),
        parameter("to", in: "query", "integer", "Last step", range: MetricBounds.steps),
        parameter(
            "max_points",
            in: "query",
            "integer",
            "Downsample to at most this many points, keeping each bucket's min and max",
            range: 4...1_000_000
        ),
    ]
    /// An answer that is an object with one required array member.
    static func list(_ member: String, of items: JSONValue, _ description: String) -> JSONValue {
        json(
            [
                "type": "object", "required": [.string(member)],
                "properties": .object([member: ["type": "array", "items": items]]),
            ],
            description
        )
    }

    /// An optional field: the server reads `null` as absent.
    /// Strings have no NUL byte (the server refuses one, as SQLite would cut the text short there).
    static func optional(_ type: String, _ extra: [String: JSONValue] = [:]) -> JSONValue {
        var members = extra
        members["type"] = [.string(type), "null"]
        if type == "string", members["pattern"] == nil, members["enum"] == nil { members["pattern"] = noNUL }
        return .object(members)
    }

    /// The pattern of a string without NUL bytes.
    static let noNUL: JSONValue = "^[^\\u0000]*$"

    /// A request body object: the server refuses fields it does not know, so the document does too.
    static func body(required: [String] = [], _ properties: [String: JSONValue]) -> JSONValue {
        var members: [String: JSONValue] = [
            "type": "object", "additionalProperties": false, "properties": .object(properties),
        ]
        if !required.isEmpty { members["required"] = .array(required.map(JSONValue.string)) }
        return .object(members)
    }

    /// A non-empty string without NUL bytes: names and keys.
    static let name: JSONValue = ["type": "string", "minLength": 1, "pattern": "^[^\\u0000]+$"]
    /// A string without NUL bytes.
    static let text: JSONValue = ["type": "string", "pattern": "^[^\\u0000]*$"]
    /// A display name: at least one character that is not white space, and no NUL bytes.
    static let displayName: JSONValue = [
        "type": "string", "pattern": "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$",
    ]
    /// A metric's position in its series, as clients send it.
    static let index: JSONValue = integer(MetricBounds.indexes, nullable: true)
    /// A training step, as clients send it.
    static let step: JSONValue = integer(MetricBounds.steps, nullable: true)
    static let metricValue: JSONValue = [
        "oneOf": [["type": "number"], ["type": "string", "enum": ["NaN", "Infinity", "-Infinity"]]]
    ]
    static let stringMap: JSONValue = [
        "type": ["object", "null"], "propertyNames": name, "additionalProperties": text,
    ]
    static let link: JSONValue = body(required: ["label", "url"], ["label": text, "url": text])
    static let logLine: JSONValue = body(
        required: ["message"],
        [
            "message": text, "level": optional("string", ["enum": ["debug", "info", "warning", "error", .null]]),
            "timestamp": time,
        ]
    )
    static let metric: JSONValue = body(
        required: ["key", "value"],
        ["key": name, "value": metricValue, "step": step, "timestamp": time, "idx": index]
    )
    static let time: JSONValue = optional("string", ["format": "date-time"])
    static let noContent: JSONValue = ["description": "Done"]

    /// What ``RunID`` accepts: letters, digits, `.`, `-` and `_`, at most 128, but not `.` or `..`.
    static let runIDPattern: JSONValue =
        "^([A-Za-z0-9_-][A-Za-z0-9._-]{0,127}|\\.[A-Za-z0-9_-][A-Za-z0-9._-]{0,126}|\\.\\.[A-Za-z0-9._-]{1,126})$"
    static let runStatuses: JSONValue = ["queued", "running", "completed", "failed", "crashed", "killed", .null]
    static let numberOrNonFinite: JSONValue = [
        "oneOf": [["type": "number"], ["type": "string", "enum": ["NaN", "Infinity", "-Infinity"]]]
    ]
    static let nullableString: JSONValue = ["type": ["string", "null"]]
    /// Any JSON value whose strings and member names hold no NUL byte (the server refuses one anywhere in a
    /// config, summary, param, git or environment value).
    static let valueSchema: JSONValue = [
        "anyOf": [
            ["type": ["null", "boolean", "number"]],
            ["type": "string", "pattern": noNUL],
            ["type": "array", "items": ref("Value")],
            ["type": "object", "propertyNames": ["pattern": noNUL], "additionalProperties": ref("Value")],
        ]
    ]
    /// An optional JSON object of such values (configs, summaries, git and environment facts).
    static let valueObject: JSONValue = [
        "type": ["object", "null"], "propertyNames": ["pattern": noNUL], "additionalProperties": ref("Value"),
    ]
    static let object: JSONValue = ["type": "object"]

    static var document: JSONValue {
        let schemas: [String: JSONValue] = [
            "Value": valueSchema,
            "Error": [
                "type": "object", "required": ["error"],
                "properties": [
                    "error": [
                        "type": "object", "required": ["code", "message"],
                        "properties": ["code": ["type": "string"], "message": ["type": "string"]],
                    ]
                ],
            ],
            "Project": [
                "type": "object", "required": ["id", "namespace", "slug", "name", "visibility", "created_at", "path"],
                "properties": [
                    "id": ["type": "integer"], "namespace": ["type": "string"], "slug": ["type": "string"],
                    "name": ["type": "string"],
                    "visibility": ["type": "string", "enum": ["private", "internal", "public"]],
                    "created_at": ["type": "string", "format": "date-time"], "path": ["type": "string"],
                    "run_counts": [
                        "type": "object", "additionalProperties": ["type": "integer"],
                        "description": "Runs by status (listings only)",
                    ],
                    "last_activity": [
                        "type": "string", "format": "date-time",
                        "description": "The latest change to any of its runs (listings only)",
                    ],
                ],
            ],
            "Run": [
                "type": "object",
                "required": [
                    "id", "project_id", "name", "description", "kind", "status", "parent", "created_at", "updated_at",
                    "started_at", "ended_at", "duration_seconds", "user", "host", "git", "environment", "config",
                    "summary", "deleted_at", "url",
                ],
                "properties": [
                    "id": ["type": "string"], "project_id": ["type": "integer"], "name": ["type": "string"],
                    "description": nullableString, "kind": ["type": "string"],
                    "status": [
                        "type": "string", "enum": ["queued", "running", "completed", "failed", "crashed", "killed"],
                    ],
                    "parent": nullableString, "created_at": ["type": "string"], "updated_at": ["type": "string"],
                    "started_at": ["type": "string"], "ended_at": nullableString,
                    "duration_seconds": ["type": ["number", "null"]], "user": nullableString, "host": nullableString,
                    "git": ["type": ["object", "null"]], "environment": ["type": ["object", "null"]], "config": object,
                    "summary": object, "url": ["type": "string"],
                    "deleted_at": [
                        "type": ["string", "null"],
                        "description":
                            "When the run was moved to the trash; null while active (listings show active runs only)",
                    ],
                    "dashboard_url": ["type": "string", "description": "The run's page on the dashboard"],
                ],
            ],
            "MetricStatistics": [
                "type": "object", "required": ["count", "latest", "latest_step", "min", "max"],
                "properties": [
                    "count": ["type": "integer"], "latest": numberOrNonFinite,
                    "latest_step": ["type": ["integer", "null"]],
                    "min": numberOrNonFinite, "max": numberOrNonFinite,
                ],
            ],
            "RunDetails": [
                "allOf": [
                    ref("Run"),
                    [
                        "type": "object", "required": ["params", "tags", "links", "metrics"],
                        "properties": [
                            "params": object, "tags": ["type": "object", "additionalProperties": ["type": "string"]],
                            "links": ["type": "array", "items": ref("RunLink")],
                            "metrics": ["type": "object", "additionalProperties": ref("MetricStatistics")],
                            "project": ["type": "string"], "project_path": ["type": "string"],
                        ],
                    ],
                ]
            ],
            "MetricPoint": [
                "type": "object", "required": ["idx", "step", "timestamp", "value"],
                "properties": [
                    "idx": ["type": "integer"], "step": ["type": ["integer", "null"]], "timestamp": ["type": "string"],
                    "value": numberOrNonFinite,
                ],
            ],
            "BatchRequest": body([
                "metrics": ["type": ["array", "null"], "items": metric],
                "rows": [
                    "type": ["array", "null"], "description": "Lines of metrics.jsonl as they are",
                    "items": [
                        "type": "object", "propertyNames": name,
                        "properties": ["_idx": index, "step": step, "_timestamp": time],
                        "additionalProperties": ["anyOf": [metricValue, ["type": "null"]]],
                    ],
                ],
                "params": ["type": ["object", "null"], "propertyNames": name, "additionalProperties": ref("Value")],
                "tags": stringMap,
                "links": ["type": ["array", "null"], "items": link],
                "logs": ["type": ["array", "null"], "items": logLine],
            ]),
            "Artifact": [
                "type": "object",
                "required": [
                    "run_id", "path", "file_name", "status", "size", "sha256", "expected_size", "expected_sha256",
                    "logged_at", "modified_at", "download_url",
                ],
                "properties": [
                    "run_id": ["type": "string"], "path": ["type": "string"], "file_name": ["type": "string"],
                    "status": ["type": "string", "enum": ["pending", "uploaded", "failed", "remote"]],
                    "size": ["type": ["integer", "null"]], "sha256": nullableString,
                    "expected_size": ["type": ["integer", "null"]], "expected_sha256": nullableString,
                    "logged_at": ["type": "string", "format": "date-time"],
                    "modified_at": ["type": "string", "format": "date-time"], "download_url": ["type": "string"],
                    // Only for a remote artifact: the latest request that asked a device for it.
                    "remote": ref("RemoteArtifact"),
                ],
            ],
            "RunLink": [
                "type": "object", "required": ["label", "url", "created_at"],
                "properties": [
                    "label": ["type": "string"], "url": ["type": "string"],
                    "created_at": ["type": "string", "format": "date-time"],
                ],
            ],
            "LogLine": [
                "type": "object", "required": ["timestamp", "level", "message"],
                "properties": [
                    "timestamp": nullableString,
                    "level": ["type": ["string", "null"], "enum": ["debug", "info", "warning", "error", .null]],
                    "message": ["type": "string"],
                ],
            ],
            "BatchResult": [
                "type": "object", "required": ["metrics_written", "metrics_ignored"],
                "properties": ["metrics_written": ["type": "integer"], "metrics_ignored": ["type": "integer"]],
            ],
        ]
        var paths: [String: JSONValue] = [
            "/healthz": [
                "get": operation(
                    "Liveness and the database's reachability",
                    responses: [
                        "200": json(object, "The server and its database answer"),
                        "503": json(object, "The database cannot be reached (status unavailable, with a message)"),
                    ]
                )
            ],
            "/metrics": [
                "get": operation(
                    "Prometheus metrics (administrators, or anyone in single-user mode)",
                    responses: [
                        "200": [
                            "description": "Text exposition format",
                            "content": ["text/plain": ["schema": ["type": "string"]]],
                        ],
                        "401": error, "403": error,
                    ]
                )
            ],
            "/api/v1/status": [
                "get": operation(
                    "Version and uptime; the global counts only for administrators (or in single-user mode)",
                    responses: [
                        "200": json(
                            [
                                "type": "object", "required": ["version", "uptime_seconds"],
                                "properties": [
                                    "version": ["type": "string"], "uptime_seconds": ["type": "number"],
                                    "counts": object, "server_id": ["type": "string"],
                                ],
                            ],
                            "Server status"
                        )
                    ]
                )
            ],
            "/api/v1/openapi.json": [
                "get": operation("This document", responses: ["200": json(object, "OpenAPI 3.1")])
            ],
            "/api/v1/projects": [
                "post": operation(
                    "Get or create a project by display name",
                    body: body(
                        required: ["name"],
                        [
                            "name": displayName,
                            "namespace": optional("string", ["pattern": "^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"]),
                        ]
                    ),
                    responses: ["200": json(ref("Project"), "The project"), "400": error],
                    links: [
                        "GetProject": link(
                            "get /api/v1/projects/{namespace}/{slug}",
                            ["namespace": "$response.body#/namespace", "slug": "$response.body#/slug"]
                        ),
                        "ChangeVisibility": link(
                            "patch /api/v1/projects/{namespace}/{slug}",
                            ["namespace": "$response.body#/namespace", "slug": "$response.body#/slug"]
                        ),
                    ]
                ),
                "get": operation("List projects", responses: ["200": list("projects", of: ref("Project"), "Projects")]),
            ],
            "/api/v1/projects/{namespace}/{slug}": [
                "get": operation(
                    "Get a project",
                    parameters: [
                        parameter("namespace", in: "path", "string", "Owner"),
                        parameter("slug", in: "path", "string", "Slug"),
                    ],
                    responses: ["200": json(ref("Project"), "The project"), "404": error]
                ),
                "patch": operation(
                    "Change a project's visibility",
                    parameters: [
                        parameter("namespace", in: "path", "string", "Owner"),
                        parameter("slug", in: "path", "string", "Slug"),
                    ],
                    body: body(
                        required: ["visibility"],
                        ["visibility": ["type": "string", "enum": ["private", "internal", "public"]]]
                    ),
                    responses: ["200": json(ref("Project"), "The project"), "400": error, "404": error]
                ),
            ],
            "/api/v1/runs": [
                "post": operation(
                    "Create a run",
                    body: [
                        "allOf": [
                            body([
                                "id": optional("string", ["pattern": runIDPattern]),
                                "project": optional("string"), "project_id": integer(Int.min...Int.max, nullable: true),
                                "name": optional("string"), "description": optional("string"),
                                "kind": optional("string"), "parent": optional("string"),
                                "status": optional("string", ["enum": runStatuses]), "started_at": time,
                                "ended_at": time, "user": optional("string"), "host": optional("string"),
                                "git": valueObject, "environment": valueObject, "config": valueObject,
                                "tags": stringMap,
                            ]),
                            [
                                "description": "project (a name, or namespace/slug) or project_id is required",
                                "anyOf": [
                                    ["required": ["project"], "properties": ["project": ["type": "string"]]],
                                    [
                                        "required": ["project_id"],
                                        "properties": ["project_id": integer(Int.min...Int.max)],
                                    ],
                                ],
                            ],
                        ]
                    ],
                    responses: [
                        "201": json(ref("Run"), "The run, with its dashboard URL"), "400": error, "404": error,
                        "409": error, "422": json(ref("Error"), "The parent run does not exist or may not be read"),
                    ],
                    links: runLinks
                ),
                "get": operation(
                    "Search runs",
                    parameters: [
                        parameter("project", in: "query", "string", "A project name or namespace/slug"),
                        parameter(
                            "q",
                            in: "query",
                            "string",
                            "A query, e.g. params.lr < 0.01 and metrics.loss.min < 0.5",
                            schema: ["format": "quill-query"]
                        ),
                        parameter(
                            "sort",
                            in: "query",
                            "string",
                            "A field, optionally followed by asc or desc",
                            schema: ["format": "quill-sort"]
                        ),
                        parameter(
                            "limit",
                            in: "query",
                            "integer",
                            "Runs per page (at most 1000 are returned)",
                            range: RunRoutes.limits
                        ),
                        parameter(
                            "cursor",
                            in: "query",
                            "string",
                            "next_cursor of the previous page, with the same q, sort and project",
                            schema: ["minLength": 1, "format": "quill-cursor"]
                        ),
                    ],
                    responses: [
                        "200": json(
                            [
                                "type": "object", "required": ["runs", "next_cursor"],
                                "properties": [
                                    "runs": ["type": "array", "items": ref("RunDetails")],
                                    "next_cursor": nullableString,
                                ],
                            ],
                            "A page of runs"
                        ),
                        "400": error, "404": error,
                    ]
                ),
            ],
            "/api/v1/runs/{id}": [
                "get": operation(
                    "Get a run with its params, tags, links and metric statistics",
                    parameters: [runID],
                    responses: ["200": json(ref("RunDetails"), "The run"), "404": error]
                ),
                "patch": operation(
                    "Update a run: status, end time, name, description, parent (null removes it), summary (merged)",
                    parameters: [runID],
                    body: body([
                        "status": optional("string", ["enum": runStatuses]), "ended_at": time,
                        "name": optional("string"), "description": optional("string"), "parent": optional("string"),
                        "summary": valueObject,
                    ]),
                    responses: [
                        "200": json(ref("Run"), "The run"), "400": error, "404": error,
                        "422": json(ref("Error"), "The parent run does not exist or may not be read"),
                    ]
                ),
                "delete": operation("Delete a run", parameters: [runID], responses: ["204": noContent, "404": error]),
            ],
            "/api/v1/runs/{id}/batch": [
                "post": operation(
                    "Log metrics, rows, params, tags, links and log lines in one request",
                    parameters: [runID],
                    body: ref("BatchRequest"),
                    responses: [
                        "200": json(ref("BatchResult"), "What was stored"), "400": error, "404": error, "413": error,
                    ]
                )
            ],
            "/api/v1/runs/{id}/metrics": [
                "post": operation(
                    "Log one metric value",
                    parameters: [runID],
                    body: metric,
                    responses: ["200": json(ref("BatchResult"), "What was stored"), "400": error, "404": error]
                ),
                "get": operation(
                    "A metric's history (with key), or every metric's statistics (without)",
                    parameters: [runID, parameter("key", in: "query", "string", "The metric")] + historyParameters,
                    responses: [
                        "200": json(
                            [
                                "type": "object",
                                "properties": [
                                    "key": ["type": "string"], "total_points": ["type": "integer"],
                                    "downsampled": ["type": "boolean"],
                                    "points": ["type": "array", "items": ref("MetricPoint")],
                                    "metrics": ["type": "object", "additionalProperties": ref("MetricStatistics")],
                                ],
                            ],
                            "History or statistics"
                        ),
                        "400": error, "404": error,
                    ]
                ),
            ],
            "/api/v1/runs/{id}/params": [
                "post": operation(
                    "Set a param",
                    parameters: [runID],
                    body: body(required: ["key"], ["key": name, "value": ref("Value")]),
                    responses: ["204": noContent, "400": error, "404": error]
                )
            ],
            "/api/v1/runs/{id}/tags": [
                "post": operation(
                    "Set a tag",
                    parameters: [runID],
                    body: body(required: ["key"], ["key": name, "value": ["anyOf": [text, ["type": "null"]]]]),
                    responses: ["204": noContent, "400": error, "404": error]
                )
            ],
            "/api/v1/runs/{id}/links": [
                "post": operation(
                    "Add a link",
                    parameters: [runID],
                    body: link,
                    responses: ["204": noContent, "400": error, "404": error]
                )
            ],
            "/api/v1/runs/{id}/logs": [
                "post": operation(
                    "Append a log line",
                    parameters: [runID],
                    body: logLine,
                    responses: ["204": noContent, "400": error, "404": error]
                ),
                "get": operation(
                    "Log lines, oldest first; follow a log with after=next, or start from its end with tail",
                    parameters: [
                        runID,
                        parameter(
                            "limit",
                            in: "query",
                            "integer",
                            "At most this many (at most 100,000 are returned; default 1,000)",
                            range: RunRoutes.limits
                        ),
                        parameter(
                            "after",
                            in: "query",
                            "integer",
                            "Skip this many lines (the next of an earlier answer)",
                            range: 0...Int(Int32.max)
                        ),
                        parameter("tail", in: "query", "integer", "Only the last this many lines", range: 0...100_000),
                    ],
                    responses: [
                        "200": json(ref("LogList"), "Log lines"),
                        "404": error,
                    ]
                ),
            ],
        ]
        paths.merge(artifactPaths) { _, new in new }
        paths.merge(accountPaths) { first, _ in first }
        paths.merge(dashboardPaths) { first, _ in first }
        paths.merge(jobPaths) { first, _ in first }
        paths.merge(remoteArtifactPaths) { first, _ in first }
        paths.merge(jobPagePaths) { first, _ in first }
        return [
            "openapi": "3.1.0",
            "info": [
                "title": "Quill", "version": .string(QuillServer.version),
                "description": "Experiment tracking: projects, runs, metrics, params, tags, links, logs, artifacts.",
            ],
            "servers": [["url": "/"]],
            "paths": .object(withStandardErrors(paths)),
            "components": [
                "schemas": .object(
                    schemas.merging(accountSchemas) { first, _ in first }.merging(dashboardSchemas) { first, _ in first
                    }.merging(jobSchemas) { first, _ in first }.merging(remoteArtifactSchemas) { first, _ in first }
                ),
                "securitySchemes": [
                    "apiKey": [
                        "type": "http", "scheme": "bearer",
                        "description": "An API key (`quill keys create`); not needed on a server without users",
                    ]
                ],
            ],
            "security": [["apiKey": []], [:]],
        ]
    }

    /// The operation id ``withStandardErrors(_:)`` gives an operation: `get /api/v1/runs/{id}` becomes
    /// `get_api_v1_runs_id`.
    static func operationID(_ method: String, _ path: String) -> String {
        ([method] + path.split(separator: "/").map { $0.filter { $0 != "{" && $0 != "}" && $0 != "." } })
            .joined(separator: "_")
    }

    /// A link to another operation (written `method path`), with its parameters taken from the answer.
    static func link(_ operation: String, _ parameters: [String: JSONValue]) -> JSONValue {
        let parts = operation.split(separator: " ", maxSplits: 1).map(String.init)
        return ["operationId": .string(operationID(parts[0], parts[1])), "parameters": .object(parameters)]
    }

    /// Where a new run's id leads.
    static var runLinks: [String: JSONValue] {
        let id: [String: JSONValue] = ["id": "$response.body#/id"]
        return [
            "GetRun": link("get /api/v1/runs/{id}", id), "UpdateRun": link("patch /api/v1/runs/{id}", id),
            "DeleteRun": link("delete /api/v1/runs/{id}", id), "LogBatch": link("post /api/v1/runs/{id}/batch", id),
            "LogMetric": link("post /api/v1/runs/{id}/metrics", id),
            "GetMetrics": link("get /api/v1/runs/{id}/metrics", id),
            "SetParam": link("post /api/v1/runs/{id}/params", id), "SetTag": link("post /api/v1/runs/{id}/tags", id),
            "AddLink": link("post /api/v1/runs/{id}/links", id), "AddLog": link("post /api/v1/runs/{id}/logs", id),
            "GetLogs": link("get /api/v1/runs/{id}/logs", id),
            "CreateArtifact": link("post /api/v1/runs/{id}/artifacts", id),
            "ListArtifacts": link("get /api/v1/runs/{id}/artifacts", id),
            "UploadArtifact": link("put /api/v1/runs/{id}/artifacts/content", id),
        ]
    }

    /// Adds the error statuses every operation of a kind can answer, so no operation forgets one: 400 where
    /// a request carries parameters or a body, 404 where the path names something, 413 where a body may be
    /// too large, 401 and 403 wherever an API key is checked, and 409 on every write.
    static func withStandardErrors(_ paths: [String: JSONValue]) -> [String: JSONValue] {
        let unauthenticated: Set<String> = ["/healthz", "/metrics", "/api/v1/status", "/api/v1/openapi.json"]
        var result: [String: JSONValue] = [:]
        for (path, item) in paths {
            guard case .object(let operations) = item else {
                result[path] = item
                continue
            }
            var changed: [String: JSONValue] = [:]
            for (method, operation) in operations {
                guard case .object(var members) = operation, case .object(var responses)? = members["responses"] else {
                    changed[method] = operation
                    continue
                }
                var statuses: [String] = []
                if members["parameters"] != nil || members["requestBody"] != nil { statuses.append("400") }
                if path.contains("{") { statuses.append("404") }
                if members["requestBody"] != nil { statuses.append("413") }
                if !unauthenticated.contains(path) { statuses += ["401", "403"] }
                // A write can meet the state it changes: a name or id already taken, a series out of numbers.
                if method != "get", path.hasPrefix("/api/v1/") { statuses.append("409") }
                for status in statuses where responses[status] == nil { responses[status] = error }
                members["responses"] = .object(responses)
                members["operationId"] = .string(operationID(method, path))
                changed[method] = .object(members)
            }
            result[path] = .object(changed)
        }
        return result
    }
}
