import Foundation
import QuillAPI
import QuillCore
import Testing

/// whirr's wire types read what whirr 0.5.3's own client and worker sent, and write back exactly what its own
/// server answered: every fixture is a real exchange recorded by `Fixtures/whirr/capture.py`.
@Suite struct WhirrWireTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/whirr")

    /// A recorded exchange.
    struct Exchange {
        var name: String
        var method: String
        var path: String
        var status: Int
        var request: JSONValue
        var response: JSONValue
    }

    static func exchange(_ name: String) throws -> Exchange {
        let data = try Data(contentsOf: folder.appendingPathComponent(name + ".json"))
        let json = try JSONParser.parse(Array(data))
        return Exchange(
            name: name,
            method: try #require(json["method"]?.stringValue),
            path: try #require(json["path"]?.stringValue),
            status: try #require(json["status"]?.intValue),
            request: json["request"] ?? .null,
            response: json["response"] ?? .null
        )
    }

    /// Decodes `json` as `T` and encodes it again: the result must be the same JSON.
    func roundTrip<T: Codable>(_ type: T.Type, _ json: JSONValue, _ what: String) throws {
        let value = try APIDecoder().decode(T.self, from: json)
        let again = try APIEncoder().encode(value)
        #expect(again == json, "\(what): wrote \(again), whirr wrote \(json)")
    }

    /// Every recorded body whose bytes a type must reproduce, by fixture name: (request type, response type).
    static var exact: [(String, (any Codable.Type)?, any Codable.Type)] {
        [
            ("health", nil, WhirrHealth.self),
            ("status_empty", nil, WhirrStatus.self),
            ("status", nil, WhirrStatus.self),
            ("submit_job_full", WhirrJobCreate.self, WhirrJobCreateResponse.self),
            ("submit_job_minimal", WhirrJobCreate.self, WhirrJobCreateResponse.self),
            ("submit_job_real", WhirrJobCreate.self, WhirrJobCreateResponse.self),
            ("submit_job_to_cancel", WhirrJobCreate.self, WhirrJobCreateResponse.self),
            ("get_job_queued", nil, WhirrJob.self),
            ("get_job_completed", nil, WhirrJob.self),
            ("get_job_missing", nil, WhirrError.self),
            ("list_jobs_all", nil, WhirrJobList.self),
            ("list_jobs_active", nil, WhirrJobList.self),
            ("list_jobs_queued", nil, WhirrJobList.self),
            ("list_jobs_bad_limit", nil, WhirrValidationError.self),
            ("register_worker", WhirrWorkerRegistration.self, WhirrMessage.self),
            ("register_worker_gpus", WhirrWorkerRegistration.self, WhirrMessage.self),
            ("unregister_worker", WhirrWorkerUnregister.self, WhirrMessage.self),
            ("list_workers", nil, WhirrWorkerList.self),
            ("claim_job", WhirrJobClaim.self, WhirrJobClaimResponse.self),
            ("claim_job_second", WhirrJobClaim.self, WhirrJobClaimResponse.self),
            ("claim_job_empty", WhirrJobClaim.self, WhirrJobClaimResponse.self),
            ("claim_job_bad_lease", nil, WhirrValidationError.self),
            ("claim_job_missing_field", nil, WhirrValidationError.self),
            ("claim_job_not_json", nil, WhirrValidationError.self),
            ("heartbeat", WhirrJobHeartbeat.self, WhirrHeartbeatResponse.self),
            ("heartbeat_cancel_requested", WhirrJobHeartbeat.self, WhirrHeartbeatResponse.self),
            ("heartbeat_wrong_worker", WhirrJobHeartbeat.self, WhirrError.self),
            ("complete_job", WhirrJobComplete.self, WhirrMessage.self),
            ("complete_job_wrong_worker", WhirrJobComplete.self, WhirrError.self),
            ("complete_job_missing", WhirrJobComplete.self, WhirrError.self),
            ("fail_job", WhirrJobFail.self, WhirrMessage.self),
            ("cancel_job_queued", nil, WhirrJobCancelResponse.self),
            ("cancel_job_running", nil, WhirrJobCancelResponse.self),
            ("cancel_job_missing", nil, WhirrError.self),
            ("list_runs", nil, WhirrRunList.self),
            ("list_runs_filtered", nil, WhirrRunList.self),
            ("get_run", nil, WhirrRun.self),
            ("get_run_missing", nil, WhirrError.self),
            ("get_metrics", nil, WhirrRunMetrics.self),
            ("get_metrics_missing", nil, WhirrError.self),
            ("list_artifacts", nil, WhirrRunArtifacts.self),
            ("get_artifact_missing", nil, WhirrError.self),
            ("get_artifact_directory", nil, WhirrError.self),
            ("not_found_route", nil, WhirrError.self),
            ("method_not_allowed", nil, WhirrError.self),
            ("worker_register", WhirrWorkerRegistration.self, WhirrMessage.self),
            ("worker_claim", WhirrJobClaim.self, WhirrJobClaimResponse.self),
            ("worker_claim_2", WhirrJobClaim.self, WhirrJobClaimResponse.self),
            ("worker_heartbeat", WhirrJobHeartbeat.self, WhirrHeartbeatResponse.self),
            ("worker_complete", WhirrJobComplete.self, WhirrMessage.self),
            ("worker_unregister", WhirrWorkerUnregister.self, WhirrMessage.self),
        ]
    }

    @Test("each body whirr's client, worker and server exchanged decodes and encodes back unchanged")
    func recordedExchangesRoundTrip() throws {
        for (name, request, response) in Self.exact {
            let exchange = try Self.exchange(name)
            if let request { try roundTrip(request, exchange.request, "\(name) request") }
            try roundTrip(response, exchange.response, "\(name) response")
        }
    }

    @Test("every recorded exchange is covered by a check")
    func everyFixtureIsChecked() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.folder.path)
            .filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }
        let checked = Set(Self.exact.map(\.0)).union(["get_artifact"])
        #expect(Set(names) == checked)
    }

    @Test("a request whirr's client leaves members out of reads with whirr's defaults, and ignores unknown ones")
    func requestsReadDefaultsAndIgnoreUnknownMembers() throws {
        let claim = try APIDecoder().decode(WhirrJobClaim.self, from: ["worker_id": "w", "extra": 1] as JSONValue)
        #expect(claim == WhirrJobClaim(workerID: "w", gpuID: nil, leaseSeconds: 60))
        let beat = try APIDecoder().decode(WhirrJobHeartbeat.self, from: ["worker_id": "w"] as JSONValue)
        #expect(beat.leaseSeconds == 60)
        let register = try APIDecoder().decode(
            WhirrWorkerRegistration.self,
            from: ["worker_id": "w", "hostname": "h"] as JSONValue
        )
        #expect(register.gpuIDs == [])
        let submit = try APIDecoder().decode(
            WhirrJobCreate.self,
            from: ["command_argv": ["true"], "workdir": "/tmp"] as JSONValue
        )
        #expect(submit == WhirrJobCreate(commandArgv: ["true"], workdir: "/tmp"))
        #expect(throws: QuillError.self) {
            try APIDecoder().decode(WhirrJobClaim.self, from: ["lease_seconds": 60] as JSONValue)
        }
    }

    @Test("metrics rows get _idx, _timestamp and step as null where the line lacks them, as whirr writes them")
    func metricsRowsAlwaysCarryTheReservedMembers() throws {
        let recorded = try Self.exchange("get_metrics")
        let rows = try #require(recorded.response["metrics"]?.arrayValue)
        // the file's lines, as whirr's run.log wrote them (no "step" when it was not given)
        let lines: [[String: JSONValue]] = try rows.map { row in
            var object = try #require(row.objectValue)
            if object["step"] == .null { object["step"] = nil }
            return object
        }
        #expect(lines.last?["step"] == nil)
        #expect(try APIEncoder().encode(WhirrRunMetrics(rows: lines)) == recorded.response)
    }
}
