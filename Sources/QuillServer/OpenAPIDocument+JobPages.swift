import QuillCore

extension OpenAPIDocument {
    /// The endpoints the dashboard's jobs and devices pages added.
    static var jobPagePaths: [String: JSONValue] {
        [
            "/api/v1/jobs/access": [
                "get": operation(
                    "Which jobs the caller may cancel and retry: those of these projects (write access)",
                    responses: [
                        "200": json(
                            [
                                "type": "object", "required": ["all_projects", "project_ids"],
                                "properties": [
                                    "all_projects": ["type": "boolean"],
                                    "project_ids": ["type": "array", "items": ["type": "integer"]],
                                ],
                            ],
                            "The projects whose jobs the caller may cancel and retry"
                        )
                    ]
                )
            ]
        ]
    }
}
