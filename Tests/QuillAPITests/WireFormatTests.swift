import Foundation
import QuillAPI
import QuillCore
import Testing

/// The wire types write exactly what the server wrote before them (field names, nulls, omitted fields,
/// NaN as strings, keys sorted) and read request bodies as strictly as the server did.
@Suite struct WireFormatTests {
    let created = Date(timeIntervalSince1970: 1_764_000_000.25)
    var stamp: String { Timestamp.string(created) }

    func text(_ value: some Encodable) throws -> String {
        String(decoding: try APIEncoder().bytes(value), as: UTF8.self)
    }

    func run(dashboard: String? = nil) -> APIRun {
        APIRun(
            id: "r1",
            projectID: 7,
            name: "first",
            kind: "training",
            status: "running",
            createdAt: created,
            updatedAt: created,
            startedAt: created,
            url: "/runs/r1",
            dashboardURL: dashboard
        )
    }

    @Test func runWritesNullsForMissingValuesAndLeavesOutTheDashboardURL() throws {
        let expected =
            #"{"config":{},"created_at":"\#(stamp)","deleted_at":null,"description":null,"duration_seconds":null,"ended_at":null,"#
            + #""environment":null,"git":null,"host":null,"id":"r1","kind":"training","name":"first","parent":null,"#
            + #""project_id":7,"started_at":"\#(stamp)","status":"running","summary":{},"updated_at":"\#(stamp)","#
            + #""url":"/runs/r1","user":null}"#
        #expect(try text(run()) == expected)
        let withURL = try text(run(dashboard: "http://x/p/r1"))
        #expect(withURL.contains(#""dashboard_url":"http://x/p/r1""#))
        #expect(try APIDecoder().decode(APIRun.self, from: Array(withURL.utf8)) == run(dashboard: "http://x/p/r1"))
    }

    @Test func detailsAreOneObjectWithNonFiniteStatisticsAsStrings() throws {
        let details = APIRunDetails(
            run: run(),
            params: ["lr": 0.01],
            tags: ["team": "vision"],
            links: [APIRunLink(label: "paper", url: "https://example.com", createdAt: created)],
            metrics: [
                "loss": APIMetricStatistics(count: 2, latest: .nan, latestStep: nil, min: -.infinity, max: .infinity)
            ]
        )
        let json = try APIEncoder().encode(details)
        #expect(json["id"] == "r1")
        #expect(json["project"] == nil)
        #expect(json["project_path"] == nil)
        #expect(
            try text(details.metrics)
                == #"{"loss":{"count":2,"latest":"NaN","latest_step":null,"max":"Infinity","min":"-Infinity"}}"#
        )
        #expect(json["links"] == [["label": "paper", "url": "https://example.com", "created_at": .string(stamp)]])
        var named = details
        named.project = "Vision"
        named.projectPath = "alice/vision"
        let decoded = try APIDecoder().decode(APIRunDetails.self, from: try APIEncoder().encode(named))
        #expect(decoded.project == "Vision")
        #expect(decoded.projectPath == "alice/vision")
        #expect(decoded.run == run())
        #expect(decoded.metrics["loss"]?.latest.isNaN == true)
    }

    @Test func listsAndSmallAnswersKeepTheirShape() throws {
        #expect(try text(APIRunPage(runs: [], nextCursor: nil)) == #"{"next_cursor":null,"runs":[]}"#)
        #expect(
            try text(APIBatchResult(metricsWritten: 3, metricsIgnored: 1))
                == #"{"metrics_ignored":1,"metrics_written":3}"#
        )
        #expect(
            try text(APILogList(logs: [APILogLine(timestamp: nil, level: nil, message: "hi")], next: 1, total: 3))
                == #"{"logs":[{"level":null,"message":"hi","timestamp":null}],"next":1,"total":3}"#
        )
        #expect(
            try text(APIStatus(version: "1.0", serverID: "s", uptimeSeconds: 1.5))
                == #"{"server_id":"s","uptime_seconds":1.5,"version":"1.0"}"#
        )
        #expect(
            try text(
                APIStatus(
                    version: "1.0",
                    serverID: "s",
                    uptimeSeconds: 2,
                    counts: .init(projects: 1, runs: 2, metricPoints: 3)
                )
            )
                == #"{"counts":{"metric_points":3,"projects":1,"runs":2},"server_id":"s","uptime_seconds":2.0,"version":"1.0"}"#
        )
        #expect(
            try text(APIErrorBody(code: "not_found", message: "no"))
                == #"{"error":{"code":"not_found","message":"no"}}"#
        )
        #expect(
            try text(APIWhoAmI(mode: "anonymous", user: nil, isAdmin: false, organizations: []))
                == #"{"is_admin":false,"mode":"anonymous","organizations":[],"user":null}"#
        )
    }

    @Test func keysShowTheSecretOnlyWhenGiven() throws {
        let key = APIKeyRecord(
            id: 4,
            user: "alice",
            label: "default",
            prefix: "qk_ab",
            createdAt: created,
            revokedAt: nil
        )
        #expect(
            try text(key)
                == #"{"created_at":"\#(stamp)","id":4,"label":"default","prefix":"qk_ab","revoked_at":null,"user":"alice"}"#
        )
        var shown = key
        shown.key = "qk_secret"
        #expect(try text(shown).contains(#""key":"qk_secret""#))
        let created = APIUserCreated(user: APIUser(name: "alice", isAdmin: true, createdAt: created), apiKey: shown)
        #expect(try APIDecoder().decode(APIUserCreated.self, from: try APIEncoder().encode(created)) == created)
    }

    @Test func artifactsWriteEveryFieldWithNulls() throws {
        let artifact = APIArtifact(
            runID: "r1",
            path: "a/b.txt",
            fileName: "b.txt",
            status: "pending",
            size: nil,
            sha256: nil,
            expectedSize: nil,
            expectedSHA256: nil,
            loggedAt: created,
            modifiedAt: created,
            downloadURL: APIPath.runArtifactContent("r1", path: "a/b.txt")
        )
        #expect(
            try text(artifact)
                == #"{"download_url":"/api/v1/runs/r1/artifacts/content?path=a/b.txt","expected_sha256":null,"#
                + #""expected_size":null,"file_name":"b.txt","logged_at":"\#(stamp)","modified_at":"\#(stamp)","#
                + #""path":"a/b.txt","run_id":"r1","sha256":null,"size":null,"status":"pending"}"#
        )
    }

    @Test func requestBodiesLeaveOutWhatIsNotSet() throws {
        #expect(try text(APIBatch(links: [APILink(label: "a", url: "b")])) == #"{"links":[{"label":"a","url":"b"}]}"#)
        #expect(try text(APIRunCreate(project: "p", name: "n")) == #"{"name":"n","project":"p"}"#)
        #expect(try text(APIRunUpdate(parent: .some(nil))) == #"{"parent":null}"#)
        #expect(try text(APIRunUpdate(status: "completed")) == #"{"status":"completed"}"#)
        #expect(try text(APIKeyCreate()) == "{}")
        #expect(
            try text(APIMetric(key: "loss", value: .infinity, step: 3, idx: 0))
                == #"{"idx":0,"key":"loss","step":3,"timestamp":null,"value":"Infinity"}"#
        )
    }

    func refusal(_ type: (some Decodable).Type, _ json: String) -> String? {
        do {
            _ = try APIDecoder().decode(type, from: Array(json.utf8))
            return nil
        } catch let error as QuillError {
            #expect(error.code == .invalidArgument || error.code == .malformed, "\(error)")
            return error.message
        } catch {
            return "\(error)"
        }
    }

    @Test func unknownFieldsAreRefusedWithTheirPath() throws {
        let top = refusal(APIRunCreate.self, #"{"project":"p","colour":"red"}"#)
        #expect(
            top?.hasPrefix("unknown field(s) in body: colour; allowed: config, description,") == true,
            "\(top ?? "")"
        )
        let nested = refusal(APIBatch.self, #"{"metrics":[{"key":"a","value":1},{"key":"b","value":2,"x":1}]}"#)
        #expect(nested == "unknown field(s) in body.metrics[1]: x; allowed: idx, key, step, timestamp, value")
        // Rows take any metric name.
        let batch = try APIDecoder().decode(
            APIBatch.self,
            from: Array(#"{"rows":[{"_idx":2,"step":1,"acc":0.5,"x":null}]}"#.utf8)
        )
        #expect(batch.rows == [APIMetricRow(idx: 2, step: 1, values: ["acc": 0.5])])
    }

    @Test func typesBoundsNullsAndNULBytesAreCheckedAsBefore() throws {
        #expect(
            refusal(APIBatch.self, #"{"metrics":[{"key":"a","value":"x"}]}"#)
                == "body.metrics[0].value must be a number"
        )
        #expect(refusal(APIMetric.self, #"{"key":"a"}"#)?.hasPrefix("body.value is required") == true)
        #expect(refusal(APIMetric.self, #"{"key":"","value":1}"#) == "body.key must not be empty")
        #expect(
            refusal(APIMetric.self, #"{"key":"a","value":1,"step":1.5}"#)?.hasPrefix(
                "body.step must be an integer from"
            ) == true
        )
        #expect(
            refusal(APIMetric.self, #"{"key":"a","value":1,"idx":-1}"#)?.hasPrefix("body.idx must be an integer from 0")
                == true
        )
        #expect(refusal(APIMetric.self, #"{"key":"a\u0000b","value":1}"#) == "body.key must not contain a NUL byte")
        // A row's metric names follow the same rule as body.metrics[].key.
        #expect(
            refusal(APIBatch.self, #"{"rows":[{"_idx":0,"step":0,"":1}]}"#)
                == "a metric name in body.rows[0] must not be empty (as in body.metrics)"
        )
        #expect(
            refusal(APIRunCreate.self, #"{"started_at":"yesterday"}"#)?.hasPrefix(
                "body.started_at must be an ISO 8601 time"
            ) == true
        )
        #expect(refusal(APIRunCreate.self, #"[1]"#) == "body must be a JSON object")
        #expect(refusal(APIRunCreate.self, #"{"git":"main"}"#) == "body.git must be a JSON object")
        #expect(refusal(APIRunCreate.self, #"{"tags":{"a":1}}"#) == "body.tags.a must be a string")
        #expect(refusal(APIUserCreate.self, #"{"name":"a","admin":"yes"}"#) == "body.admin must be a boolean")
        #expect(refusal(APILink.self, #"{"label":"a"}"#) == "body.url is required")
        // null reads as absent.
        let metric = try APIDecoder().decode(
            APIMetric.self,
            from: Array(#"{"key":"a","value":"NaN","step":null,"timestamp":null,"idx":null}"#.utf8)
        )
        #expect(metric.value.isNaN && metric.step == nil && metric.idx == nil && metric.timestamp == nil)
        let update = try APIDecoder().decode(APIRunUpdate.self, from: Array(#"{"parent":null,"name":null}"#.utf8))
        #expect(update.parent == .some(nil) && update.name == nil)
        // Nulls inside JSON values (configs, git facts, params) are values, not absent fields.
        let create = try APIDecoder().decode(
            APIRunCreate.self,
            from: Array(#"{"git":{"remote":null,"dirty":false},"config":{"a":null,"b":[null]}}"#.utf8)
        )
        #expect(create.git == ["remote": nil, "dirty": false])
        #expect(create.config == ["a": nil, "b": [nil]])
        let unchanged = try APIDecoder().decode(APIRunUpdate.self, from: Array("{}".utf8))
        #expect(unchanged.parent == nil)
        #expect(refusal(APIRunUpdate.self, #"{"parent":5}"#) == "body.parent must be a run id or null")
    }

    @Test func everyTypeReadsBackWhatItWrote() throws {
        let decoder = APIDecoder()
        let encoder = APIEncoder()
        func roundTrip<T: Codable & Equatable>(_ value: T) throws {
            #expect(try decoder.decode(T.self, from: try encoder.encode(value)) == value)
            // The byte writer and the tree agree.
            #expect(try encoder.bytes(value) == JSONWriter.bytes(try encoder.encode(value)))
        }
        try roundTrip(
            APIProject(
                id: 1,
                namespace: "a",
                slug: "b",
                name: "B",
                visibility: "private",
                createdAt: created,
                path: "a/b"
            )
        )
        try roundTrip(APIProjectCreate(name: "B", namespace: "a"))
        try roundTrip(
            APIRunCreate(
                id: "x",
                projectID: 3,
                startedAt: created,
                git: ["sha": "abc"],
                config: ["lr": 0.1],
                tags: ["a": "b"]
            )
        )
        try roundTrip(APIRunUpdate(status: "failed", endedAt: created, parent: .some("p"), summary: ["acc": 1]))
        try roundTrip(
            APIBatch(
                metrics: [APIMetric(key: "a", value: 1, step: 2, timestamp: created, idx: 3)],
                params: ["p": [1, 2]],
                tags: ["t": "v"],
                logs: [APILogLine(timestamp: created, level: "info", message: "m")]
            )
        )
        try roundTrip(
            APIMetricHistory(
                downsampled: false,
                key: "loss",
                points: [APIMetricPoint(idx: 0, step: nil, timestamp: created, value: 0.5)],
                totalPoints: 1
            )
        )
        try roundTrip(
            APIArtifactCreate(path: "a", size: 3, sha256: String(repeating: "a", count: 64), loggedAt: created)
        )
        try roundTrip(APIOrganization(name: "o", createdAt: created, members: [APIMember(user: "u", role: "owner")]))
        try roundTrip(APIParam(key: "k", value: nil))
        try roundTrip(APITag(key: "k", value: "v"))
        try roundTrip(APIMembershipUpdate(role: "owner"))
    }

    @Test func pathsEncodeTheirParametersInOnePlace() {
        #expect(APIPath.run("a b/c") == "/api/v1/runs/a%20b%2Fc")
        #expect(APIPath.runBatch("r1") == "/api/v1/runs/r1/batch")
        #expect(APIPath.project(namespace: "alice", slug: "my-proj") == "/api/v1/projects/alice/my-proj")
        #expect(
            APIPath.runs(project: "alice/p", query: "a = 1 & b", limit: 5)
                == "/api/v1/runs?project=alice/p&q=a%20%3D%201%20%26%20b&limit=5"
        )
        #expect(APIPath.runs() == "/api/v1/runs")
        #expect(
            APIPath.runArtifactContent("r1", path: "x+y?.txt") == "/api/v1/runs/r1/artifacts/content?path=x%2By%3F.txt"
        )
        #expect(
            APIPath.runMetrics("r1", key: "loss", maxPoints: 100) == "/api/v1/runs/r1/metrics?key=loss&max_points=100"
        )
        #expect(APIPath.organizationMember("lab", user: "bob") == "/api/v1/orgs/lab/members/bob")
        #expect(APIPath.key(12) == "/api/v1/keys/12")
    }
}
