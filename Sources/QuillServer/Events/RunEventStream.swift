import QuillAPI
import QuillCore
import QuillStore

/// What one client has been sent of a run, and how to read what follows: the store-reading half of
/// `GET /api/v1/runs/{id}/events` (the route owns the connection, the waits and the limits).
///
/// Each ``next(_:project:)`` reads what changed since ``cursor`` and returns it as events, each with the
/// cursor after it as its id. Memory is bounded whatever the writers do: one call reads at most
/// ``maxLogLines`` log lines and ``maxPoints`` metric points (``maxPointsPerMetric`` of one metric); a
/// metric that gained more is sent as its new position with `complete: false`, and the client reads its
/// history again.
struct RunEventStream: Sendable {
    /// Log lines one event carries at most.
    static let maxLogLines = 1_000
    /// Points one `metrics` event carries at most, over all metrics.
    static let maxPoints = 10_000
    /// Points one metric's entry carries at most.
    static let maxPointsPerMetric = 2_000

    let store: any TrackingStore
    let run: RunID
    private(set) var cursor: RunEventCursor

    /// A stream resuming from `cursor`.
    init(store: any TrackingStore, run: RunID, cursor: RunEventCursor) {
        self.store = store
        self.run = run
        self.cursor = cursor
    }

    /// A stream that starts now: its `state` event tells the client where it starts (every metric's
    /// position, the log's length); with `resuming`, only the metrics start now and the rest continues
    /// from that cursor.
    static func starting(
        store: any TrackingStore,
        details: RunDetails,
        resuming: RunEventCursor? = nil
    ) async throws -> (stream: RunEventStream, state: ServerSentEvent) {
        let id = details.run.id
        var metrics: [String: RunEventCursor.Position] = [:]
        var positions: [String: APIMetricPosition] = [:]
        for (key, statistics) in details.metrics {
            let last = try await store.metricTail(id, key: key, after: nil, limit: 0).lastIndex
            metrics[key] = .init(count: statistics.count, lastIndex: last)
            positions[key] = APIMetricPosition(totalPoints: statistics.count, lastIndex: last)
        }
        var logs = resuming?.logs ?? 0
        if resuming == nil { logs = try await store.logLines(id, offset: 0, limit: 0).total }
        let cursor = RunEventCursor(
            run: id.rawValue,
            logs: logs,
            metrics: metrics,
            record: resuming?.record ?? RunEventCursor.digest(details),
            status: resuming?.status ?? details.run.status.rawValue
        )
        let state = APIRunEventState(status: details.run.status.rawValue, logs: logs, metrics: positions)
        let event = ServerSentEvent(name: "state", id: cursor.text, data: try APIEncoder().bytes(state))
        return (RunEventStream(store: store, run: id, cursor: cursor), event)
    }

    /// Reads what changed since the cursor, given the run's details as read just now (`nil`: the run is
    /// gone).
    mutating func next(_ details: RunDetails?, project: StoredProject?) async throws -> EventBatch {
        var batch = EventBatch()
        guard let details else {
            batch.events.append(try event("end", APIRunEventEnd(status: "deleted")))
            batch.ended = true
            return batch
        }
        if let appends = try await metricAppends(details), !appends.isEmpty {
            batch.events.append(try event("metrics", APIRunEventMetrics(metrics: appends)))
        }
        let page = try await store.logLines(run, offset: cursor.logs, limit: Self.maxLogLines)
        if !page.lines.isEmpty {
            let offset = cursor.logs
            cursor.logs += page.lines.count
            batch.events.append(
                try event(
                    "logs",
                    APILogList(logs: page.lines.map(DTO.logLine), next: offset + page.lines.count, total: page.total)
                )
            )
        }
        batch.more = cursor.logs < page.total
        let digest = RunEventCursor.digest(details)
        if digest != cursor.record || details.run.status.rawValue != cursor.status {
            cursor.record = digest
            cursor.status = details.run.status.rawValue
            batch.events.append(try event("run", DTO.details(details, project: project)))
        }
        // The end waits for the last of the log: a finished run's stream sends everything, then `end`.
        if details.run.status.isTerminal, !batch.more {
            batch.events.append(try event("end", APIRunEventEnd(status: details.run.status.rawValue)))
            batch.ended = true
        }
        return batch
    }

    /// The metrics that gained points, with the points when few enough; updates the cursor.
    private mutating func metricAppends(_ details: RunDetails) async throws -> [APIMetricAppend]? {
        guard var positions = cursor.metrics else { return nil }
        var appends: [APIMetricAppend] = []
        var budget = Self.maxPoints
        for key in details.metrics.keys.sorted() {
            guard let count = details.metrics[key]?.count else { continue }
            let known = positions[key] ?? RunEventCursor.Position(count: 0, lastIndex: nil)
            guard count != known.count else { continue }
            let gained = count - known.count
            var points: [MetricPoint] = []
            var lastIndex: Int?
            var complete = false
            if gained > 0, gained <= min(Self.maxPointsPerMetric, budget) {
                let tail = try await store.metricTail(run, key: key, after: known.lastIndex ?? Int.min, limit: gained)
                // Fewer points than the count gained: some were stored below an index already sent.
                complete = tail.points.count == gained
                points = complete ? tail.points : []
                lastIndex = complete ? tail.points.last?.index : tail.lastIndex
                budget -= points.count
            } else {
                lastIndex = try await store.metricTail(run, key: key, after: nil, limit: 0).lastIndex
            }
            positions[key] = RunEventCursor.Position(count: count, lastIndex: lastIndex ?? known.lastIndex)
            appends.append(
                APIMetricAppend(
                    key: key,
                    totalPoints: count,
                    lastIndex: lastIndex ?? known.lastIndex,
                    points: points.map {
                        APIMetricPoint(idx: $0.index, step: $0.step, timestamp: $0.timestamp, value: $0.value)
                    },
                    complete: complete
                )
            )
        }
        cursor.metrics = positions
        return appends
    }

    private func event(_ name: String, _ body: some Encodable) throws -> ServerSentEvent {
        ServerSentEvent(name: name, id: cursor.text, data: try APIEncoder().bytes(body))
    }
}
