package import QuillCore

// whirr 0.5.3's run bodies (`whirr/models/api.py`, `whirr/models/run.py`); see Docs/Whirr.md.

/// A run as whirr's API shows it (`RunResponse`); every member is always written.
package struct WhirrRun: Codable, Sendable, Hashable {
    /// `job-<id>` for a job's run.
    package var id: String
    /// The job that produced it.
    package var jobID: Int64?
    /// Its name.
    package var name: String?
    /// Its config.
    package var config: [String: JSONValue]?
    /// Its tags.
    package var tags: [String]?
    /// `running`, `completed`, `failed`, …
    package var status: String
    /// When it started.
    package var startedAt: String?
    /// When it ended.
    package var finishedAt: String?
    /// How long it ran.
    package var durationSeconds: Double?
    /// Its summary values.
    package var summary: [String: JSONValue]?
    /// The host it ran on.
    package var hostname: String?
    /// Its directory (`<data dir>/runs/job-<id>`).
    package var runDir: String?

    enum CodingKeys: String, CodingKey {
        case id, name, config, tags, status, summary, hostname
        case jobID = "job_id"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case durationSeconds = "duration_seconds"
        case runDir = "run_dir"
    }

    /// A run.
    package init(
        id: String,
        jobID: Int64?,
        name: String?,
        config: [String: JSONValue]?,
        tags: [String]?,
        status: String,
        startedAt: String?,
        finishedAt: String?,
        durationSeconds: Double?,
        summary: [String: JSONValue]?,
        hostname: String?,
        runDir: String?
    ) {
        self.id = id
        self.jobID = jobID
        self.name = name
        self.config = config
        self.tags = tags
        self.status = status
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.durationSeconds = durationSeconds
        self.summary = summary
        self.hostname = hostname
        self.runDir = runDir
    }
}

/// `GET /api/v1/runs`: `{"runs": [...]}`.
package struct WhirrRunList: Codable, Sendable, Hashable {
    /// The runs, newest first.
    package var runs: [WhirrRun]

    /// A list.
    package init(runs: [WhirrRun]) {
        self.runs = runs
    }
}

/// `GET /api/v1/runs/{id}/metrics`: the run's `metrics.jsonl` rows.
///
/// Each row keeps its members as written, and always has `_idx`, `_timestamp` and `step` (`null` when the
/// line lacks them), as whirr's `RunMetricRecord` writes them.
package struct WhirrRunMetrics: Codable, Sendable, Hashable {
    /// The rows, in file order.
    package var metrics: [[String: JSONValue]]
    /// How many.
    package var count: Int

    /// Rows; `_idx`, `_timestamp` and `step` are added as `null` where missing.
    package init(rows: [[String: JSONValue]]) {
        metrics = rows.map { row in
            var row = row
            for key in ["_idx", "_timestamp", "step"] where row[key] == nil { row[key] = .null }
            return row
        }
        count = metrics.count
    }
}

/// A file of a run, as `GET /api/v1/runs/{id}/artifacts` lists it.
package struct WhirrArtifact: Codable, Sendable, Hashable {
    /// Its path inside the run directory (`artifacts/model.pt`, `metrics.jsonl`).
    package var path: String
    /// Its size in bytes.
    package var size: Int64
    /// When it last changed, ISO 8601 with microseconds (`2026-11-30T00:59:11.968061+00:00`).
    package var modified: String

    /// A file.
    package init(path: String, size: Int64, modified: String) {
        self.path = path
        self.size = size
        self.modified = modified
    }
}

/// `GET /api/v1/runs/{id}/artifacts`: every file of the run, by path.
package struct WhirrRunArtifacts: Codable, Sendable, Hashable {
    /// The files.
    package var artifacts: [WhirrArtifact]
    /// How many.
    package var count: Int

    /// A list.
    package init(artifacts: [WhirrArtifact]) {
        self.artifacts = artifacts
        count = artifacts.count
    }
}
