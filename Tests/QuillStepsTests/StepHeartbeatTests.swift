import Foundation
import QuillCore
import QuillSteps
import QuillTesting
import Testing

/// Blocks the thread `create` runs on (as synchronous training code does) until it sees the compute lock's
/// heartbeat renewed, or 10 s pass; records which in `renewed.txt`.
struct BlockingStep: Step {
    var index: Int

    func create(_ context: StepContext) async throws {
        let lock = StepDirectory(context.directory).lock
        func heartbeat() -> String? {
            (try? FileIO.read(lock)).flatMap { try? JSONParser.parse($0) }?["heartbeat_at"]?.stringValue
        }
        let first = heartbeat()
        let deadline = Date().addingTimeInterval(10)
        var renewed = false
        while Date() < deadline {
            if let now = heartbeat(), now != first {
                renewed = true
                break
            }
            usleep(20_000)
        }
        try String(renewed).write(toFile: context.file("renewed.txt"), atomically: true, encoding: .utf8)
    }

    func load(_ context: StepContext) async throws -> Bool {
        try String(contentsOfFile: context.file("renewed.txt"), encoding: .utf8) == "true"
    }
}

@Suite("Step lease heartbeat")
struct StepHeartbeatTests {
    @Test("the lease is renewed while create blocks every thread of the cooperative pool")
    func heartbeatWhileThePoolIsBlocked() async throws {
        let temp = TemporaryDirectory("quill-steps")
        var options = StepOptions(root: temp.path)
        options.heartbeat = 0.1
        options.lease = 60
        options.staleAfter = 60
        let settings = options
        // One more step than the pool has threads: with a heartbeat on the pool, the first ones block it and
        // no lease is renewed until they give up.
        let count = ProcessInfo.processInfo.activeProcessorCount + 1
        let renewed = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<count {
                group.addTask { try await BlockingStep(index: index).loadOrCreate(options: settings) }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(renewed.count == count)
        #expect(
            renewed.allSatisfy { $0 },
            "creates that never saw their lease renewed: \(renewed.filter { !$0 }.count)"
        )
    }
}
