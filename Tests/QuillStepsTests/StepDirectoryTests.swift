import Foundation
import Logging
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

@Suite("StepDirectory: the step folder layout")
struct StepDirectoryTests {
    @Test("every path of a result folder is the one Docs/Steps.md documents")
    func layout() {
        let result = StepDirectory(root: "/s", namespace: "App.Train", hash: "3fa2", versionControlled: false)
        #expect(result.path == "/s/data/App.Train/3fa2")
        #expect(result.quill == "/s/data/App.Train/3fa2/.quill")
        #expect(result.metadata == "/s/data/App.Train/3fa2/.quill/metadata.json")
        #expect(result.state == "/s/data/App.Train/3fa2/.quill/state.json")
        #expect(result.log == "/s/data/App.Train/3fa2/.quill/log.txt")
        #expect(result.success == "/s/data/App.Train/3fa2/.quill/SUCCESS")
        #expect(result.lock == "/s/data/App.Train/3fa2/.quill/lock")
        #expect(result.guardFile == "/s/data/App.Train/3fa2/.quill/guard")
        #expect(result.parent == "/s/data/App.Train")
        #expect(result.removalFolder(hash: "3fa2", id: "x1") == "/s/data/App.Train/.removing-3fa2-x1")
        let committed = StepDirectory(root: "/s", namespace: ".a b/é", hash: "00", versionControlled: true)
        #expect(committed.path == "/s/git/%2Ea%20b%2F%C3%A9/00")
        #expect(StepDirectory.rawFolder(root: "/s") == "/s/raw")
        #expect(StepDirectory.folderName("") == "%00")
        #expect(StepDirectory.isResultFolderName("3fa2") && !StepDirectory.isResultFolderName(".removing-3fa2-x1"))
    }

    @Test("the public paths of a step and its options are the StepDirectory ones")
    func publicPathsAgree() throws {
        let temp = TemporaryDirectory("quill-steps")
        let options = StepOptions(root: temp.path)
        let step = Committed(name: "paths")
        let folder = StepDirectory(
            root: temp.path,
            namespace: Committed.namespace,
            hash: try step.hash,
            versionControlled: true
        )
        #expect(try step.directory(options: options) == folder.path)
        #expect(options.rawDirectory == StepDirectory.rawFolder(root: temp.path))
        #expect(StepOptions.folderName("a/b") == StepDirectory.folderName("a/b"))
    }

    @Test("the lease is renewed while create blocks every thread of the cooperative pool")
    func heartbeatWhileThePoolIsBlocked() async throws {
        let temp = TemporaryDirectory("quill-steps")
        var options = StepOptions(root: temp.path)
        options.heartbeat = 0.1
        options.lease = 60
        options.staleAfter = 60
        // One more step than the pool has threads: with a heartbeat on the pool, the first ones block it and
        // no lease is renewed until they give up.
        let count = ProcessInfo.processInfo.activeProcessorCount + 1
        let renewed = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<count {
                group.addTask { try await BlockingStep(index: index).loadOrCreate(options: options) }
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
