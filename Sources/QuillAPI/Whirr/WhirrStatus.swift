package import QuillCore

// whirr 0.5.3's status, message and error bodies (`whirr/models/api.py`, FastAPI's errors); see Docs/Whirr.md.

/// `GET /api/v1/status`: counts of jobs and workers.
package struct WhirrStatus: Codable, Sendable, Hashable {
    /// Jobs waiting.
    package var queued: Int
    /// Jobs running.
    package var running: Int
    /// Jobs that completed.
    package var completed: Int
    /// Jobs that failed.
    package var failed: Int
    /// Workers online.
    package var workersOnline: Int
    /// Workers known.
    package var workersTotal: Int

    enum CodingKeys: String, CodingKey {
        case queued, running, completed, failed
        case workersOnline = "workers_online"
        case workersTotal = "workers_total"
    }

    /// Counts.
    package init(queued: Int, running: Int, completed: Int, failed: Int, workersOnline: Int, workersTotal: Int) {
        self.queued = queued
        self.running = running
        self.completed = completed
        self.failed = failed
        self.workersOnline = workersOnline
        self.workersTotal = workersTotal
    }
}

/// `GET /health`: `{"status": "healthy"}`.
package struct WhirrHealth: Codable, Sendable, Hashable {
    /// `healthy`.
    package var status: String

    /// An answer.
    package init(status: String = "healthy") {
        self.status = status
    }
}

/// The answer of the worker routes: `{"message": …, "success": true}`.
package struct WhirrMessage: Codable, Sendable, Hashable {
    /// What happened.
    package var message: String
    /// Always `true`.
    package var success: Bool

    /// An answer.
    package init(_ message: String, success: Bool = true) {
        self.message = message
        self.success = success
    }
}

/// An error: `{"detail": "<sentence>"}` (400, 403, 404, 405, 500).
package struct WhirrError: Codable, Sendable, Hashable {
    /// What went wrong.
    package var detail: String

    /// An error.
    package init(detail: String) {
        self.detail = detail
    }
}

/// A request that failed validation (422), in FastAPI's list form.
package struct WhirrValidationError: Codable, Sendable, Hashable {
    /// The problems, one per field.
    package var detail: [Item]

    /// One problem: `{"type": "missing", "loc": ["body", "worker_id"], "msg": "Field required", "input": …}`.
    package struct Item: Codable, Sendable, Hashable {
        /// The kind (`missing`, `greater_than_equal`, `json_invalid`, `int_parsing`, …).
        package var type: String
        /// Where: `body` or `query`, then the field.
        package var loc: [JSONValue]
        /// What, in words.
        package var msg: String
        /// The value received (the whole body for a missing member).
        package var input: JSONValue
        /// Details of the rule (`{"ge": 10}`), left out when there are none, as FastAPI does.
        @OmittedWhenNil package var ctx: [String: JSONValue]?

        /// A problem.
        package init(type: String, loc: [JSONValue], msg: String, input: JSONValue, ctx: [String: JSONValue]? = nil) {
            self.type = type
            self.loc = loc
            self.msg = msg
            self.input = input
            self.ctx = ctx
        }
    }

    /// An error with its problems.
    package init(detail: [Item]) {
        self.detail = detail
    }
}
