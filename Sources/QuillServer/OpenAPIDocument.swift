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
        responses: [String: JSONValue]
    ) -> JSONValue {
        var members: [String: JSONValue] = ["summary": .string(summary), "responses": .object(responses)]
        if !parameters.isEmpty { members["parameters"] = .array(parameters) }
        if let body { members["requestBody"] = ["required": true, "content": ["application/json": ["schema": body]]] }
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
        range: ClosedRange<Int>? = nil
    ) -> JSONValue {
        var schema: JSONValue = ["type": .string(type)]
        if let range { schema = integer(range) }
        return [
            "name": .string(name), "in": .string(location), "required": .bool(required || location == "path"),
            "description": .string(description), "schema": schema,
        ]
    }

    static let runID = parameter("id", in: "path", "string", "The run id")
    static let noContent: JSONValue = ["description": "Done"]

    static let numberOrNonFinite: JSONValue = [
        "oneOf": [["type": "number"], ["type": "string", "enum": ["NaN", "Infinity", "-Infinity"]]]
    ]
    static let nullableString: JSONValue = ["type": ["string", "null"]]
    static let object: JSONValue = ["type": "object"]

    static var document: JSONValue {
        let schemas: [String: JSONValue] = [
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
                ],
            ],
            "Run": [
                "type": "object",
                "required": [
                    "id", "project_id", "name", "kind", "status", "created_at", "updated_at", "started_at", "config",
                    "summary", "url",
                ],
                "properties": [
                    "id": ["type": "string"], "project_id": ["type": "integer"], "name": ["type": "string"],
                    "description": nullableString, "kind": ["type": "string"],
                    "status": ["type": "string", "enum": ["running", "completed", "failed", "crashed", "killed"]],
                    "parent": nullableString, "created_at": ["type": "string"], "updated_at": ["type": "string"],
                    "started_at": ["type": "string"], "ended_at": nullableString,
                    "duration_seconds": ["type": ["number", "null"]], "user": nullableString, "host": nullableString,
                    "git": ["type": ["object", "null"]], "environment": ["type": ["object", "null"]], "config": object,
                    "summary": object, "url": ["type": "string"],
                    "dashboard_url": ["type": "string", "description": "The run's page on the dashboard"],
                ],
            ],
            "MetricStatistics": [
                "type": "object", "required": ["count", "latest", "min", "max"],
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
                            "links": ["type": "array", "items": object],
                            "metrics": ["type": "object", "additionalProperties": ref("MetricStatistics")],
                            "project": ["type": "string"], "project_path": ["type": "string"],
                        ],
                    ],
                ]
            ],
            "MetricPoint": [
                "type": "object", "required": ["idx", "timestamp", "value"],
                "properties": [
                    "idx": ["type": "integer"], "step": ["type": ["integer", "null"]], "timestamp": ["type": "string"],
                    "value": numberOrNonFinite,
                ],
            ],
            "BatchRequest": [
                "type": "object", "additionalProperties": false,
                "properties": [
                    "metrics": [
                        "type": "array",
                        "items": [
                            "type": "object", "required": ["key", "value"], "additionalProperties": false,
                            "properties": [
                                "key": ["type": "string"], "value": numberOrNonFinite,
                                "step": integer(MetricBounds.steps, nullable: true), "timestamp": ["type": "string"],
                                "idx": integer(MetricBounds.indexes, nullable: true),
                            ],
                        ],
                    ],
                    "rows": ["type": "array", "description": "Lines of metrics.jsonl as they are", "items": object],
                    "params": object, "tags": ["type": "object", "additionalProperties": ["type": "string"]],
                    "links": ["type": "array", "items": object], "logs": ["type": "array", "items": object],
                ],
            ],
            "Artifact": [
                "type": "object",
                "required": [
                    "run_id", "path", "file_name", "status", "size", "sha256", "logged_at", "modified_at",
                    "download_url",
                ],
                "properties": [
                    "run_id": ["type": "string"], "path": ["type": "string"], "file_name": ["type": "string"],
                    "status": ["type": "string", "enum": ["pending", "uploaded", "failed"]],
                    "size": ["type": ["integer", "null"]], "sha256": nullableString,
                    "logged_at": ["type": "string", "format": "date-time"],
                    "modified_at": ["type": "string", "format": "date-time"], "download_url": ["type": "string"],
                ],
            ],
            "BatchResult": [
                "type": "object", "required": ["metrics_written", "metrics_ignored"],
                "properties": ["metrics_written": ["type": "integer"], "metrics_ignored": ["type": "integer"]],
            ],
        ]
        var paths: [String: JSONValue] = [
            "/healthz": ["get": operation("Liveness", responses: ["200": json(object, "The server is up")])],
            "/metrics": [
                "get": operation(
                    "Prometheus metrics",
                    responses: [
                        "200": [
                            "description": "Text exposition format",
                            "content": ["text/plain": ["schema": ["type": "string"]]],
                        ]
                    ]
                )
            ],
            "/api/v1/status": [
                "get": operation(
                    "Version, counts and uptime",
                    responses: [
                        "200": json(
                            [
                                "type": "object", "required": ["version", "uptime_seconds", "counts"],
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
                    body: [
                        "type": "object", "required": ["name"],
                        "properties": ["name": ["type": "string"], "namespace": ["type": "string"]],
                    ],
                    responses: ["200": json(ref("Project"), "The project"), "400": error]
                ),
                "get": operation(
                    "List projects",
                    responses: [
                        "200": json(
                            [
                                "type": "object", "required": ["projects"],
                                "properties": ["projects": ["type": "array", "items": ref("Project")]],
                            ],
                            "Projects"
                        )
                    ]
                ),
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
                    body: [
                        "type": "object", "required": ["visibility"],
                        "properties": ["visibility": ["type": "string", "enum": ["private", "internal", "public"]]],
                    ],
                    responses: ["200": json(ref("Project"), "The project"), "400": error, "404": error]
                ),
            ],
            "/api/v1/runs": [
                "post": operation(
                    "Create a run",
                    body: [
                        "type": "object",
                        "properties": [
                            "project": ["type": "string"], "project_id": ["type": "integer"],
                            "name": ["type": "string"],
                        ],
                    ],
                    responses: [
                        "201": json(ref("Run"), "The run, with its dashboard URL"), "400": error, "404": error,
                        "409": error,
                    ]
                ),
                "get": operation(
                    "Search runs",
                    parameters: [
                        parameter("project", in: "query", "string", "A project name or namespace/slug"),
                        parameter(
                            "q",
                            in: "query",
                            "string",
                            "A query, e.g. params.lr < 0.01 and metrics.loss.min < 0.5"
                        ),
                        parameter("sort", in: "query", "string", "A field, optionally followed by desc"),
                        parameter(
                            "limit",
                            in: "query",
                            "integer",
                            "Runs per page (at most 1000 are returned)",
                            range: RunRoutes.limits
                        ),
                        parameter("cursor", in: "query", "string", "next_cursor of the previous page"),
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
                        "400": error,
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
                    body: object,
                    responses: ["200": json(ref("Run"), "The run"), "400": error, "404": error]
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
                    body: [
                        "type": "object", "required": ["key", "value"],
                        "properties": [
                            "key": ["type": "string"], "value": numberOrNonFinite,
                            "step": integer(MetricBounds.steps, nullable: true), "timestamp": ["type": "string"],
                            "idx": integer(MetricBounds.indexes, nullable: true),
                        ],
                    ],
                    responses: ["200": json(ref("BatchResult"), "What was stored"), "400": error, "404": error]
                ),
                "get": operation(
                    "A metric's history (with key), or every metric's statistics (without)",
                    parameters: [
                        runID, parameter("key", in: "query", "string", "The metric"),
                        parameter("from", in: "query", "integer", "First step", range: MetricBounds.steps),
                        parameter("to", in: "query", "integer", "Last step", range: MetricBounds.steps),
                        parameter(
                            "max_points",
                            in: "query",
                            "integer",
                            "Downsample to at most this many points, keeping each bucket's min and max",
                            range: 4...1_000_000
                        ),
                    ],
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
                    body: object,
                    responses: ["204": noContent, "400": error, "404": error]
                )
            ],
            "/api/v1/runs/{id}/tags": [
                "post": operation(
                    "Set a tag",
                    parameters: [runID],
                    body: object,
                    responses: ["204": noContent, "400": error, "404": error]
                )
            ],
            "/api/v1/runs/{id}/links": [
                "post": operation(
                    "Add a link",
                    parameters: [runID],
                    body: object,
                    responses: ["204": noContent, "400": error, "404": error]
                )
            ],
            "/api/v1/runs/{id}/logs": [
                "post": operation(
                    "Append a log line",
                    parameters: [runID],
                    body: object,
                    responses: ["204": noContent, "400": error, "404": error]
                ),
                "get": operation(
                    "Log lines, oldest first",
                    parameters: [
                        runID,
                        parameter("limit", in: "query", "integer", "At most this many", range: RunRoutes.limits),
                    ],
                    responses: [
                        "200": json(
                            [
                                "type": "object", "required": ["logs"],
                                "properties": ["logs": ["type": "array", "items": object]],
                            ],
                            "Log lines"
                        ),
                        "404": error,
                    ]
                ),
            ],
        ]
        paths.merge(artifactPaths) { _, new in new }
        return [
            "openapi": "3.1.0",
            "info": [
                "title": "Quill", "version": .string(QuillServer.version),
                "description": "Experiment tracking: projects, runs, metrics, params, tags, links, logs, artifacts.",
            ],
            "servers": [["url": "/"]],
            "paths": .object(paths.merging(accountPaths) { first, _ in first }),
            "components": [
                "schemas": .object(schemas.merging(accountSchemas) { first, _ in first }),
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
}
