import Foundation
import QuillCore
import QuillTesting
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// How a test authenticates to MLflow's routes.
enum MLflowCredential {
    /// No credentials.
    case none
    /// `Authorization: Bearer <key>` (MLflow's `MLFLOW_TRACKING_TOKEN`).
    case bearer(String)
    /// HTTP Basic with the key as the password (`MLFLOW_TRACKING_USERNAME`/`PASSWORD`).
    case basic(user: String, key: String)
}

/// MLflow's REST API of a real `quill serve`: requests under `/api/2.0/mlflow/…`, answers parsed as JSON.
struct MLflowAPI {
    let server: ServerProcess
    var prefix = "/api/2.0/mlflow/"
    var credential = MLflowCredential.none

    init(_ server: ServerProcess, credential: MLflowCredential = .none) {
        self.server = server
        self.credential = credential
    }

    /// `POST <path>` with a JSON body.
    @discardableResult
    func post(_ path: String, _ json: JSONValue) async throws -> (status: Int, body: JSONValue) {
        try await send("POST", path, body: JSONWriter.bytes(json))
    }

    /// `POST <path>` with raw bytes as the body.
    @discardableResult
    func post(_ path: String, raw: [UInt8]) async throws -> (status: Int, body: JSONValue) {
        try await send("POST", path, body: raw)
    }

    /// `GET <path>?<query>`.
    @discardableResult
    func get(_ path: String, _ query: [(String, String)] = []) async throws -> (status: Int, body: JSONValue) {
        var components = URLComponents()
        components.queryItems = query.map { URLQueryItem(name: $0.0, value: $0.1) }
        let suffix = query.isEmpty ? "" : "?" + (components.percentEncodedQuery ?? "")
        return try await send("GET", path + suffix, body: nil)
    }

    func send(_ method: String, _ path: String, body: [UInt8]?) async throws -> (status: Int, body: JSONValue) {
        let url = try #require(URL(string: "http://127.0.0.1:\(server.port)\(prefix)\(path)"))
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.timeoutInterval = 60
        if let body {
            request.httpBody = Data(body)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        switch credential {
        case .none: break
        case .bearer(let key): request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
        case .basic(let user, let key):
            let token = Data("\(user):\(key)".utf8).base64EncodedString()
            request.setValue("Basic \(token)", forHTTPHeaderField: "Authorization")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let parsed =
            data.isEmpty
            ? JSONValue.null : (try? JSONParser.parse(Array(data))) ?? .string(String(decoding: data, as: UTF8.self))
        return (status, parsed)
    }

    /// Creates an experiment and returns its id.
    func createExperiment(_ name: String) async throws -> String {
        let (status, body) = try await post("experiments/create", ["name": .string(name)])
        #expect(status == 200, "\(body)")
        return try #require(body["experiment_id"]?.stringValue)
    }

    /// Creates a run and returns its id.
    func createRun(_ experiment: String, name: String? = nil) async throws -> String {
        var request: [String: JSONValue] = ["experiment_id": .string(experiment), "start_time": 1_700_000_000_000]
        if let name { request["run_name"] = .string(name) }
        let (status, body) = try await post("runs/create", .object(request))
        #expect(status == 200, "\(body)")
        return try #require(body["run"]?["info"]?["run_id"]?.stringValue)
    }

    /// A run as `runs/get` answers it.
    func run(_ id: String) async throws -> JSONValue {
        let (status, body) = try await get("runs/get", [("run_id", id)])
        #expect(status == 200, "\(body)")
        return body["run"] ?? .null
    }
}

extension JSONValue {
    /// An MLflow list of `{key, value}` as a dictionary.
    var keyValues: [String: String] {
        var result: [String: String] = [:]
        for item in arrayValue ?? [] {
            if let key = item["key"]?.stringValue { result[key] = item["value"]?.stringValue ?? "" }
        }
        return result
    }
}

/// Checks an MLflow error answer: its status and `error_code`.
func expectMLflowError(
    _ answer: (status: Int, body: JSONValue),
    _ status: Int,
    _ code: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(answer.status == status, "\(answer.body)", sourceLocation: sourceLocation)
    #expect(answer.body["error_code"]?.stringValue == code, "\(answer.body)", sourceLocation: sourceLocation)
    #expect(answer.body["message"]?.stringValue?.isEmpty == false, sourceLocation: sourceLocation)
}
