import Foundation

// The pieces every MLflow wire type shares: MLflow's REST API is protobuf rendered as JSON, so an int64 may
// arrive as a number or a string, and an error is `{"error_code", "message"}`. See Docs/MLflow.md.

/// An MLflow `int64` field (times in milliseconds, steps): read from a JSON number or a decimal string, as
/// MLflow's protobuf JSON parser reads it, and written as a number, as MLflow's server writes it.
package struct MLflowInt64: Codable, Sendable, Hashable, ExpressibleByIntegerLiteral, CustomStringConvertible {
    /// The value.
    package var value: Int64

    /// A value.
    package init(_ value: Int64) {
        self.value = value
    }

    /// A literal value.
    package init(integerLiteral value: Int64) {
        self.value = value
    }

    /// Reads a number or a string of decimal digits; anything else (a fraction, text, a value outside
    /// `Int64`) is a decoding error naming the field.
    package init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int64.self) {
            value = number
            return
        }
        if let text = try? container.decode(String.self), let number = Int64(text.trimmingCharacters(in: .whitespaces))
        {
            value = number
            return
        }
        throw DecodingError.dataCorruptedError(
            in: container,
            debugDescription: "expected a whole number between -2^63 and 2^63-1, as a number or a string"
        )
    }

    /// Writes a JSON number.
    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }

    /// The number in decimal.
    package var description: String { String(value) }
}

/// MLflow's error codes (`databricks_pb2.ErrorCode`) and the HTTP status MLflow's server answers each with
/// (`mlflow/exceptions.py`). The client retries 429 and 5xx for minutes, so a client's mistake must never be
/// one of those.
package struct MLflowErrorCode: RawRepresentable, Codable, Sendable, Hashable, CustomStringConvertible {
    /// The code as MLflow spells it.
    package var rawValue: String

    /// A code.
    package init(rawValue: String) {
        self.rawValue = rawValue
    }

    /// The code as MLflow spells it.
    package var description: String { rawValue }

    /// Something the request names does not exist (404).
    package static let resourceDoesNotExist = MLflowErrorCode(rawValue: "RESOURCE_DOES_NOT_EXIST")
    /// Something the request creates exists already (400).
    package static let resourceAlreadyExists = MLflowErrorCode(rawValue: "RESOURCE_ALREADY_EXISTS")
    /// A value of the request is not allowed (400).
    package static let invalidParameterValue = MLflowErrorCode(rawValue: "INVALID_PARAMETER_VALUE")
    /// The request is malformed (400).
    package static let badRequest = MLflowErrorCode(rawValue: "BAD_REQUEST")
    /// The resource is in a state that does not allow the request, e.g. a deleted run (400).
    package static let invalidState = MLflowErrorCode(rawValue: "INVALID_STATE")
    /// No such endpoint (404).
    package static let endpointNotFound = MLflowErrorCode(rawValue: "ENDPOINT_NOT_FOUND")
    /// The caller gave no valid credential (401).
    package static let unauthenticated = MLflowErrorCode(rawValue: "UNAUTHENTICATED")
    /// The caller may not do this (403).
    package static let permissionDenied = MLflowErrorCode(rawValue: "PERMISSION_DENIED")
    /// The server is busy; try again (503, retried by the client).
    package static let temporarilyUnavailable = MLflowErrorCode(rawValue: "TEMPORARILY_UNAVAILABLE")
    /// The server failed (500, retried by the client).
    package static let internalError = MLflowErrorCode(rawValue: "INTERNAL_ERROR")

    /// The HTTP status MLflow's server answers this code with.
    package var status: Int {
        switch self {
        case .resourceDoesNotExist, .endpointNotFound: 404
        case .unauthenticated: 401
        case .permissionDenied: 403
        case .temporarilyUnavailable: 503
        case .internalError: 500
        default: 400
        }
    }
}

/// Every MLflow error body: `{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "…"}`.
package struct MLflowErrorBody: Codable, Sendable, Hashable {
    /// The code.
    package var errorCode: MLflowErrorCode
    /// One sentence saying what went wrong and what to do.
    package var message: String

    enum CodingKeys: String, CodingKey {
        case errorCode = "error_code"
        case message
    }

    /// An error body.
    package init(_ errorCode: MLflowErrorCode, _ message: String) {
        self.errorCode = errorCode
        self.message = message
    }
}

/// `GET /api/3.0/mlflow/server-info`: how the server is set up. The client asks before some calls (MLflow 3:
/// telemetry, the artifact repository's multipart check); Quill answers as MLflow's own server over a database
/// with proxied artifacts and no multipart transfers, workspaces or trace archival.
package struct MLflowServerInfo: Codable, Sendable, Hashable {
    /// `SqlStore`.
    package var storeType: String = "SqlStore"
    /// `false`: no workspaces.
    package var workspacesEnabled = false
    /// `false`: traces are not archived.
    package var traceArchivalEnabled = false
    /// `false`: artifacts go up in one request.
    package var multipartUploadsEnabled = false
    /// `false`: artifacts come down in one request.
    package var multipartDownloadsEnabled = false
    /// `false`: no presigned uploads.
    package var presignedUploadRunIDSupported = false
    /// `false`: no presigned uploads.
    package var presignedUploadModelIDSupported = false
    /// Optional features: `{"gateway": false}`.
    package var featuresEnabled: [String: Bool] = ["gateway": false]

    enum CodingKeys: String, CodingKey {
        case storeType = "store_type"
        case workspacesEnabled = "workspaces_enabled"
        case traceArchivalEnabled = "trace_archival_enabled"
        case multipartUploadsEnabled = "multipart_uploads_enabled"
        case multipartDownloadsEnabled = "multipart_downloads_enabled"
        case presignedUploadRunIDSupported = "presigned_upload_run_id_supported"
        case presignedUploadModelIDSupported = "presigned_upload_model_id_supported"
        case featuresEnabled = "features_enabled"
    }

    /// The answer.
    package init() {}
}
