import QuillCore

extension OpenAPIDocument {
    /// The endpoints the dashboard added: several histories at once, a run's live events, statistics, cached
    /// step results, and the browser session.
    static var dashboardPaths: [String: JSONValue] {
        let step: JSONValue = [
            "type": "object", "required": ["namespace", "hash", "type", "status", "config", "dependencies"],
            "properties": [
                "namespace": ["type": "string"], "hash": ["type": "string"], "type": ["type": "string"],
                "status": ["type": "string", "enum": ["absent", "incomplete", "success", "failed"]],
                "swift": ["type": "string"], "config": object, "started": nullableString,
                "size_bytes": ["type": "integer"], "host": ["type": "string"], "user": ["type": "string"],
                "version_controlled": ["type": "boolean"], "locked_by": nullableString,
                "dependencies": ["type": "array", "items": ["type": "string"]],
                "attempt_status": nullableString, "last_activity": nullableString,
            ],
        ]
        // Ages (7d, 12h) and UTC date-times, the forms `quill steps --since` takes that a client can send.
        let time: [String: JSONValue] = [
            "pattern":
                "^([0-9]{1,6}[smhdw]|[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z)$"
        ]
        let listFilters: [JSONValue] = [
            parameter(
                "status",
                in: "query",
                "string",
                "Only results with this status",
                schema: ["enum": ["absent", "incomplete", "success", "failed"]]
            ),
            parameter(
                "attempt_status",
                in: "query",
                "string",
                "Only results whose last attempt has this status",
                schema: ["enum": ["queued", "running", "success", "failed", "cancelled", "preempted", "crashed"]]
            ),
            parameter("namespace", in: "query", "string", "Only results of this namespace or type name"),
            parameter("namespace_prefix", in: "query", "string", "Only results whose namespace starts with this"),
            parameter("host", in: "query", "string", "Only results last written on this host"),
            parameter("user", in: "query", "string", "Only results last written by this user"),
            parameter(
                "since",
                in: "query",
                "string",
                "Last attempt started at or after: an age or a time",
                schema: time
            ),
            parameter("before", in: "query", "string", "Last attempt started before: an age or a time", schema: time),
            parameter(
                "config",
                in: "query",
                "string",
                "A config condition KEY=VALUE",
                schema: ["pattern": "^[^=\\u0000]+=[^\\u0000]*$"]
            ),
        ]
        return [
            "/api/v1/runs/{id}/histories": [
                "get": operation(
                    "Several metrics' histories in one answer, each as GET /runs/{id}/metrics?key= writes it",
                    parameters: [
                        runID,
                        [
                            "name": "key", "in": "query", "required": true, "style": "form", "explode": true,
                            "description": "A metric; repeat for more (at most 50)",
                            "schema": ["type": "array", "items": name, "minItems": 1, "maxItems": 50],
                        ],
                    ] + historyParameters,
                    responses: ["200": list("histories", of: ref("MetricHistory"), "The histories, in the order asked")]
                )
            ],
            "/api/v1/runs/{id}/events": [
                "get": operation(
                    "Follow a run live: server-sent events of its new points, log lines, status and summary until it finishes",
                    parameters: [
                        runID,
                        [
                            "name": "Last-Event-ID", "in": "header", "required": false,
                            "description":
                                "The id of the last event received: the stream resumes after it (browsers send it when they reconnect); an id the server did not write starts the stream over",
                            "schema": ["type": "string"],
                        ],
                    ],
                    responses: [
                        "200": [
                            "description":
                                "Server-sent events, each with an `id:` to resume from and one JSON `data:` line: `state` first on a stream that does not resume, then `metrics`, `logs` and `run` as the run changes, and `end` last when it has finished; idle streams get `: heartbeat` comments",
                            "content": ["text/event-stream": ["schema": runEvent]],
                        ],
                        "429": json(ref("Error"), "This client has as many live streams open as one client may"),
                        "503": json(ref("Error"), "The server has as many live streams open as it allows"),
                    ]
                )
            ],
            "/api/v1/stats": [
                "get": operation(
                    "Totals over the projects the caller may read: runs by status and per day, storage",
                    parameters: [
                        parameter("days", in: "query", "integer", "Days of runs per day (default 90)", range: 1...3660)
                    ],
                    responses: ["200": json(ref("Stats"), "Totals")]
                )
            ],
            "/api/v1/steps": [
                "get": operation(
                    "Cached step results under the server's steps root, filtered as `quill steps` filters",
                    parameters: listFilters,
                    responses: [
                        "200": json(
                            [
                                "type": "object", "required": ["steps", "summary"],
                                "properties": [
                                    "steps": ["type": "array", "items": step],
                                    "summary": [
                                        "type": "object",
                                        "required": ["count", "total", "by_status", "size_bytes"],
                                        "properties": [
                                            "count": ["type": "integer"], "total": ["type": "integer"],
                                            "by_status": [
                                                "type": "object", "additionalProperties": ["type": "integer"],
                                            ],
                                            "size_bytes": ["type": "integer"],
                                        ],
                                    ],
                                ],
                            ],
                            "Step results and their counts"
                        )
                    ]
                )
            ],
            "/api/v1/steps/graph": [
                "get": operation(
                    "The dependency graph of every cached step result",
                    responses: [
                        "200": json(
                            [
                                "type": "object", "required": ["nodes", "edges"],
                                "properties": [
                                    "nodes": ["type": "array", "items": object],
                                    "edges": [
                                        "type": "array",
                                        "items": [
                                            "type": "object", "required": ["from", "to"],
                                            "properties": ["from": ["type": "string"], "to": ["type": "string"]],
                                        ],
                                    ],
                                ],
                            ],
                            "Nodes and edges (from a step to what it depends on)"
                        )
                    ]
                )
            ],
            "/api/v1/steps/{namespace}/{hash}": [
                "get": operation(
                    "One step result: metadata, attempts, files, dependents and the end of its log",
                    parameters: [
                        parameter(
                            "namespace",
                            in: "path",
                            "string",
                            "The step's namespace or type name",
                            schema: ["pattern": "^[^/\\u0000]+$"]
                        ),
                        parameter(
                            "hash",
                            in: "path",
                            "string",
                            "The hash or a unique prefix of it (4 or more hex digits)",
                            schema: ["pattern": "^[0-9a-fA-F]{4,64}$"]
                        ),
                        parameter(
                            "log_lines",
                            in: "query",
                            "integer",
                            "Lines of the log (default 200)",
                            range: 0...10_000
                        ),
                    ],
                    responses: ["200": json(object, "The step result"), "409": error]
                )
            ],
            "/api/v1/session": [
                "post": operation(
                    "Sign the dashboard in with an API key: answers with an HttpOnly session cookie",
                    body: body(required: ["api_key"], ["api_key": name]),
                    responses: ["200": json(ref("Session"), "Signed in; the session cookie is set")]
                ),
                "delete": operation("Sign out: ends the session on the server", responses: ["204": noContent]),
            ],
        ]
    }

    /// One event of `GET /runs/{id}/events`, as OpenAPI 3.1 describes a `text/event-stream` item: its name
    /// (`event`), its id and its JSON data, by name.
    static var runEvent: JSONValue {
        let events: [(String, JSONValue)] = [
            ("state", ref("RunEventState")), ("metrics", ref("RunEventMetrics")), ("logs", ref("LogList")),
            ("run", ref("RunDetails")), ("end", ref("RunEventEnd")),
        ]
        return [
            "oneOf": .array(
                events.map { name, body in
                    [
                        "type": "object", "required": ["event", "data"],
                        "properties": [
                            "event": ["const": .string(name)], "id": ["type": "string"], "retry": ["type": "integer"],
                            "data": [
                                "type": "string", "contentMediaType": "application/json", "contentSchema": body,
                            ],
                        ],
                    ]
                }
            )
        ]
    }

    /// Schemas of the dashboard's endpoints.
    static var dashboardSchemas: [String: JSONValue] {
        [
            "MetricHistory": [
                "type": "object", "required": ["key", "points", "total_points", "downsampled"],
                "properties": [
                    "key": ["type": "string"], "total_points": ["type": "integer"], "downsampled": ["type": "boolean"],
                    "points": ["type": "array", "items": ref("MetricPoint")],
                ],
            ],
            "Stats": [
                "type": "object",
                "required": [
                    "projects", "runs_by_status", "runs_per_day", "metric_points", "metric_series", "artifact_files",
                    "artifact_bytes",
                ],
                "properties": [
                    "projects": ["type": "integer"],
                    "runs_by_status": ["type": "object", "additionalProperties": ["type": "integer"]],
                    "runs_per_day": [
                        "type": "array",
                        "items": [
                            "type": "object", "required": ["day", "runs"],
                            "properties": ["day": ["type": "string"], "runs": ["type": "integer"]],
                        ],
                    ],
                    "metric_points": ["type": "integer"], "metric_series": ["type": "integer"],
                    "artifact_files": ["type": "integer"], "artifact_bytes": ["type": "integer"],
                ],
            ],
            "LogList": [
                "type": "object", "required": ["logs", "next", "total"],
                "properties": [
                    "logs": ["type": "array", "items": ref("LogLine")],
                    "next": ["type": "integer", "description": "after= for the lines that follow"],
                    "total": ["type": "integer", "description": "Lines the run has"],
                ],
            ],
            "MetricPosition": [
                "type": "object", "required": ["total_points", "last_index"],
                "properties": ["total_points": ["type": "integer"], "last_index": ["type": ["integer", "null"]]],
            ],
            "RunEventState": [
                "type": "object", "required": ["status", "logs", "metrics"],
                "description": "The `state` event of GET /runs/{id}/events: where the stream starts",
                "properties": [
                    "status": ["type": "string"],
                    "logs": ["type": "integer", "description": "Log lines the run has; `logs` events continue here"],
                    "metrics": ["type": "object", "additionalProperties": ref("MetricPosition")],
                ],
            ],
            "MetricAppend": [
                "type": "object", "required": ["key", "total_points", "last_index", "points", "complete"],
                "properties": [
                    "key": ["type": "string"], "total_points": ["type": "integer"],
                    "last_index": ["type": ["integer", "null"]],
                    "points": ["type": "array", "items": ref("MetricPoint")],
                    "complete": [
                        "type": "boolean",
                        "description": "False when the points are not all the metric gained: read its history again",
                    ],
                ],
            ],
            "RunEventMetrics": [
                "type": "object", "required": ["metrics"],
                "description": "The `metrics` event of GET /runs/{id}/events",
                "properties": ["metrics": ["type": "array", "items": ref("MetricAppend")]],
            ],
            "RunEventEnd": [
                "type": "object", "required": ["status"],
                "description": "The `end` event of GET /runs/{id}/events: the run's final status, or `deleted`",
                "properties": ["status": ["type": "string"]],
            ],
            "Session": [
                "type": "object", "required": ["user", "is_admin"],
                "properties": ["user": ["type": "string"], "is_admin": ["type": "boolean"]],
            ],
        ]
    }
}
