import HTTPTypes
import Hummingbird
import NIOCore
import ServiceLifecycle

/// What one read of a followed resource found: the events to send, whether more is waiting (read again
/// before waiting for a change), and whether the stream ends after them.
struct EventBatch: Sendable {
    /// The events, in order.
    var events: [ServerSentEvent] = []
    /// Whether the read left something for the next one (a long log sent in pages).
    var more = false
    /// Whether the stream ends after these events.
    var ended = false
}

/// The `text/event-stream` response of a route that follows a resource (a run now; jobs and devices the
/// same way): the loop that reads, writes, waits for a change and keeps the connection alive.
///
/// The route checks access, takes a place under ``EventStreamLimits`` and subscribes to the resource's
/// ``ChangeFeed``; this writes `prelude`, then calls `next` with the stream's state (its cursor) whenever the
/// resource changed, ``EventStreamConfiguration/pollInterval`` passed, or the last batch left `more`, at most
/// once per ``EventStreamConfiguration/minimumInterval``; writes a heartbeat comment after
/// ``EventStreamConfiguration/heartbeat`` without events; and ends after a batch that is `ended`, when the
/// connection closes, or when the server shuts down. A write waits while the client's socket is full, so a
/// client that does not read holds one batch at most, until the connection's slow-client timeout closes it.
enum EventStreamResponse {
    /// A reverse proxy (nginx) would otherwise hold the events back to fill its buffer.
    static let accelBuffering = HTTPField.Name("X-Accel-Buffering")

    /// The response; `ticket` and `subscription` are released when it ends (or is never written).
    static func make<Key: Hashable & Sendable, State: Sendable>(
        prelude: [UInt8],
        state: State,
        subscription: ChangeSubscription<Key>,
        ticket: EventStreamTicket,
        configuration: EventStreamConfiguration,
        connectionClosed: EventLoopFuture<Void>,
        next: @escaping @Sendable (inout State) async throws -> EventBatch
    ) -> Response {
        connectionClosed.whenComplete { _ in subscription.close() }
        var headers: HTTPFields = [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-store"]
        if let name = accelBuffering { headers[name] = "no" }
        return Response(
            status: .ok,
            headers: headers,
            body: ResponseBody { writer in
                var state = state
                defer {
                    subscription.finish()
                    ticket.release()
                }
                try await withGracefulShutdownHandler {
                    var lastWrite = ContinuousClock.now
                    try await writer.write(ByteBuffer(bytes: Array("retry: 3000\n\n".utf8) + prelude))
                    while !subscription.isClosed {
                        let seen = subscription.generation
                        let batch = try await next(&state)
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
}
