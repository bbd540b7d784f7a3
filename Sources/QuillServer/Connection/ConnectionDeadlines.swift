/// How long the server waits for a client before it closes the connection.
package struct ConnectionTimeouts: Sendable, Equatable {
    /// The longest a client may take to send a request's whole header, from its first byte (or, for a new
    /// connection, from the moment it was accepted).
    package var header: Duration
    /// The longest a kept-alive connection may sit idle between requests.
    package var idle: Duration
    /// The longest a request body may go without a byte while the server is waiting for one, and the longest
    /// a response may wait for a client that reads nothing.
    package var body: Duration

    /// Creates timeouts.
    package init(header: Duration = .seconds(20), idle: Duration = .seconds(60), body: Duration = .seconds(30)) {
        self.header = header
        self.idle = idle
        self.body = body
    }
}

/// When a connection has waited too long for its client, as a value: the channel handler feeds it events and
/// asks for the next deadline, so the rules can be tested without sockets.
///
/// Time counts only while the server waits for the client: while a request is being answered, the
/// connection has no deadline (a large batch may take a while), and while the server is not asking for body
/// bytes (back pressure), the body clock stops.
package struct ConnectionDeadlines: Sendable {
    /// Why a connection was closed.
    package enum Reason: String, Sendable, Equatable {
        /// The request header did not arrive in time (slowloris).
        case header
        /// The connection sat idle between requests.
        case idle
        /// The request body stopped arriving.
        case body
        /// The client stopped reading the response.
        case responseNotRead = "response not read"
    }

    private enum Inbound: Sendable {
        /// Waiting for the next request's header; `firstByte` is when its first byte arrived.
        case awaitingHead(firstByte: ContinuousClock.Instant?)
        /// The header arrived; the body is being read.
        case readingBody
    }

    let timeouts: ConnectionTimeouts
    private var inbound = Inbound.awaitingHead(firstByte: nil)
    /// Requests whose header arrived and whose response has not been written to the end.
    private var responsesPending = 0
    /// Requests answered so far; before the first, the header timeout applies to an idle connection.
    private var answered = 0
    /// When the connection last had no request in progress.
    private var idleSince: ContinuousClock.Instant
    /// Whether the server has asked for more bytes and not yet received them.
    private var readWanted = true
    /// The last byte, or the moment the server asked for bytes again after pausing.
    private var lastProgress: ContinuousClock.Instant
    /// Since when the socket's send buffer has been full (the client is not reading), if it is.
    private var unwritableSince: ContinuousClock.Instant?

    /// A connection accepted at `now`.
    package init(timeouts: ConnectionTimeouts, now: ContinuousClock.Instant) {
        self.timeouts = timeouts
        idleSince = now
        lastProgress = now
    }

    /// Bytes arrived from the client.
    package mutating func bytesReceived(now: ContinuousClock.Instant) {
        lastProgress = now
        if case .awaitingHead(nil) = inbound { inbound = .awaitingHead(firstByte: now) }
    }

    /// The server asked the socket for more bytes.
    package mutating func readRequested(now: ContinuousClock.Instant) {
        if !readWanted {
            readWanted = true
            lastProgress = now
        }
    }

    /// A read from the socket completed; until the server asks again, it is not waiting for the client.
    package mutating func readCompleted() {
        readWanted = false
    }

    /// A request's header was parsed.
    package mutating func headReceived(now: ContinuousClock.Instant) {
        inbound = .readingBody
        responsesPending += 1
        lastProgress = now
    }

    /// A request's body ended.
    package mutating func requestEnded() {
        inbound = .awaitingHead(firstByte: nil)
    }

    /// A response was written to its end.
    package mutating func responseEnded(now: ContinuousClock.Instant) {
        responsesPending = max(0, responsesPending - 1)
        answered += 1
        if responsesPending == 0 { idleSince = now }
    }

    /// The socket's send buffer filled up (`false`) or drained (`true`).
    package mutating func writabilityChanged(isWritable: Bool, now: ContinuousClock.Instant) {
        unwritableSince = isWritable ? nil : (unwritableSince ?? now)
    }

    /// The moment the connection should be closed, and why; `nil` while the server, not the client, has
    /// the next move.
    package var deadline: (at: ContinuousClock.Instant, reason: Reason)? {
        var candidates: [(at: ContinuousClock.Instant, reason: Reason)] = []
        if let unwritableSince { candidates.append((unwritableSince.advanced(by: timeouts.body), .responseNotRead)) }
        switch inbound {
        case .readingBody:
            if readWanted { candidates.append((lastProgress.advanced(by: timeouts.body), .body)) }
        case .awaitingHead(let firstByte?):
            if responsesPending == 0 {
                // A new connection's first header is timed from the accept; a later one from its first byte.
                let start = answered == 0 ? idleSince : max(firstByte, idleSince)
                candidates.append((start.advanced(by: timeouts.header), .header))
            }
        case .awaitingHead(nil):
            if responsesPending == 0 {
                candidates.append(
                    answered == 0
                        ? (idleSince.advanced(by: timeouts.header), .header)
                        : (idleSince.advanced(by: timeouts.idle), .idle)
                )
            }
        }
        return candidates.min { $0.at < $1.at }
    }

    /// Whether the connection is waiting for a request header and no response is in progress, so a timeout
    /// may be answered with `408 Request Timeout` before closing.
    package var mayAnswerTimeout: Bool {
        if case .awaitingHead = inbound { return responsesPending == 0 }
        return false
    }
}
