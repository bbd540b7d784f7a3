import Foundation
import QuillCore
import QuillStore
import Testing

@testable import QuillServer

@Suite("The change feed and the stream cursor, as values")
struct ChangeFeedTests {
    @Test("a publish wakes the key's waiter, a quiet key times out, and a close ends the wait for good")
    func wakes() async throws {
        let feed = ChangeFeed<String>()
        let subscription = feed.subscribe("run")
        #expect(feed.subscriptionCount == 1)
        let seen = subscription.generation
        async let woken = subscription.next(after: seen, timeout: .seconds(30))
        try await Task.sleep(for: .milliseconds(50))
        feed.publish("other")  // another key wakes nobody here
        feed.publish("run")
        #expect(await woken == .changed)
        // A change made before the wait (between reading the store and waiting) is not missed.
        let before = subscription.generation
        feed.publish("run")
        #expect(await subscription.next(after: before, timeout: .seconds(30)) == .changed)
        #expect(await subscription.next(after: subscription.generation, timeout: .milliseconds(50)) == .timedOut)
        async let closed = subscription.next(after: subscription.generation, timeout: .seconds(30))
        try await Task.sleep(for: .milliseconds(50))
        subscription.close()
        #expect(await closed == .closed)
        #expect(subscription.isClosed)
        subscription.finish()
        #expect(feed.subscriptionCount == 0, "a key nobody follows is not kept")
        feed.publish("run")  // costs a lookup, keeps nothing
        #expect(feed.subscriptionCount == 0)
    }

    @Test("a subscription dropped without finish leaves the feed; a cancelled wait returns")
    func cleanup() async throws {
        let feed = ChangeFeed<Int>()
        do {
            let subscription = feed.subscribe(1)
            _ = subscription.generation
        }
        #expect(feed.subscriptionCount == 0)
        let subscription = feed.subscribe(2)
        let task = Task { await subscription.next(after: subscription.generation, timeout: .seconds(60)) }
        try await Task.sleep(for: .milliseconds(50))
        task.cancel()
        #expect(await task.value == .closed)
    }

    @Test("a cursor reads back from its id; foreign ids are refused; many metrics are left out of the id")
    func cursor() throws {
        let cursor = RunEventCursor(
            run: "a1b2c3d4",
            logs: 12,
            metrics: ["loss": .init(count: 100, lastIndex: 99), "empty": .init(count: 0, lastIndex: nil)],
            record: "abc",
            status: "running"
        )
        let text = cursor.text
        #expect(!text.contains("=") && !text.contains("+") && !text.contains("/"), "base64url, fit for an id line")
        #expect(RunEventCursor(text: text, run: "a1b2c3d4") == cursor)
        #expect(RunEventCursor(text: text, run: "zzzz9999") == nil, "another run's id starts over")
        for foreign in ["", "bogus", "e30", String(repeating: "A", count: 20_000)] {
            #expect(RunEventCursor(text: foreign, run: "a1b2c3d4") == nil, "\(foreign.prefix(10))")
        }
        var many = cursor
        many.metrics = Dictionary(
            uniqueKeysWithValues: (0..<1_000).map { ("metric/\($0)", .init(count: $0, lastIndex: $0)) }
        )
        let back = try #require(RunEventCursor(text: many.text, run: "a1b2c3d4"))
        #expect(back.metrics == nil && back.logs == 12, "the positions would make the id too long")
    }

    @Test("an event's data lines and id carry no line breaks of their own")
    func eventBytes() {
        let event = ServerSentEvent(name: "logs", id: "a\nb", data: Array("{\"x\":1}\nsecond".utf8))
        #expect(
            String(decoding: event.bytes, as: UTF8.self) == "id: ab\nevent: logs\ndata: {\"x\":1}\ndata: second\n\n"
        )
    }
}
