import Foundation
import QuillCore
import QuillSteps
import Testing

struct TrainConfig: Step {
    var name = "baseline"
    var lr = 0.0003
    var steps = 5000

    func create(_ context: StepContext) async throws {}
    func load(_ context: StepContext) async throws {}
}

struct Tokenizer: Step {
    var vocabulary = 32_000
    func create(_ context: StepContext) async throws {}
    func load(_ context: StepContext) async throws {}
}

struct Pretrain: Step {
    struct Schedule: Codable, Sendable {
        var warmup = 100
        var decay: String? = "cosine"
    }

    var tokenizer = Tokenizer()
    var lr = 0.1
    var schedule = Schedule()
    var layers: [Int] = [64, 64]
    var extra: [String: Double] = ["b": 2, "a": 1]

    func create(_ context: StepContext) async throws {}
    func load(_ context: StepContext) async throws {}
}

@Suite("Canonical encoding and hashes (pinned test vectors)")
struct CanonicalEncodingTests {
    @Test("a flat config: keys sorted, shortest numbers, and a pinned SHA-256")
    func flat() throws {
        let step = TrainConfig()
        #expect(CanonicalEncoding.string(try step.configuration) == #"{"lr":0.0003,"name":"baseline","steps":5000}"#)
        #expect(try step.hash == "0acb4de85f5d65cc57530caa7e544adb9bbbb07958e6854f18c3ec9eb92262d9")
        #expect(try TrainConfig(lr: 0.0003).hash == (try step.hash))
        #expect(try TrainConfig(lr: 0.0001).hash != (try step.hash))
    }

    @Test("every kind of value has one spelling")
    func values() {
        let value = StepValue.object(
            type: nil,
            members: [
                .init("f", .double(.infinity)), .init("e", .string("q\"\\\né")), .init("d", .double(.nan)),
                .init("c", .null), .init("b", .bool(true)),
                .init(
                    "a",
                    .array([
                        .integer("1"), .integer("-2"), .double(3.5), .double(0.00001), .double(5000),
                        .double(1e16), .double(-0.0),
                    ])
                ),
            ]
        )
        let expected =
            #"{"a":[1,-2,3.5,1e-05,5000.0,1e+16,-0.0],"b":true,"c":null,"d":"NaN","e":"q\"\\\u000aé","f":"Infinity"}"#
        #expect(CanonicalEncoding.string(value) == expected)
        #expect(CanonicalEncoding.hash(value) == "b78472c3b469a10e6097900ed42a13d978a2290623b3daed5ed8711dc4dda64e")
        #expect(
            CanonicalEncoding.hash(.object(type: "Anything", members: []))
                == "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        )
    }

    @Test("a nested step contributes its namespace and hash, so a dependency's change changes the hash")
    func nested() throws {
        let step = Pretrain()
        let tokenizerHash = try Tokenizer().hash
        let text = CanonicalEncoding.string(try step.configuration)
        #expect(text.contains(#""tokenizer":{"$hash":"\#(tokenizerHash)","$step":"QuillStepsTests.Tokenizer"}"#))
        #expect(text.contains(#""extra":{"a":1.0,"b":2.0}"#))
        #expect(text.contains(#""schedule":{"decay":"cosine","warmup":100}"#))
        var changed = step
        changed.tokenizer.vocabulary = 50_000
        #expect(try changed.hash != (try step.hash))
        #expect(try step.configuration.nestedSteps.map(\.hash) == [tokenizerHash])
    }

    @Test("the hash does not depend on the order properties are declared in, or on the process")
    func stable() throws {
        struct Reordered: Step {
            var steps = 5000
            var name = "baseline"
            var lr = 0.0003
            func create(_ context: StepContext) async throws {}
            func load(_ context: StepContext) async throws {}
        }
        #expect(try Reordered().hash == (try TrainConfig().hash))
        #expect(Reordered.namespace != TrainConfig.namespace)
    }

    @Test("Swift form, dictionary form and back")
    func forms() throws {
        let step = Pretrain(lr: 0.0003)
        #expect(
            step.swiftDescription
                == #"Pretrain(tokenizer: Tokenizer(vocabulary: 32000), lr: 0.0003, schedule: Schedule(warmup: 100, decay: "cosine"), layers: [64, 64], extra: ["a": 1.0, "b": 2.0])"#
        )
        let dictionary = try step.dictionary()
        #expect(dictionary["tokenizer"]?["vocabulary"] == 32000)
        let rebuilt = try Pretrain(dictionary: dictionary)
        #expect(try rebuilt.hash == (try step.hash))
        #expect(TrainConfig().swiftDescription == #"TrainConfig(name: "baseline", lr: 0.0003, steps: 5000)"#)
    }

    @Test("namespaces become safe folder names")
    func folders() {
        #expect(StepOptions.folderName("MyModule.TrainModel") == "MyModule.TrainModel")
        #expect(StepOptions.folderName("M.Box<Swift.Int>") == "M.Box%3CSwift.Int%3E")
        #expect(StepOptions.folderName("../x") == "%2E.%2Fx")
        let options = StepOptions(root: "/r")
        #expect(options.directory(namespace: "M.T", hash: "ab", versionControlled: false) == "/r/data/M.T/ab")
        #expect(options.directory(namespace: "M.T", hash: "ab", versionControlled: true) == "/r/git/M.T/ab")
    }
}
