import HTTPTypes
import Hummingbird
import NIOCore
import QuillCore
import QuillStore
import ServiceLifecycle

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
    let limits: EventStreamLimits

    func register(_ group: RouterGroup<QuillRequestContext>) {
        group.get(":id/events") { request, context in try await events(request, context) }
    }

    /// The header a reconnecting `EventSource` sends with the last id it received.
    static let lastEventID = HTTPField.Name("Last-Event-ID")
    static let accelBuffering = HTTPField.Name("X-Accel-Buffering")

    private func events(_ request: Request, _ context: QuillRequestContext) async throws -> Response {
        let (details, project) = try await api.authorization.readRunDetails(context)
        let ticket = try limits.admit(Self.client(context))
        let id = details.run.id
        let resumed = Self.lastEventID.flatMap { request.headers[$0] }.flatMap(RunEventCursor.init(text:))
        // A client that reconnects says what it has; one that does not (or whose id carried no metric
        // positions) is told where the stream starts.
        let start: RunEventStream
        var prelude = Array("retry: 3000\n\n".utf8)
        if let resumed, resumed.metrics != nil {
            start = RunEventStream(store: api.store, run: id, cursor: resumed)
        } else {
            let started = try await RunEventStream.starting(store: api.store, details: details, resuming: resumed)
            start = started.stream
            prelude += started.state.bytes
        }
        let first = prelude
        let subscription = api.runChanges.subscribe(id)
        context.channelClosed.whenComplete { _ in subscription.close() }
        let configuration = limits.configuration
        var headers: HTTPFields = [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-store"]
        // A reverse proxy (nginx) would otherwise hold the events back to fill its buffer.
        if let name = Self.accelBuffering { headers[name] = "no" }
        return Response(
            status: .ok,
            headers: headers,
            body: ResponseBody { writer in
                var stream = start
                defer {
                    subscription.finish()
                    ticket.release()
                }
                try await withGracefulShutdownHandler {
                    var lastWrite = ContinuousClock.now
                    try await writer.write(ByteBuffer(bytes: first))
                    while !subscription.isClosed {
                        let seen = subscription.generation
                        let batch = try await stream.next(try await readable(context, id), project: project)
                        if !batch.events.isEmpty {
                            try await writer.write(ByteBuffer(bytes: batch.events.flatMap(\.bytes)))
                            lastWrite = .now
                        }
                        if batch.ended { break }
                        if batch.more { continue }
                        // Writes closer together than this are read (and sent) together.
                        try? await Task.sleep(for: configuration.minimumInterval)
                        let idle = ContinuousClock.now - lastWrite
                        let wait = min(configuration.pollInterval, max(.zero, configuration.heartbeat - idle))
                        if await subscription.next(after: seen, timeout: wait) == .closed { break }
                        if ContinuousClock.now - lastWrite >= configuration.heartbeat {
                            try await writer.write(ByteBuffer(bytes: ServerSentEvent.heartbeat))
                            lastWrite = .now
                        }
                    }
                } onGracefulShutdown: {
                    subscription.close()
                }
                try await writer.finish(nil)
            }
        )
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

    /// Who the per-client limit counts: the signed-in user, or else the address the request came from.
    static func client(_ context: QuillRequestContext) -> String {
        if let user = context.caller.userName { return "user:" + user }
        return "address:" + (context.remoteAddress ?? "unknown")
    }
}
