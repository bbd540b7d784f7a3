import HTTPTypes
import Logging
import NIOCore
import NIOHTTPTypes
import Synchronization

/// Counts the server's open connections against a limit, across event loops.
package final class ConnectionCounter: Sendable {
    /// The most connections open at once.
    package let limit: Int
    private let open = Mutex(0)
    /// Refusals not yet logged, and when the last log line was written (a flood logs one line per 10 s).
    private let refusals = Mutex((count: 0, loggedAt: ContinuousClock.Instant?.none))

    /// A counter with a limit.
    package init(limit: Int) {
        self.limit = limit
    }

    /// The connections open now.
    package var current: Int { open.withLock { $0 } }

    /// Takes a place for a new connection; `false` when the limit is reached.
    func acquire() -> Bool {
        open.withLock { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
    }

    /// Gives a connection's place back.
    func release() {
        open.withLock { $0 -= 1 }
    }

    /// Counts a refused connection; returns how many to report when a log line is due (at most one per 10 s).
    package func noteRefusal(now: ContinuousClock.Instant = .now) -> Int? {
        refusals.withLock { state in
            state.count += 1
            if let loggedAt = state.loggedAt, now < loggedAt.advanced(by: .seconds(10)) { return nil }
            defer { state = (0, now) }
            return state.count
        }
    }
}

/// Closes connections whose client is too slow or gone, and refuses connections over the limit.
///
/// Sits in each connection's pipeline right after HTTP parsing, so it sees request parts, response parts and
/// every socket read. The rules (which timeout applies when) live in ``ConnectionDeadlines``; this handler
/// feeds it events and keeps one timer armed for its next deadline. A header that does not arrive in time is
/// answered `408 Request Timeout`; an idle, stalled or unread connection is just closed. A connection over
/// ``ConnectionCounter/limit`` is answered `503 Service Unavailable` at once and closed, so file descriptors
/// stay available and a client learns at once that the server is full instead of hanging.
final class ConnectionGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum Admission {
        case pending, admitted, refused, released
    }

    private var deadlines: ConnectionDeadlines
    private let counter: ConnectionCounter
    private let logger: Logger
    private var admission = Admission.pending
    private var timer: Scheduled<Void>?
    private var timerAt: ContinuousClock.Instant?
    /// Whether the current socket read produced a request part; a read that produced none brought bytes of a
    /// header (or body framing) still being assembled.
    private var decodedInThisRead = false

    init(timeouts: ConnectionTimeouts, counter: ConnectionCounter, logger: Logger) {
        self.deadlines = ConnectionDeadlines(timeouts: timeouts, now: .now)
        self.counter = counter
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { admit(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        release()
    }

    func channelActive(context: ChannelHandlerContext) {
        admit(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        release()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard admission != .refused else { return }
        let now = ContinuousClock.now
        decodedInThisRead = true
        switch unwrapInboundIn(data) {
        case .head: deadlines.headReceived(now: now)
        case .body: deadlines.bytesReceived(now: now)
        case .end: deadlines.requestEnded()
        }
        context.fireChannelRead(data)
        arm(context: context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        guard admission != .refused else { return }
        if !decodedInThisRead { deadlines.bytesReceived(now: .now) }
        decodedInThisRead = false
        deadlines.readCompleted()
        context.fireChannelReadComplete()
        arm(context: context)
    }

    func read(context: ChannelHandlerContext) {
        guard admission != .refused else { return }
        deadlines.readRequested(now: .now)
        context.read()
        arm(context: context)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            deadlines.responseEnded(now: .now)
            arm(context: context)
        }
        context.write(data, promise: promise)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        deadlines.writabilityChanged(isWritable: context.channel.isWritable, now: .now)
        arm(context: context)
        context.fireChannelWritabilityChanged()
    }

    // MARK: Admission

    private func admit(context: ChannelHandlerContext) {
        guard admission == .pending else { return }
        guard counter.acquire() else {
            admission = .refused
            if let refused = counter.noteRefusal() {
                logger.warning(
                    "refused \(refused) connection(s): \(counter.limit) connections are open (the limit is `quill serve --max-connections`)"
                )
            }
            respond(context: context, status: .serviceUnavailable, headers: [.retryAfter: "5"])
            return
        }
        admission = .admitted
        deadlines = ConnectionDeadlines(timeouts: deadlines.timeouts, now: .now)
        arm(context: context)
    }

    private func release() {
        timer?.cancel()
        timer = nil
        timerAt = nil
        if admission == .admitted { counter.release() }
        admission = .released
    }

    // MARK: Timer

    /// Makes sure the timer fires no later than the next deadline; a timer that fires early re-arms itself.
    private func arm(context: ChannelHandlerContext) {
        guard admission == .admitted, let deadline = deadlines.deadline else { return }
        if let timerAt, timerAt <= deadline.at { return }
        timer?.cancel()
        timerAt = deadline.at
        let delay = ContinuousClock.now.duration(to: deadline.at)
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: Self.timeAmount(delay)) { [self] in
            self.timerFired(context: context)
        }
    }

    private func timerFired(context: ChannelHandlerContext) {
        timer = nil
        timerAt = nil
        guard admission == .admitted, let deadline = deadlines.deadline else { return }
        guard ContinuousClock.now >= deadline.at else {
            arm(context: context)
            return
        }
        logger.debug("closing a connection: \(deadline.reason.rawValue) timeout")
        if deadline.reason == .header, deadlines.mayAnswerTimeout {
            respond(context: context, status: .requestTimeout, headers: [:])
        } else {
            context.close(promise: nil)
        }
    }

    /// Writes a response with an empty body and closes the connection.
    private func respond(context: ChannelHandlerContext, status: HTTPResponse.Status, headers: HTTPFields) {
        var fields = headers
        fields[.connection] = "close"
        fields[.contentLength] = "0"
        context.write(wrapOutboundOut(.head(HTTPResponse(status: status, headerFields: fields))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    private static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        let nanoseconds = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !nanoseconds.overflow else { return .nanoseconds(.max) }
        return .nanoseconds(max(0, nanoseconds.partialValue + attoseconds / 1_000_000_000))
    }
}
