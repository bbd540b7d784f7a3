import QuillServer
import Testing

@Suite("Connection deadlines (as values)")
struct ConnectionDeadlinesTests {
    let start = ContinuousClock.now
    let timeouts = ConnectionTimeouts(header: .seconds(10), idle: .seconds(60), body: .seconds(30))

    func at(_ seconds: Double) -> ContinuousClock.Instant { start.advanced(by: .seconds(seconds)) }

    @Test("a new connection must send its whole header within the header timeout, however it trickles")
    func headerFromAccept() {
        var deadlines = ConnectionDeadlines(timeouts: timeouts, now: start)
        #expect(deadlines.deadline?.at == at(10))
        #expect(deadlines.deadline?.reason == .header)
        for second in 1...9 {
            deadlines.bytesReceived(now: at(Double(second)))
            deadlines.readCompleted()
            deadlines.readRequested(now: at(Double(second)))
        }
        #expect(deadlines.deadline?.at == at(10))
        #expect(deadlines.mayAnswerTimeout)
    }

    @Test("while a request is answered there is no deadline; afterwards the idle timeout runs")
    func respondingThenIdle() {
        var deadlines = ConnectionDeadlines(timeouts: timeouts, now: start)
        deadlines.headReceived(now: at(1))
        deadlines.requestEnded()
        #expect(deadlines.deadline == nil)
        deadlines.responseEnded(now: at(100))
        #expect(deadlines.deadline?.at == at(160))
        #expect(deadlines.deadline?.reason == .idle)
        // The next request's first bytes start its header clock.
        deadlines.bytesReceived(now: at(120))
        #expect(deadlines.deadline?.at == at(130))
        #expect(deadlines.deadline?.reason == .header)
    }

    @Test("a body must keep arriving while the server asks for it; back pressure stops the clock")
    func bodyProgress() {
        var deadlines = ConnectionDeadlines(timeouts: timeouts, now: start)
        deadlines.headReceived(now: at(1))
        #expect(deadlines.deadline?.at == at(31))
        #expect(deadlines.deadline?.reason == .body)
        deadlines.bytesReceived(now: at(20))
        #expect(deadlines.deadline?.at == at(50))
        // The server stops reading (it is busy): no deadline until it asks again.
        deadlines.readCompleted()
        #expect(deadlines.deadline == nil)
        deadlines.readRequested(now: at(200))
        #expect(deadlines.deadline?.at == at(230))
        #expect(!deadlines.mayAnswerTimeout)
    }

    @Test("a client that stops reading the response is cut off after the body timeout")
    func responseNotRead() {
        var deadlines = ConnectionDeadlines(timeouts: timeouts, now: start)
        deadlines.headReceived(now: at(1))
        deadlines.requestEnded()
        deadlines.writabilityChanged(isWritable: false, now: at(5))
        deadlines.writabilityChanged(isWritable: false, now: at(6))
        #expect(deadlines.deadline?.at == at(35))
        #expect(deadlines.deadline?.reason == .responseNotRead)
        deadlines.writabilityChanged(isWritable: true, now: at(7))
        #expect(deadlines.deadline == nil)
    }

    @Test("a flood of refused connections logs one line per 10 seconds, with the count")
    func refusalLogging() {
        let counter = ConnectionCounter(limit: 1)
        #expect(counter.noteRefusal(now: at(0)) == 1)
        for second in 1...5 { #expect(counter.noteRefusal(now: at(Double(second))) == nil) }
        #expect(counter.noteRefusal(now: at(10)) == 6)
        #expect(counter.noteRefusal(now: at(11)) == nil)
    }
}
