import Foundation
import QuillAPI
import QuillCore
import QuillTesting
import Testing

/// The OpenAPI document and the wire types (QuillAPI) describe the same bodies: for every request and
/// response schema, the property names, the required set and which properties may be `null` are those of
/// the type that the server decodes or encodes.
@Suite("The OpenAPI document matches the wire types")
struct OpenAPIWireTypeTests {
    /// A schema location in the document and the type it describes.
    struct Entry: Sendable {
        var name: String
        var schema: @Sendable (JSONValue) -> JSONValue?
        var shape: Result<WireShape, any Error>
        var isRequest: Bool
    }

    static func component(_ name: String) -> @Sendable (JSONValue) -> JSONValue? {
        { $0["components"]?["schemas"]?[name] }
    }

    static func response(_ path: String, _ method: String, _ status: String) -> @Sendable (JSONValue) -> JSONValue? {
        { $0["paths"]?[path]?[method]?["responses"]?[status]?["content"]?["application/json"]?["schema"] }
    }

    static func request(_ path: String, _ method: String) -> @Sendable (JSONValue) -> JSONValue? {
        { $0["paths"]?[path]?[method]?["requestBody"]?["content"]?["application/json"]?["schema"] }
    }

    static func answer<T: Codable>(
        _ name: String,
        _ type: T.Type,
        _ schema: @escaping @Sendable (JSONValue) -> JSONValue?
    )
        -> Entry
    {
        Entry(name: name, schema: schema, shape: Result { try WireShape(T.self) }, isRequest: false)
    }

    static func body<T: Codable>(
        _ name: String,
        _ type: T.Type,
        _ schema: @escaping @Sendable (JSONValue) -> JSONValue?
    )
        -> Entry
    {
        Entry(name: name, schema: schema, shape: Result { try WireShape(T.self) }, isRequest: true)
    }

    static let entries: [Entry] = [
        answer("Error", APIErrorBody.self, component("Error")),
        answer("Project", APIProject.self, component("Project")),
        answer("Run", APIRun.self, component("Run")),
        answer("RunDetails", APIRunDetails.self, component("RunDetails")),
        answer("MetricStatistics", APIMetricStatistics.self, component("MetricStatistics")),
        answer("MetricPoint", APIMetricPoint.self, component("MetricPoint")),
        answer("RunLink", APIRunLink.self, component("RunLink")),
        answer("LogLine", APILogLine.self, component("LogLine")),
        answer("Artifact", APIArtifact.self, component("Artifact")),
        answer("BatchResult", APIBatchResult.self, component("BatchResult")),
        answer("User", APIUser.self, component("User")),
        answer("APIKey", APIKeyRecord.self, component("APIKey")),
        answer("Organization", APIOrganization.self, component("Organization")),
        answer("Membership", APIMembership.self, component("Membership")),
        answer("status", APIStatus.self, response("/api/v1/status", "get", "200")),
        answer("whoami", APIWhoAmI.self, response("/api/v1/whoami", "get", "200")),
        answer("project list", APIProjectList.self, response("/api/v1/projects", "get", "200")),
        answer("run page", APIRunPage.self, response("/api/v1/runs", "get", "200")),
        answer("log list", APILogList.self, response("/api/v1/runs/{id}/logs", "get", "200")),
        answer("artifact list", APIArtifactList.self, response("/api/v1/runs/{id}/artifacts", "get", "200")),
        answer("user list", APIUserList.self, response("/api/v1/users", "get", "200")),
        answer("new user", APIUserCreated.self, response("/api/v1/users", "post", "201")),
        answer("key list", APIKeyList.self, response("/api/v1/keys", "get", "200")),
        answer("Stats", APIStats.self, component("Stats")),
        answer("MetricHistory", APIMetricHistory.self, component("MetricHistory")),
        answer("histories", APIMetricHistories.self, response("/api/v1/runs/{id}/histories", "get", "200")),
        answer("Session", APISession.self, component("Session")),
        answer("MetricPosition", APIMetricPosition.self, component("MetricPosition")),
        answer("RunEventState", APIRunEventState.self, component("RunEventState")),
        answer("MetricAppend", APIMetricAppend.self, component("MetricAppend")),
        answer("RunEventMetrics", APIRunEventMetrics.self, component("RunEventMetrics")),
        answer("RunEventEnd", APIRunEventEnd.self, component("RunEventEnd")),
        body("BatchRequest", APIBatch.self, component("BatchRequest")),
        answer("Job", APIJob.self, component("Job")),
        answer("JobAttempt", APIJobAttempt.self, component("JobAttempt")),
        answer("Device", APIDevice.self, component("Device")),
        answer("job list", APIJobList.self, response("/api/v1/jobs", "get", "200")),
        answer("device list", APIDeviceList.self, response("/api/v1/devices", "get", "200")),
        answer("job access", APIJobAccess.self, response("/api/v1/jobs/access", "get", "200")),
        answer("QueueStatus", APIQueueStatus.self, component("QueueStatus")),
        answer("queue workers", APIQueueWorkers.self, { component("QueueStatus")($0)?["properties"]?["workers"] }),
        answer("job claim", APIJobClaim.self, response("/api/v1/jobs/claim", "post", "200")),
        answer("job lease", APIJobLease.self, response("/api/v1/jobs/{id}/heartbeat", "post", "200")),
        body("job submit", APIJobSubmit.self, request("/api/v1/jobs", "post")),
        body("job claim request", APIJobClaimRequest.self, request("/api/v1/jobs/claim", "post")),
        body("job heartbeat", APIJobHeartbeat.self, request("/api/v1/jobs/{id}/heartbeat", "post")),
        body("job output", APIJobOutput.self, request("/api/v1/jobs/{id}/output", "post")),
        body("job finish", APIJobFinish.self, request("/api/v1/jobs/{id}/finish", "post")),
        body("device register", APIDeviceRegister.self, request("/api/v1/devices/{name}", "put")),
        body("device heartbeat", APIJobLeaseRequest.self, request("/api/v1/devices/{name}/heartbeat", "post")),
        body("create project", APIProjectCreate.self, request("/api/v1/projects", "post")),
        body("change visibility", APIProjectUpdate.self, request("/api/v1/projects/{namespace}/{slug}", "patch")),
        body("create run", APIRunCreate.self, { request("/api/v1/runs", "post")($0)?["allOf"]?.arrayValue?.first }),
        body("update run", APIRunUpdate.self, request("/api/v1/runs/{id}", "patch")),
        body("log metric", APIMetric.self, request("/api/v1/runs/{id}/metrics", "post")),
        body("set param", APIParam.self, request("/api/v1/runs/{id}/params", "post")),
        body("set tag", APITag.self, request("/api/v1/runs/{id}/tags", "post")),
        body("add link", APILink.self, request("/api/v1/runs/{id}/links", "post")),
        body("add log line", APILogLine.self, request("/api/v1/runs/{id}/logs", "post")),
        body("create artifact", APIArtifactCreate.self, request("/api/v1/runs/{id}/artifacts", "post")),
        body("fail artifact", APIArtifactUpdate.self, request("/api/v1/runs/{id}/artifacts", "patch")),
        answer("RemoteArtifact", APIRemoteArtifact.self, component("RemoteArtifact")),
        answer(
            "remote artifact list",
            APIRemoteArtifactList.self,
            response("/api/v1/runs/{id}/artifacts/remote", "get", "200")
        ),
        body(
            "ask for a remote artifact",
            APIRemoteArtifactCreate.self,
            request("/api/v1/runs/{id}/artifacts/remote", "post")
        ),
        body(
            "claim remote artifacts",
            APIRemoteArtifactClaim.self,
            request("/api/v1/devices/{name}/artifact-requests/claim", "post")
        ),
        body(
            "finish a remote artifact",
            APIRemoteArtifactFinish.self,
            request("/api/v1/devices/{name}/artifact-requests/{request}/finish", "post")
        ),
        body("create user", APIUserCreate.self, request("/api/v1/users", "post")),
        body("create key", APIKeyCreate.self, request("/api/v1/keys", "post")),
        body("create organization", APIOrganizationCreate.self, request("/api/v1/orgs", "post")),
        body("change membership", APIMembershipUpdate.self, request("/api/v1/orgs/{org}/members/{user}", "put")),
        body("sign in", APISessionCreate.self, request("/api/v1/session", "post")),
    ]

    @Test("every request and response schema has the wire type's properties, required set and nulls")
    func schemasMatchTypes() async throws {
        let temp = TemporaryDirectory("quill-openapi-types")
        let server = try await ServerProcess.start(data: temp.file("data"))
        let document = try #require(try await server.request("GET", "/api/v1/openapi.json").body)
        for entry in Self.entries {
            let schema = try #require(entry.schema(document).map { Self.flatten($0, document) }, "\(entry.name)")
            let shape = try entry.shape.get()
            let properties = Set(schema["properties"]?.objectValue?.keys ?? [:].keys)
            let required = Set(schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? [])
            #expect(
                properties == shape.fields,
                "\(entry.name): document \(properties.sorted()), type \(shape.fields.sorted())"
            )
            if entry.isRequest {
                #expect(
                    required == shape.required,
                    "\(entry.name): required \(required.sorted()), type \(shape.required.sorted())"
                )
                #expect(schema["additionalProperties"] == false, "\(entry.name) refuses unknown fields")
                for field in shape.fields.subtracting(shape.required) {
                    let property = schema["properties"]?[field] ?? [:]
                    #expect(
                        Self.allowsNull(property, document),
                        "\(entry.name).\(field): the server reads null as absent"
                    )
                }
            } else {
                #expect(
                    required == shape.alwaysWritten,
                    "\(entry.name): required \(required.sorted()), type writes \(shape.alwaysWritten.sorted())"
                )
                for field in shape.fields {
                    let property = schema["properties"]?[field] ?? [:]
                    #expect(
                        Self.allowsNull(property, document) == shape.nullable.contains(field),
                        "\(entry.name).\(field): null in the document \(Self.allowsNull(property, document)), in the type \(shape.nullable.contains(field))"
                    )
                }
            }
        }
    }

    @Test("the answers the server sends decode into their wire types")
    func answersDecode() async throws {
        let temp = TemporaryDirectory("quill-openapi-answers")
        let server = try await ServerProcess.start(data: temp.file("data"))
        let decoder = APIDecoder()
        let run = try await server.request("POST", APIPath.runs, json: ["project": "Vision", "parent": nil])
        #expect(run.status == 201)
        let created = try decoder.decode(APIRun.self, from: try #require(run.body))
        #expect(created.dashboardURL != nil)
        let batch = APIBatch(
            metrics: [APIMetric(key: "loss", value: .nan, step: 1)],
            rows: [APIMetricRow(idx: 5, step: 2, values: ["acc": 0.5])],
            links: [APILink(label: "l", url: "https://x")],
            logs: [APILogLine(timestamp: nil, level: "warning", message: "m")]
        )
        let stored = try await server.request(
            "POST",
            APIPath.runBatch(created.id),
            json: try APIEncoder().encode(batch)
        )
        #expect(try decoder.decode(APIBatchResult.self, from: try #require(stored.body)).metricsWritten == 2)
        let details = try decoder.decode(
            APIRunDetails.self,
            from: try #require(try await server.request("GET", APIPath.run(created.id)).body)
        )
        #expect(details.run.id == created.id)
        #expect(details.project == "Vision")
        #expect(details.metrics["loss"]?.latest.isNaN == true)
        #expect(details.links.map(\.label) == ["l"])
        let page = try decoder.decode(
            APIRunPage.self,
            from: try #require(try await server.request("GET", APIPath.runs()).body)
        )
        #expect(page.runs.map(\.run.id) == [created.id])
        // The history comes from the server's fast encoder: it writes what the wire type writes.
        for path in [
            APIPath.runMetrics(created.id, key: "acc"), APIPath.runMetrics(created.id, key: "loss", maxPoints: 4),
        ] {
            let answer = try #require(try await server.request("GET", path).body)
            let history = try decoder.decode(APIMetricHistory.self, from: answer)
            #expect(history.points.count == 1)
            #expect(JSONWriter.bytes(answer) == (try APIEncoder().bytes(history)), "\(answer)")
        }
        let logs = try decoder.decode(
            APILogList.self,
            from: try #require(try await server.request("GET", APIPath.runLogs(created.id, limit: 10)).body)
        )
        #expect(logs.logs.map(\.level) == ["warning"])
        let status = try decoder.decode(
            APIStatus.self,
            from: try #require(try await server.request("GET", APIPath.status).body)
        )
        #expect(status.serverID?.isEmpty == false)
        let missing = try await server.request("GET", APIPath.run("nope"))
        #expect(try decoder.decode(APIErrorBody.self, from: try #require(missing.body)).error.code == "not_found")
    }

    /// A schema with `$ref`s and `allOf` resolved into one object's `properties` and `required`.
    static func flatten(_ schema: JSONValue, _ document: JSONValue) -> JSONValue {
        let resolved = resolve(schema, document)
        guard let parts = resolved["allOf"]?.arrayValue else { return resolved }
        var properties: [String: JSONValue] = [:]
        var required: [JSONValue] = []
        for part in parts {
            let flat = flatten(part, document)
            properties.merge(flat["properties"]?.objectValue ?? [:]) { first, _ in first }
            required += flat["required"]?.arrayValue ?? []
        }
        return ["properties": .object(properties), "required": .array(required)]
    }

    static func resolve(_ schema: JSONValue, _ document: JSONValue) -> JSONValue {
        guard let reference = schema["$ref"]?.stringValue else { return schema }
        let name = reference.split(separator: "/").last.map(String.init) ?? ""
        return document["components"]?["schemas"]?[name] ?? schema
    }

    /// Whether a property's schema lets `null` through.
    static func allowsNull(_ schema: JSONValue, _ document: JSONValue) -> Bool {
        let schema = resolve(schema, document)
        guard case .object(let members) = schema else { return false }
        if let type = members["type"] {
            if type == "null" || type.arrayValue?.contains("null") == true { return true }
            if members["enum"]?.arrayValue?.contains(.null) == true { return true }
            return false
        }
        for combiner in ["anyOf", "oneOf"] {
            if let options = members[combiner]?.arrayValue { return options.contains { allowsNull($0, document) } }
        }
        return members["enum"]?.arrayValue?.contains(.null) ?? true
    }
}

/// What a wire type reads and writes: its field names; the fields it cannot do without; the fields it
/// writes even when they have no value (as `null`).
struct WireShape: Sendable {
    var fields: Set<String> = []
    var required: Set<String> = []
    var alwaysWritten: Set<String> = []
    var nullable: Set<String> = []

    init<T: Codable>(_ type: T.Type) throws {
        let recorder = ProbeRecorder()
        let empty = try T(from: ProbeDecoder(recorder: recorder, depth: 0))
        fields = recorder.fields
        required = recorder.required
        let written = try APIEncoder().encode(empty).objectValue ?? [:]
        alwaysWritten = Set(written.keys)
        nullable = Set(written.filter { $0.value == .null }.keys)
    }
}

/// Collects the member names a type asks for at the top level, and which it requires.
final class ProbeRecorder {
    var fields: Set<String> = []
    var required: Set<String> = []
}

/// A decoder that answers every question with the smallest value (optionals absent, collections empty)
/// and records, at depth 0, which members the type reads and which it requires.
struct ProbeDecoder: Decoder {
    let recorder: ProbeRecorder
    let depth: Int
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(ProbeKeyed<Key>(recorder: recorder, depth: depth))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer { ProbeUnkeyed() }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        ProbeSingle(recorder: recorder, depth: depth)
    }

    /// The smallest value of a type.
    static func value<T: Decodable>(_ type: T.Type, _ recorder: ProbeRecorder, _ depth: Int) throws -> T {
        let smallest: Any? =
            switch type {
            case is String.Type: "x"
            case is Int.Type: 0
            case is Int64.Type: Int64(0)
            case is Double.Type: 0.0
            case is Bool.Type: false
            case is Date.Type: Date(timeIntervalSince1970: 0)
            case is JSONValue.Type: JSONValue.object([:])
            default: nil
            }
        if let smallest, let typed = smallest as? T { return typed }
        return try T(from: ProbeDecoder(recorder: recorder, depth: depth + 1))
    }
}

struct ProbeKeyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let recorder: ProbeRecorder
    let depth: Int
    var codingPath: [any CodingKey] { [] }
    var allKeys: [Key] { [] }

    func note(_ key: Key, required: Bool) {
        guard depth == 0 else { return }
        recorder.fields.insert(key.stringValue)
        if required { recorder.required.insert(key.stringValue) }
    }

    func contains(_ key: Key) -> Bool {
        note(key, required: false)
        return false
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        note(key, required: false)
        return false
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        note(key, required: true)
        return try ProbeDecoder.value(type, recorder, depth)
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        note(key, required: false)
        return nil
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type,
        forKey key: Key
    ) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        note(key, required: true)
        return KeyedDecodingContainer(ProbeKeyed<NestedKey>(recorder: recorder, depth: depth + 1))
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        note(key, required: true)
        return ProbeUnkeyed()
    }

    func superDecoder() throws -> any Decoder { ProbeDecoder(recorder: recorder, depth: depth) }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        note(key, required: true)
        return ProbeDecoder(recorder: recorder, depth: depth + 1)
    }
}

/// Every array is empty.
struct ProbeUnkeyed: UnkeyedDecodingContainer {
    var codingPath: [any CodingKey] { [] }
    var count: Int? { 0 }
    var isAtEnd: Bool { true }
    var currentIndex: Int { 0 }

    mutating func decodeNil() throws -> Bool { true }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        throw QuillError(.invalidArgument, "the probe's arrays are empty")
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type
    ) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        throw QuillError(.invalidArgument, "the probe's arrays are empty")
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { ProbeUnkeyed() }

    mutating func superDecoder() throws -> any Decoder {
        throw QuillError(.invalidArgument, "the probe's arrays are empty")
    }
}

struct ProbeSingle: SingleValueDecodingContainer {
    let recorder: ProbeRecorder
    let depth: Int
    var codingPath: [any CodingKey] { [] }

    func decodeNil() -> Bool { true }

    func decode<T: Decodable>(_ type: T.Type) throws -> T { try ProbeDecoder.value(type, recorder, depth) }
}

// The primitive requirements of the containers, answered with zero values.
extension ProbeKeyed {
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool {
        note(key, required: true)
        return false
    }
    func decode(_ type: String.Type, forKey key: Key) throws -> String {
        note(key, required: true)
        return "x"
    }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double {
        note(key, required: true)
        return 0
    }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float {
        note(key, required: true)
        return 0
    }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int {
        note(key, required: true)
        return 0
    }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 {
        note(key, required: true)
        return 0
    }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 {
        note(key, required: true)
        return 0
    }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 {
        note(key, required: true)
        return 0
    }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 {
        note(key, required: true)
        return 0
    }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt {
        note(key, required: true)
        return 0
    }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 {
        note(key, required: true)
        return 0
    }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 {
        note(key, required: true)
        return 0
    }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 {
        note(key, required: true)
        return 0
    }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 {
        note(key, required: true)
        return 0
    }
}

extension ProbeUnkeyed {
    mutating func decode(_ type: Bool.Type) throws -> Bool { try decode(Wrapped<Bool>.self).value }
    mutating func decode(_ type: String.Type) throws -> String { try decode(Wrapped<String>.self).value }
    mutating func decode(_ type: Double.Type) throws -> Double { try decode(Wrapped<Double>.self).value }
    mutating func decode(_ type: Float.Type) throws -> Float { try decode(Wrapped<Float>.self).value }
    mutating func decode(_ type: Int.Type) throws -> Int { try decode(Wrapped<Int>.self).value }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try decode(Wrapped<Int8>.self).value }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try decode(Wrapped<Int16>.self).value }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try decode(Wrapped<Int32>.self).value }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try decode(Wrapped<Int64>.self).value }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try decode(Wrapped<UInt>.self).value }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try decode(Wrapped<UInt8>.self).value }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try decode(Wrapped<UInt16>.self).value }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try decode(Wrapped<UInt32>.self).value }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try decode(Wrapped<UInt64>.self).value }
}

extension ProbeSingle {
    func decode(_ type: Bool.Type) throws -> Bool { false }
    func decode(_ type: String.Type) throws -> String { "x" }
    func decode(_ type: Double.Type) throws -> Double { 0 }
    func decode(_ type: Float.Type) throws -> Float { 0 }
    func decode(_ type: Int.Type) throws -> Int { 0 }
    func decode(_ type: Int8.Type) throws -> Int8 { 0 }
    func decode(_ type: Int16.Type) throws -> Int16 { 0 }
    func decode(_ type: Int32.Type) throws -> Int32 { 0 }
    func decode(_ type: Int64.Type) throws -> Int64 { 0 }
    func decode(_ type: UInt.Type) throws -> UInt { 0 }
    func decode(_ type: UInt8.Type) throws -> UInt8 { 0 }
    func decode(_ type: UInt16.Type) throws -> UInt16 { 0 }
    func decode(_ type: UInt32.Type) throws -> UInt32 { 0 }
    func decode(_ type: UInt64.Type) throws -> UInt64 { 0 }
}

/// Routes a primitive through the generic `decode` (which the probe's arrays refuse: they are empty).
struct Wrapped<Value: Decodable>: Decodable {
    var value: Value
}

@Suite("The batch endpoint's fast decoder and the wire type agree")
struct BatchFastPathTests {
    @Test("a metrics batch stores the same points through MetricBatchDecoder as through APIBatch")
    func fastAndGeneralPathsAgree() async throws {
        let temp = TemporaryDirectory("quill-batch-paths")
        let server = try await ServerProcess.start(data: temp.file("data"))
        // The shape the SDK's transcoder writes: key, value, step, idx, timestamp; numbers as written.
        let items = [
            #"{"key":"loss","value":0.5,"step":0,"idx":0,"timestamp":"2026-11-24T16:20:01.000001Z"}"#,
            #"{"key":"loss","value":"NaN","step":-3,"idx":1,"timestamp":"2026-11-24T16:20:02Z"}"#,
            #"{"key":"loss","value":1e-7,"step":null,"idx":2,"timestamp":"2026-11-24T16:20:03.5Z"}"#,
            // A key to give in NFC, written as raw UTF-8 (an escape would leave the fast path).
            #"{"key":"e\#u{301}","value":"-Infinity","step":9007199254740991,"idx":0,"timestamp":"2026-11-24T16:20:04Z"}"#,
            #"{"key":"acc","value":-12,"idx":7,"timestamp":"2026-11-24T16:20:05Z"}"#,
        ]
        let metrics = items.joined(separator: ",")
        var histories: [[String: JSONValue]] = []
        // The second body carries `params`, which sends it through APIDecoder and APIBatch.
        for body in [#"{"metrics":[\#(metrics)]}"#, #"{"metrics":[\#(metrics)],"params":{}}"#] {
            let run = try #require(try await server.request("POST", APIPath.runs, json: ["project": "paths"]).body)
            let id = try #require(run["id"]?.stringValue)
            let stored = try await server.request("POST", APIPath.runBatch(id), raw: Array(body.utf8))
            #expect(stored.status == 200, "\(String(describing: stored.body))")
            #expect(stored.body?["metrics_written"] == 5)
            var seen: [String: JSONValue] = [:]
            for key in ["loss", "\u{E9}", "acc"] {
                let history = try await server.request("GET", APIPath.runMetrics(id, key: key))
                let body: JSONValue = try #require(history.body)
                seen[key] = body
            }
            histories.append(seen)
        }
        #expect(histories[0] == histories[1])
        #expect(histories[0]["\u{E9}"]?["points"]?.arrayValue?.count == 1)
    }

    @Test("a rows batch (metrics.jsonl lines) stores the same points through the fast decoder as through APIBatch")
    func rowsPathsAgree() async throws {
        let temp = TemporaryDirectory("quill-batch-rows")
        let server = try await ServerProcess.start(data: temp.file("data"))
        let rows = [
            #"{"_idx":0,"_timestamp":"2026-11-24T16:20:01.25Z","step":0,"loss":0.5,"acc":"NaN","note":null}"#,
            #"{"_idx":1,"step":null,"_timestamp":null,"loss":1e300,"e\#u{301}":-2}"#,
            #"{"loss":"-Infinity","_idx":9007199254740991,"_timestamp":"2026-11-24T16:20:03Z"}"#,
            "{}",
        ].joined(separator: ",")
        var histories: [[String: JSONValue]] = []
        for body in [#"{"rows":[\#(rows)]}"#, #"{"rows":[\#(rows)],"params":{}}"#] {
            let run = try #require(try await server.request("POST", APIPath.runs, json: ["project": "rows"]).body)
            let id = try #require(run["id"]?.stringValue)
            let stored = try await server.request("POST", APIPath.runBatch(id), raw: Array(body.utf8))
            #expect(stored.status == 200, "\(String(describing: stored.body))")
            #expect(stored.body?["metrics_written"] == 5)
            var seen: [String: JSONValue] = [:]
            for key in ["loss", "acc", "\u{E9}"] {
                let history = try await server.request("GET", APIPath.runMetrics(id, key: key))
                var body: JSONValue = try #require(history.body)
                // The row without a timestamp (idx 1) gets the server's time, which differs between requests.
                body["points"] = body["points"]?.arrayValue.map {
                    .array(
                        $0.map { point in
                            var point = point
                            if point["idx"] == 1 { point["timestamp"] = nil }
                            return point
                        }
                    )
                }
                seen[key] = body
            }
            histories.append(seen)
        }
        #expect(histories[0] == histories[1])
        #expect(histories[0]["loss"]?["points"]?.arrayValue?.count == 3)
        // Refused the same way: a bool where a number belongs goes to the general path, which names it.
        let run = try #require(try await server.request("POST", APIPath.runs, json: ["project": "rows"]).body)
        let id = try #require(run["id"]?.stringValue)
        let refused = try await server.request(
            "POST",
            APIPath.runBatch(id),
            raw: Array(#"{"rows":[{"loss":true}]}"#.utf8)
        )
        #expect(refused.status == 400)
        #expect(refused.body?["error"]?["message"]?.stringValue?.contains("body.rows[0].loss") == true)
    }
}
