import QuillCore

extension OpenAPIDocument {
    static let orgParameter = parameter("org", in: "path", "string", "The organization")
    /// What a user or organization name may be (``AccountName/validate(_:)``).
    static let accountName: JSONValue = ["type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,63}$"]

    /// Schemas of the account endpoints.
    static var accountSchemas: [String: JSONValue] {
        [
            "User": [
                "type": "object", "required": ["name", "is_admin", "created_at"],
                "properties": [
                    "name": ["type": "string"], "is_admin": ["type": "boolean"], "created_at": ["type": "string"],
                ],
            ],
            "APIKey": [
                "type": "object", "required": ["id", "user", "label", "prefix", "created_at", "revoked_at"],
                "properties": [
                    "id": ["type": "integer"], "user": ["type": "string"], "label": ["type": "string"],
                    "prefix": ["type": "string"], "created_at": ["type": "string"], "revoked_at": nullableString,
                    "key": ["type": "string", "description": "The key itself: only in the answer that created it"],
                ],
            ],
            "Membership": [
                "type": "object", "required": ["name", "role"],
                "properties": [
                    "name": ["type": "string"], "role": ["type": "string", "enum": ["owner", "member"]],
                ],
            ],
            "Organization": [
                "type": "object", "required": ["name", "created_at", "members"],
                "properties": [
                    "name": ["type": "string"], "created_at": ["type": "string"],
                    "members": [
                        "type": "array",
                        "items": [
                            "type": "object", "required": ["user", "role"],
                            "properties": [
                                "user": ["type": "string"], "role": ["type": "string", "enum": ["owner", "member"]],
                            ],
                        ],
                    ],
                ],
            ],
        ]
    }

    /// The account endpoints: who am I, users, API keys, organizations.
    static var accountPaths: [String: JSONValue] {
        [
            "/api/v1/whoami": [
                "get": operation(
                    "Who the request's API key belongs to (or single-user mode, or anonymous)",
                    responses: [
                        "200": json(
                            [
                                "type": "object", "required": ["mode", "user", "is_admin", "organizations"],
                                "properties": [
                                    "mode": ["type": "string", "enum": ["single_user", "user", "anonymous"]],
                                    "user": nullableString, "is_admin": ["type": "boolean"],
                                    "organizations": ["type": "array", "items": ref("Membership")],
                                ],
                            ],
                            "The caller"
                        ),
                        "401": error,
                    ]
                )
            ],
            "/api/v1/users": [
                "get": operation(
                    "List users (administrators)",
                    responses: [
                        "200": json(
                            [
                                "type": "object", "required": ["users"],
                                "properties": ["users": ["type": "array", "items": ref("User")]],
                            ],
                            "Users"
                        ),
                        "401": error, "403": error,
                    ]
                ),
                "post": operation(
                    "Create a user and the user's first API key (administrators; anyone while the server has no users)",
                    body: body(required: ["name"], ["name": accountName, "admin": optional("boolean")]),
                    responses: [
                        "201": json(
                            [
                                "type": "object", "required": ["user", "api_key"],
                                "properties": ["user": ref("User"), "api_key": ref("APIKey")],
                            ],
                            "The user and its key"
                        ),
                        "400": error, "401": error, "403": error, "409": error,
                    ]
                ),
            ],
            "/api/v1/keys": [
                "get": operation(
                    "The caller's API keys (never the keys themselves)",
                    responses: [
                        "200": json(
                            [
                                "type": "object", "required": ["keys"],
                                "properties": ["keys": ["type": "array", "items": ref("APIKey")]],
                            ],
                            "Keys"
                        ),
                        "400": error, "401": error, "409": error,
                    ]
                ),
                "post": operation(
                    "Create an API key for the caller; the answer holds the key, shown this once",
                    body: body(["label": optional("string", ["maxLength": 200, "pattern": "^[^\\u0000]*$"])]),
                    bodyRequired: false,
                    responses: ["201": json(ref("APIKey"), "The key"), "400": error, "401": error, "409": error]
                ),
            ],
            "/api/v1/keys/{key}": [
                "delete": operation(
                    "Revoke one of the caller's keys",
                    parameters: [parameter("key", in: "path", "integer", "The key's id", range: Int.min...Int.max)],
                    responses: [
                        "200": json(ref("APIKey"), "The revoked key"), "401": error, "404": error, "409": error,
                    ]
                )
            ],
            "/api/v1/orgs": [
                "post": operation(
                    "Create an organization; the caller becomes its owner",
                    body: body(required: ["name"], ["name": accountName]),
                    responses: [
                        "201": json(ref("Organization"), "The organization"), "400": error, "401": error,
                        "409": error,
                    ]
                )
            ],
            "/api/v1/orgs/{org}": [
                "get": operation(
                    "An organization and its members (members only)",
                    parameters: [orgParameter],
                    responses: [
                        "200": json(ref("Organization"), "The organization"), "401": error, "404": error,
                        "409": error,
                    ]
                )
            ],
            "/api/v1/orgs/{org}/members/{user}": [
                "put": operation(
                    "Add a member or change a member's role (owners)",
                    parameters: [orgParameter, parameter("user", in: "path", "string", "The user")],
                    body: body(["role": optional("string", ["enum": ["owner", "member", .null]])]),
                    responses: [
                        "200": json(ref("Organization"), "The organization"), "400": error, "401": error,
                        "403": error, "404": error, "409": error,
                    ]
                ),
                "delete": operation(
                    "Remove a member (owners, or the member itself)",
                    parameters: [orgParameter, parameter("user", in: "path", "string", "The user")],
                    responses: [
                        "200": json(ref("Organization"), "The organization"), "401": error, "403": error,
                        "404": error, "409": error,
                    ]
                ),
            ],
        ]
    }
}
