import HTTPTypes
import Hummingbird
import QuillAPI
import Synchronization

/// The settings of the server's event streams (`GET /api/v1/runs/{id}/events`).
package struct EventStreamConfiguration: Sendable, Equatable {
    /// The most streams open at once on the server; one more is answered 503.
    package var maxStreams = 256
    /// The most streams one client (a signed-in user, or else an address) may have open; one more is
    /// answered 429.
    package var maxStreamsPerClient = 16
    /// How often an idle stream sends a comment line, so proxies and clients see it is alive and a
    /// client that went away is noticed.
    package var heartbeat: Duration = .seconds(15)
    /// How often a stream reads the store even without a change published by this server's writes
    /// (writes by another process show within this time).
    package var pollInterval: Duration = .seconds(10)
    /// The shortest time between two reads of one stream: writes closer together are sent together.
    package var minimumInterval: Duration = .milliseconds(200)

    /// The defaults.
    package init() {}
}

/// Counts open event streams against the server's and each client's limit.
final class EventStreamLimits: Sendable {
    private struct State {
        var total = 0
        var byClient: [String: Int] = [:]
    }

    let configuration: EventStreamConfiguration
    private let state = Mutex(State())

    init(_ configuration: EventStreamConfiguration) {
        self.configuration = configuration
    }

    /// Streams open now.
    var open: Int { state.withLock { $0.total } }

    /// Takes a place for a stream of `client`, or throws the refusal the client sees: 503 when the server
    /// is full, 429 when the client has its share.
    func admit(_ client: String) throws(EventStreamRefusal) -> EventStreamTicket {
        let configuration = configuration
        let refusal = state.withLock { state -> EventStreamRefusal? in
            if state.total >= configuration.maxStreams {
                return EventStreamRefusal(
                    status: .serviceUnavailable,
                    message:
                        "the server has \(configuration.maxStreams) live streams open, its limit; retry later, or refresh the page instead of following it live"
                )
            }
            if state.byClient[client, default: 0] >= configuration.maxStreamsPerClient {
                return EventStreamRefusal(
                    status: .tooManyRequests,
                    message:
                        "you have \(configuration.maxStreamsPerClient) live streams open on this server, the most one client may; close a page that follows a run and retry"
                )
            }
            state.total += 1
            state.byClient[client, default: 0] += 1
            return nil
        }
        if let refusal { throw refusal }
        return EventStreamTicket(limits: self, client: client)
    }

    /// Who the per-client limit counts for a request: the signed-in user, or else the address it came from.
    static func client(_ context: QuillRequestContext) -> String {
        if let user = context.caller.userName { return "user:" + user }
        return "address:" + (context.remoteAddress ?? "unknown")
    }

    fileprivate func release(_ client: String) {
        state.withLock { state in
            state.total -= 1
            let left = state.byClient[client, default: 1] - 1
            state.byClient[client] = left > 0 ? left : nil
        }
    }
}

/// A stream's place under the limits, given back by ``release()`` or, at the latest, when the last reference
/// goes (a response whose body was never written still frees its place).
final class EventStreamTicket: Sendable {
    private let limits: EventStreamLimits
    private let client: String
    private let released = Mutex(false)

    fileprivate init(limits: EventStreamLimits, client: String) {
        self.limits = limits
        self.client = client
    }

    deinit { release() }

    /// Gives the place back (once).
    func release() {
        let first = released.withLock { released in
            defer { released = true }
            return !released
        }
        if first { limits.release(client) }
    }
}

/// A stream refused by the limits: 429 or 503 with `Retry-After` and the usual error body.
struct EventStreamRefusal: Error, HTTPResponseError {
    let status: HTTPResponse.Status
    let message: String

    var headers: HTTPFields { [.retryAfter: "10"] }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try JSONResponse.make(APIErrorBody(code: "too_many_streams", message: message), status: status)
        response.headers[.retryAfter] = "10"
        return response
    }
}
