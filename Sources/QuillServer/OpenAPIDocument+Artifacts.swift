import QuillCore
import QuillStore

extension OpenAPIDocument {
    static let artifactPath = parameter(
        "path",
        in: "query",
        "string",
        "The artifact's path among the run's artifacts, e.g. checkpoints/best.ckpt",
        required: true,
        schema: artifactPathSchema
    )

    /// ``ArtifactPathRules`` as a schema: `/`-separated components, none empty, `.` or `..`, without
    /// backslashes or control characters.
    static let artifactPathSchema: [String: JSONValue] = [
        "maxLength": .int(ArtifactPathRules.maximumLength),
        "pattern": .string("^\(pathComponent)(/\(pathComponent))*$"),
    ]
    private static let pathCharacter = "[^/\\\\\\u0000-\\u001f\\u007f-\\u009f]"
    private static let pathComponent =
        "(\(pathCharacter)*[^./\\\\\\u0000-\\u001f\\u007f-\\u009f]\(pathCharacter)*|\\.{3,})"

    static let bytes: JSONValue = ["type": "string", "contentMediaType": "application/octet-stream"]

    /// `/api/v1/runs/{id}/artifacts` and `/api/v1/runs/{id}/artifacts/content`.
    static var artifactPaths: [String: JSONValue] {
        [
            "/api/v1/runs/{id}/artifacts": [
                "post": operation(
                    "Create the record of an artifact (or get the existing one); the bytes follow with PUT content",
                    parameters: [runID],
                    body: [
                        "type": "object", "required": ["path"], "additionalProperties": false,
                        "properties": [
                            "path": .object(artifactPathSchema.merging(["type": "string"]) { first, _ in first }),
                            "size": integer(0...Int.max, nullable: true),
                            "sha256": optional("string", ["pattern": "^[0-9a-fA-F]{64}$"]),
                            "logged_at": time,
                        ],
                    ],
                    responses: [
                        "201": json(ref("Artifact"), "The new record, pending"),
                        "200": json(ref("Artifact"), "The existing record"), "400": error, "404": error,
                        "413": error,
                    ]
                ),
                "get": operation(
                    "List a run's artifacts",
                    parameters: [runID],
                    responses: [
                        "200": json(
                            [
                                "type": "object", "required": ["artifacts"],
                                "properties": ["artifacts": ["type": "array", "items": ref("Artifact")]],
                            ],
                            "The artifacts, by path"
                        ),
                        "404": error,
                    ]
                ),
                "patch": operation(
                    "Mark an upload failed (409 when the record has a stored version: its bytes stay)",
                    parameters: [runID, artifactPath],
                    body: body(required: ["status"], ["status": ["type": "string", "enum": ["failed"]]]),
                    responses: [
                        "200": json(ref("Artifact"), "The record"), "400": error, "404": error, "409": error,
                    ]
                ),
            ],
            "/api/v1/runs/{id}/artifacts/content": [
                "put": [
                    "summary": "Upload an artifact's bytes, streamed; stored once per content (SHA-256)",
                    "parameters": [runID, artifactPath],
                    "requestBody": [
                        "description": "The file's bytes; an empty body is an empty file",
                        "required": false, "content": ["application/octet-stream": ["schema": bytes]],
                    ],
                    "responses": [
                        "200": json(ref("Artifact"), "The record, uploaded"),
                        "400": error, "404": error, "413": error,
                        "507": json(ref("Error"), "The namespace's artifact quota is used up"),
                    ],
                ],
                "get": operation(
                    "Download an artifact's bytes; a single Range (bytes=a-b, a-, -n) gives 206",
                    parameters: [
                        runID, artifactPath, parameter("Range", in: "header", "string", "e.g. bytes=0-1023"),
                    ],
                    responses: [
                        "200": [
                            "description": "The bytes", "content": ["application/octet-stream": ["schema": bytes]],
                        ],
                        "206": [
                            "description": "Part of the bytes, with Content-Range",
                            "content": ["application/octet-stream": ["schema": bytes]],
                        ],
                        "404": error,
                        "416": json(ref("Error"), "The range starts past the end of the file"),
                    ]
                ),
            ],
        ]
    }
}
