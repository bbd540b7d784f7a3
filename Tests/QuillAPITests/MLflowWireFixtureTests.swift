import Foundation
import QuillAPI
import QuillCore
import Testing

/// Quill's MLflow wire types read what MLflow 3.17.2's own client sent and write back what MLflow's own server
/// answered, member for member: every fixture is a real exchange recorded by `Fixtures/mlflow/record.py`
/// (MLflow's client against MLflow's server on SQLite). Each body goes through the Quill type of its endpoint
/// (`APIDecoder`, then `APIEncoder`) and must come out as MLflow wrote it, numbers compared by value.
@Suite struct MLflowWireFixtureTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/mlflow")

    /// A recorded exchange.
    struct Exchange {
        var file: String
        var method: String
        var path: String
        var status: Int
        var request: JSONValue
        var response: JSONValue

        /// The endpoint without its prefix: `runs/get`, `mlflow-artifacts/artifacts` (the proxied listing), …
        var endpoint: String {
            for prefix in ["/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/", "/api/3.0/mlflow/", "/api/2.0/"] {
                if path.hasPrefix(prefix) { return String(path.dropFirst(prefix.count)) }
            }
            return path
        }
    }

    static func exchanges() throws -> [Exchange] {
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }
        return try files.sorted().map { file in
            let json = try JSONParser.parse(Array(try Data(contentsOf: folder.appendingPathComponent(file))))
            return Exchange(
                file: file,
                method: try #require(json["method"]?.stringValue),
                path: try #require(json["path"]?.stringValue),
                status: try #require(json["status"]?.intValue),
                request: json["request"] ?? .null,
                response: json["response"] ?? .null
            )
        }
    }

    // MARK: - Shapes: how a body goes through the wire types

    /// Rewrites a body by decoding it into a wire type and encoding that again.
    struct Shape: Sendable {
        var apply: @Sendable (JSONValue) throws -> JSONValue

        /// The whole body is a `T`.
        static func type<T: Codable & Sendable>(_ type: T.Type) -> Shape {
            Shape { try APIEncoder().encode(try APIDecoder().decode(T.self, from: $0)) }
        }
    }

    /// The wire types of each endpoint's request body (nil: a GET, whose query is not a body) and successful answer.
    static let endpoints: [String: (request: Shape?, response: Shape)] = [
        "server-info": (nil, .type(MLflowServerInfo.self)),
        "experiments/create": (.type(MLflowCreateExperiment.self), .type(MLflowCreateExperimentResponse.self)),
        "experiments/get": (nil, .type(MLflowExperimentResponse.self)),
        "experiments/get-by-name": (nil, .type(MLflowExperimentResponse.self)),
        "experiments/search": (.type(MLflowSearchExperiments.self), .type(MLflowSearchExperimentsResponse.self)),
        "experiments/delete": (.type(MLflowExperimentIDRequest.self), .type(MLflowEmpty.self)),
        "experiments/restore": (.type(MLflowExperimentIDRequest.self), .type(MLflowEmpty.self)),
        "experiments/update": (.type(MLflowUpdateExperiment.self), .type(MLflowEmpty.self)),
        "experiments/set-experiment-tag": (.type(MLflowSetExperimentTag.self), .type(MLflowEmpty.self)),
        "experiments/delete-experiment-tag": (.type(MLflowDeleteExperimentTag.self), .type(MLflowEmpty.self)),
        "runs/create": (.type(MLflowCreateRun.self), .type(MLflowRunResponse.self)),
        "runs/get": (nil, .type(MLflowRunResponse.self)),
        "runs/update": (.type(MLflowUpdateRun.self), .type(MLflowUpdateRunResponse.self)),
        "runs/delete": (.type(MLflowRunIDRequest.self), .type(MLflowEmpty.self)),
        "runs/restore": (.type(MLflowRunIDRequest.self), .type(MLflowEmpty.self)),
        "runs/log-metric": (.type(MLflowLogMetric.self), .type(MLflowEmpty.self)),
        "runs/log-parameter": (.type(MLflowLogParam.self), .type(MLflowEmpty.self)),
        "runs/set-tag": (.type(MLflowSetTag.self), .type(MLflowEmpty.self)),
        "runs/delete-tag": (.type(MLflowDeleteTag.self), .type(MLflowEmpty.self)),
        "runs/log-batch": (.type(MLflowLogBatch.self), .type(MLflowEmpty.self)),
        "runs/log-inputs": (.type(MLflowRunIDRequest.self), .type(MLflowEmpty.self)),
        "runs/search": (.type(MLflowSearchRuns.self), .type(MLflowSearchRunsResponse.self)),
        "metrics/get-history": (nil, .type(MLflowMetricHistory.self)),
        "metrics/get-history-bulk-interval": (nil, .type(MLflowMetricHistoryBulkInterval.self)),
        "artifacts/list": (nil, .type(MLflowRunArtifactListing.self)),
        "mlflow-artifacts/artifacts": (nil, .type(MLflowArtifactListing.self)),
        "logged-models/search": (.type(MLflowSearchLoggedModels.self), .type(MLflowEmpty.self)),
    ]

    /// Exchanges whose body is not JSON: the bytes of an artifact (up and down), MLflow's HTML 404.
    static func isRaw(_ exchange: Exchange) -> Bool {
        exchange.endpoint.hasPrefix("mlflow-artifacts/artifacts/") || exchange.file.hasPrefix("endpoint_not_found")
    }

    // MARK: - Comparing

    /// One member where Quill's JSON differs from MLflow's.
    struct Difference: CustomStringConvertible {
        /// Where: `run.info.user_id`, `metrics[3].value`.
        var path: String
        var text: String

        /// The member's own name, without its parents and indexes: `user_id`, `value`.
        var member: String {
            String(path.split(separator: ".").last?.split(separator: "[").first ?? "")
        }

        var description: String { "\(path): \(text)" }
    }

    static func show(_ value: JSONValue) -> String { JSONWriter.string(value) }

    /// Where `ours` differs from `theirs` (MLflow's), member by member; numbers compare by value (NaN equals NaN).
    static func differences(_ ours: JSONValue, _ theirs: JSONValue, at path: String = "") -> [Difference] {
        switch (ours, theirs) {
        case (.object(let a), .object(let b)):
            return Set(a.keys).union(b.keys).sorted().flatMap { key -> [Difference] in
                let member = path.isEmpty ? key : "\(path).\(key)"
                switch (a[key], b[key]) {
                case (let x?, let y?): return differences(x, y, at: member)
                case (nil, let y?): return [Difference(path: member, text: "MLflow wrote \(show(y)), Quill nothing")]
                case (let x?, nil): return [Difference(path: member, text: "Quill wrote \(show(x)), MLflow nothing")]
                case (nil, nil): return []
                }
            }
        case (.array(let a), .array(let b)):
            guard a.count == b.count else {
                return [Difference(path: path, text: "\(b.count) elements from MLflow, \(a.count) from Quill")]
            }
            return zip(a, b).enumerated().flatMap { index, pair in differences(pair.0, pair.1, at: "\(path)[\(index)]")
            }
        case (.int, _), (.double, _), (_, .int), (_, .double):
            // A number, or "NaN"/"Infinity"/"-Infinity" on one side: MLflow writes those as strings, a decoded
            // `Double` is a number until it is written out.
            if let x = ours.doubleValue, let y = theirs.doubleValue, x == y || (x.isNaN && y.isNaN) { return [] }
        default:
            if ours == theirs { return [] }
        }
        return [Difference(path: path, text: "MLflow wrote \(show(theirs)), Quill \(show(ours))")]
    }

    /// The value with every `null` member of its objects left out.
    static func withoutNulls(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let members): .object(members.filter { $0.value != .null }.mapValues(withoutNulls))
        case .array(let elements): .array(elements.map(withoutNulls))
        default: value
        }
    }

    /// Members MLflow writes that Quill's types leave out on purpose, as Docs/MLflow.md states.
    static let documented: Set<String> = [
        // "Datasets given to runs/log-inputs are accepted and not recorded; runs answer inputs: {}".
        "dataset_inputs", "datasets",
        // "Error bodies carry error_code and message only (MLflow 3.17 adds error_class and sqlstate)".
        "error_class", "sqlstate",
        // "Runs have no outputs member and experiments no workspace (MLflow 3.17 writes outputs: {} and
        // workspace: default)".
        "outputs", "workspace",
    ]

    /// Differences not (yet) in Docs/MLflow.md, by member name: each is a known issue until the types write it
    /// or the document states it (the test then fails, so this list stays true).
    static let undocumented: [String: String] = [:]

    // MARK: - Tests

    @Test("every recorded request and answer goes through Quill's MLflow wire types and comes back as MLflow wrote it")
    func recordedExchangesRoundTrip() throws {
        var unexpected: [String] = []
        var known: [String: [String]] = [:]
        for exchange in try Self.exchanges() where !Self.isRaw(exchange) {
            let shapes = try #require(Self.endpoints[exchange.endpoint], "no shape for \(exchange.endpoint)")
            var found: [(String, Difference)] = []
            if let request = shapes.request, exchange.request != .null {
                // A request member written `null` is unset, as MLflow's protobuf JSON parser reads it.
                let ours = Self.withoutNulls(try request.apply(exchange.request))
                found += Self.differences(ours, exchange.request).map { ("request", $0) }
            }
            let response = exchange.status >= 400 ? Shape.type(MLflowErrorBody.self) : shapes.response
            found += try Self.differences(response.apply(exchange.response), exchange.response).map { ("response", $0) }
            for (part, difference) in found where !Self.documented.contains(difference.member) {
                let line = "\(exchange.file) \(part) \(difference)"
                if Self.undocumented[difference.member] != nil {
                    known[difference.member, default: []].append(line)
                } else {
                    unexpected.append(line)
                }
            }
        }
        #expect(unexpected.isEmpty, "\(unexpected.joined(separator: "\n"))")
        for (member, why) in Self.undocumented.sorted(by: { $0.key < $1.key }) {
            let hits = known[member] ?? []
            withKnownIssue("\(member): \(why)") {
                #expect(hits.isEmpty, "\(hits.count) exchanges, e.g. \(hits.first ?? "")")
            }
        }
    }

    @Test("every recorded endpoint has a shape, and the fixtures cover every endpoint the routes implement")
    func fixturesCoverTheEndpoints() throws {
        let recorded = Set(try Self.exchanges().filter { !Self.isRaw($0) }.map(\.endpoint))
        #expect(recorded.subtracting(Self.endpoints.keys).isEmpty, "\(recorded.subtracting(Self.endpoints.keys))")
        #expect(
            Set(Self.endpoints.keys).subtracting(recorded).isEmpty,
            "\(Set(Self.endpoints.keys).subtracting(recorded))"
        )
    }

    @Test("MLflow's errors carry the codes and statuses MLflowErrorCode gives them")
    func errorStatusesMatch() throws {
        let errors = try Self.exchanges().filter { $0.status >= 400 && !Self.isRaw($0) }
        #expect(errors.count >= 10)
        for exchange in errors {
            let body = try APIDecoder().decode(MLflowErrorBody.self, from: exchange.response)
            #expect(body.errorCode.status == exchange.status, "\(exchange.file): \(body.errorCode)")
        }
    }

    @Test("the comparison finds a changed, a missing and an extra member, and numbers compare by value")
    func comparisonFindsDifferences() {
        let mlflow: JSONValue = ["a": 1, "b": ["c": 0.5, "d": "NaN"], "e": [1, 2]]
        #expect(Self.differences(["a": 1.0, "b": ["c": 0.5, "d": "NaN"], "e": [1, 2]], mlflow).isEmpty)
        let changed = Self.differences(["a": 2, "b": ["c": 0.5, "d": "NaN"], "e": [1, 2]], mlflow)
        #expect(changed.map(\.description) == ["a: MLflow wrote 1, Quill 2"])
        let missing = Self.differences(["a": 1, "b": ["c": 0.5], "e": [1, 2]], mlflow)
        #expect(missing.map(\.member) == ["d"])
        let extra = Self.differences(["a": 1, "b": ["c": 0.5, "d": "NaN"], "e": [1], "f": true], mlflow)
        #expect(extra.map(\.path) == ["e", "f"])
    }
}
