import Foundation
import Quill
import QuillCore
import QuillTesting
import Testing

@Suite("withRun takes any Encodable config, as startRun does")
struct WithRunConfigTests {
    struct Config: Codable {
        var lr = 0.001
        var batchSize = 64
        var optimizer = Optimizer()
    }

    struct Optimizer: Codable {
        var name = "adam"
        var betas = [0.9, 0.999]
    }

    @Test("the synchronous form encodes a Codable struct into config.json and finishes the run")
    func synchronous() throws {
        let temp = TemporaryDirectory("quill-withrun")
        let options = testOptions(temp)
        let id = try Quill.withRun(project: "mnist", name: "baseline", config: Config(), options: options) { run in
            try run.log(["loss": 0.5], step: 0)
            return run.id
        }
        let found = try LocalRunStore(home: options.home).resolve(id.rawValue)
        #expect(found.meta.status == .completed)
        let config = try found.directory.readConfig()
        #expect(config["lr"] == 0.001)
        #expect(config["batchSize"] == 64)
        #expect(config["optimizer"]?["name"] == "adam")
    }

    @Test("the async form encodes the config too, and a body that throws fails the run")
    func asynchronous() async throws {
        let temp = TemporaryDirectory("quill-withrun")
        let options = testOptions(temp)
        struct Stop: Error {}
        await #expect(throws: Stop.self) {
            try await Quill.withRun(project: "mnist", name: "async", config: Config(), options: options) { run in
                try run.log("loss", 0.25, step: 1)
                try await Task.sleep(for: .milliseconds(1))
                throw Stop()
            }
        }
        let found = try LocalRunStore(home: options.home).resolve("async")
        #expect(found.meta.status == .failed)
        #expect(try found.directory.readConfig()["optimizer"]?["betas"] == [0.9, 0.999])
    }

    @Test("a config that is not an object is refused before a run starts")
    func notAnObject() throws {
        let temp = TemporaryDirectory("quill-withrun")
        let options = testOptions(temp)
        #expect(throws: QuillError.self) {
            try Quill.withRun(project: "mnist", config: [1, 2, 3], options: options) { _ in }
        }
        #expect(LocalRunStore(home: options.home).list().runs.isEmpty)
    }
}
