import QuillCore

extension OpenAPIDocument {
    static let remoteArtifactStatuses: JSONValue = ["pending", "sending", "done", "failed", "recorded"]

    /// Schemas of the remote artifact endpoints.
    static var remoteArtifactSchemas: [String: JSONValue] {
        [
            "RemoteArtifact": [
                "type": "object",
                "required": [
                    "id", "run_id", "device", "source_path", "artifact_path", "transfer", "status", "reason", "size",
                    "sha256", "created_at", "updated_at",
                ],
                "properties": [
                    "id": ["type": "integer"], "run_id": ["type": "string"], "device": ["type": "string"],
                    "source_path": ["type": "string"], "artifact_path": ["type": "string"],
                    "transfer": ["type": "boolean"], "status": ["type": "string", "enum": remoteArtifactStatuses],
                    "reason": nullableString, "size": ["type": ["integer", "null"]], "sha256": nullableString,
                    "created_at": ["type": "string", "format": "date-time"],
                    "updated_at": ["type": "string", "format": "date-time"],
                ],
            ]
        ]
    }

    /// `/api/v1/runs/{id}/artifacts/remote` and the workers' `/api/v1/devices/{name}/artifact-requests/…`.
    static var remoteArtifactPaths: [String: JSONValue] {
        [
            "/api/v1/runs/{id}/artifacts/remote": [
                "post": operation(
                    "Ask a device for a file as an artifact of the run (remote_<device>__<name>), or record it without a transfer",
                    parameters: [runID],
                    body: body(
                        required: ["device", "path"],
                        [
                            "device": name,
                            "path": [
                                "type": "string", "pattern": "^/([^\\u0000]*/)?[^/\\u0000]+$",
                                "maxLength": .int(RemoteArtifactRoutes.maximumSourcePath),
                            ],
                            // With the device's prefix the artifact path stays within 1,024 characters.
                            "name": .object(
                                artifactPathSchema.merging(["type": ["string", "null"], "maxLength": 512]) { _, new in
                                    new
                                }
                            ),
                            "transfer": optional("boolean"),
                        ]
                    ),
                    responses: [
                        "201": json(ref("RemoteArtifact"), "The request: pending, or recorded without a transfer"),
                        "404": error, "422": error,
                    ]
                ),
                "get": operation(
                    "List the run's remote artifact requests with their status, oldest first",
                    parameters: [runID],
                    responses: [
                        "200": list("requests", of: ref("RemoteArtifact"), "The requests"), "404": error,
                    ]
                ),
            ],
            "/api/v1/devices/{name}/artifact-requests/claim": [
                "post": operation(
                    "Claim the device's remote artifact requests, waiting up to wait_seconds for one (administrators' workers)",
                    parameters: [deviceName],
                    body: body(
                        required: ["lease_seconds"],
                        [
                            "lease_seconds": seconds(1...3600, false), "wait_seconds": seconds(0...5, true),
                            "limit": integer(1...100, nullable: true),
                        ]
                    ),
                    responses: [
                        "200": list("requests", of: ref("RemoteArtifact"), "The requests to send (none when none came)")
                    ]
                )
            ],
            "/api/v1/devices/{name}/artifact-requests/{request}/finish": [
                "post": operation(
                    "Report a claimed request done (its bytes uploaded as the artifact) or failed with a reason",
                    parameters: [
                        deviceName,
                        parameter("request", in: "path", "integer", "The request id", range: 1...Int(Int64.max)),
                    ],
                    body: body(
                        required: ["status"],
                        [
                            "status": ["type": "string", "enum": ["done", "failed"]], "reason": optional("string"),
                        ]
                    ),
                    responses: [
                        "200": json(ref("RemoteArtifact"), "The request, finished"), "404": error, "409": error,
                    ]
                )
            ],
        ]
    }
}
