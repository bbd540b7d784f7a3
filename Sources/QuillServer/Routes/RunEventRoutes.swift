import HTTPTypes
import Hummingbird
import QuillCore
import QuillStore

/// `GET /api/v1/runs/{id}/events`: a run followed live as server-sent events (`text/event-stream`; the
/// events and their bodies are described at ``APIRunEvent``).
///
/// The caller needs read access, as for the run's other reads (a private run answers 404 to others), and a
/// place under ``EventStreamLimits`` (429 past a client's share, 503 when the server is full). The stream
/// sends what changed whenever a write through this server publishes the run in ``ChangeFeed`` (at most
/// every ``EventStreamConfiguration/minimumInterval``, bursts together), reads the store every
/// ``EventStreamConfiguration/pollInterval`` in any case, sends a comment line when idle for
/// ``EventStreamConfiguration/heartbeat``, and ends with an `end` event once the run has finished. A client
/// that does not read holds one event's memory at most: the write waits for the socket, the writers never
/// wait for the stream, and the connection's slow-client timeout closes it.
struct RunEventRoutes {
    let api: APIContext

    func register(_ group: RouterGroup<QuillRequestContext>) {
        group.get(":id/events") { request, context in try await events(request, context) }
    }

    /// The header a reconnecting `EventSource` sends with the last id it received.
    static let lastEventID = HTTPField.Name("Last-Event-ID")

    private func events(_ request: Request, _ context: QuillRequestContext) async throws -> Response {
        let (details, project) = try await api.authorization.readRunDetails(context)
        let ticket = try api.eventStreams.admit(EventStreamLimits.client(context))
        let id = details.run.id
        let resumed = Self.lastEventID.flatMap { request.headers[$0] }.flatMap {
            RunEventCursor(text: $0, run: id.rawValue)
        }
        // A client that reconnects says what it has; one that does not (or whose id carried no metric
        // positions) is told where the stream starts.
        let start: RunEventStream
        var prelude: [UInt8] = []
        if let resumed, resumed.metrics != nil {
            start = RunEventStream(store: api.store, run: id, cursor: resumed)
        } else {
            let started = try await RunEventStream.starting(store: api.store, details: details, resuming: resumed)
            start = started.stream
            prelude = started.state.bytes
        }
        return EventStreamResponse.make(
            prelude: prelude,
            state: start,
            subscription: api.runChanges.subscribe(id),
            ticket: ticket,
            configuration: api.eventStreams.configuration,
            connectionClosed: context.channelClosed
        ) { stream in
            try await stream.next(try await readable(context, id), project: project)
        }
    }

    /// The run's details while the caller may still read it (access can change while a stream is open:
    /// a project made private, the run deleted); `nil` once it may not.
    private func readable(_ context: QuillRequestContext, _ id: RunID) async throws -> RunDetails? {
        do {
            _ = try await api.authorization.readableRunID(context)
        } catch let error as QuillError where error.code == .notFound {
            return nil
        }
        return try await api.store.runDetails(id)
    }
}
