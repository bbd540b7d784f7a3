import Foundation
import QuillCore
import Synchronization
import Testing

@Suite("BackgroundLoop: periodic work on a thread of its own")
struct BackgroundLoopTests {
    /// What a loop's closure saw: how often it ran, and with which `stopping` flags.
    final class Calls: Sendable {
        let flags = Mutex<[Bool]>([])
        var count: Int { flags.withLock { $0.count } }
        var all: [Bool] { flags.withLock { $0 } }
        func record(_ stopping: Bool) { flags.withLock { $0.append(stopping) } }
    }

    /// Waits (polling, bounded) until a condition holds.
    func eventually(_ seconds: Double = 20, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(5_000)
        }
        return condition()
    }

    @Test("runs its closure again after each interval until stopped, then once more with stopping set")
    func repeatsUntilStopped() {
        let calls = Calls()
        let loop = BackgroundLoop.start(name: "test-repeat") { stopping in
            calls.record(stopping)
            return .milliseconds(5)
        }
        #expect(eventually { calls.count >= 3 })
        loop.stop()
        #expect(loop.join(timeout: .seconds(20)))
        #expect(loop.isFinished)
        let all = calls.all
        #expect(all.last == true)
        #expect(all.dropLast().allSatisfy { !$0 })
        let after = calls.count
        usleep(50_000)
        #expect(calls.count == after, "the closure ran after the loop ended")
    }

    @Test("stop wakes a loop waiting out a long interval at once")
    func stopIsPrompt() {
        let calls = Calls()
        let loop = BackgroundLoop.start(name: "test-prompt", after: .seconds(3600)) { stopping in
            calls.record(stopping)
            return .seconds(3600)
        }
        #expect(!loop.join(timeout: .milliseconds(50)), "the loop ended without being stopped")
        let started = ContinuousClock.now
        loop.stop()
        #expect(loop.join(timeout: .seconds(20)))
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(calls.all == [true], "a loop stopped during its first wait runs only its last run")
    }

    @Test("a closure that returns nil ends the loop without stop")
    func endsByItself() {
        let calls = Calls()
        let loop = BackgroundLoop.start(name: "test-end") { stopping in
            calls.record(stopping)
            return calls.count < 3 ? .zero : nil
        }
        #expect(loop.join(timeout: .seconds(20)))
        #expect(calls.all == [false, false, false])
        loop.stop()
        #expect(loop.join(timeout: .seconds(1)))
        #expect(calls.count == 3, "stopping an ended loop ran its closure again")
    }

    @Test("join with a timeout returns false while the closure is still busy, and true once it has ended")
    func joinTimeout() {
        let release = Mutex(false)
        let loop = BackgroundLoop.start(name: "test-busy") { _ in
            while !release.withLock({ $0 }) { usleep(1_000) }
            return nil
        }
        loop.stop()
        #expect(!loop.join(timeout: .milliseconds(100)))
        release.withLock { $0 = true }
        #expect(loop.join(timeout: .seconds(20)))
    }
}
