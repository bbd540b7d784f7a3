import Foundation
import Logging
import QuillCore
import QuillSteps
import QuillTesting
import Testing

/// A tiny corpus, written to `corpus.txt`.
struct Corpus: Step {
    var name = "tiny"
    var samples = 400

    func create(_ context: StepContext) async throws {
        try String(repeating: "sample\n", count: samples).write(
            toFile: context.file("corpus.txt"),
            atomically: true,
            encoding: .utf8
        )
    }

    func load(_ context: StepContext) async throws -> Int { samples }
}

/// A model fitted on a corpus; fails on request.
struct Fit: Step {
    var corpus = Corpus()
    var lr = 0.001
    var fail = false

    func create(_ context: StepContext) async throws {
        let samples = try await context.dependency(corpus)
        context.logger.info("fitting on \(samples) samples")
        if fail { throw QuillError(.io, "diverged at step 3") }
        try "weights \(lr)".write(toFile: context.file("weights.txt"), atomically: true, encoding: .utf8)
    }

    func load(_ context: StepContext) async throws -> String {
        try String(contentsOfFile: context.file("weights.txt"), encoding: .utf8)
    }
}

/// A steps root with real results: two fits sharing a corpus, a failed fit, and an incomplete fit whose
/// compute lock this test process holds (so it counts as being computed by a live process).
struct StepsRoot {
    let quill = QuillBinary()
    let root: TemporaryDirectory
    let options: StepOptions
    let fit = Fit()
    let other = Fit(lr: 0.01)
    let failed = Fit(lr: 0.5, fail: true)
    let running = Fit(lr: 0.2)

    init() async throws {
        let root = TemporaryDirectory("quill-steps-cli")
        let options = StepOptions.fromEnvironment([
            "QUILL_STEPS_ROOT": root.path, "QUILL_STEP_LOG_LEVEL": "critical",
        ])
        self.root = root
        self.options = options
        _ = try await fit.loadOrCreate(options: options)
        _ = try await other.loadOrCreate(options: options)
        do {
            _ = try await failed.loadOrCreate(options: options)
            Issue.record("the failing fit succeeded")
        } catch {
            #expect(error is StepCreateError)
        }
        try running.record(options: options)
        let quill = try running.directory(options: options) + "/.quill"
        let now = Timestamp.string(Date())
        let owner = "\(ProcessLiveness.hostname()):\(getpid())"
        try Data(
            """
            {"status": "incomplete", "attempts": [{"id": "t1", "status": "running", "owner": "\(owner)", \
            "backend": "local", "started_at": "\(now)", "heartbeat_at": "\(now)"}]}
            """.utf8
        ).write(to: URL(fileURLWithPath: quill + "/state.json"))
        try Data(
            """
            {"token": "t1", "host": "\(ProcessLiveness.hostname())", "pid": \(getpid()), "heartbeat_at": "\(now)", \
            "lease_seconds": 120}
            """.utf8
        ).write(to: URL(fileURLWithPath: quill + "/lock"))
    }

    func hash(_ step: Fit) throws -> String { try step.hash }
    func short(_ step: some Step) throws -> String { String(try step.hash.prefix(7)) }

    /// Runs `quill steps ARGUMENTS --root ROOT`.
    @discardableResult
    func steps(_ arguments: String...) throws -> BuiltProducts.Result {
        try quill.run(["steps"] + arguments + ["--root", root.path])
    }

    func json(_ arguments: String...) throws -> JSONValue {
        let result = try quill.run(["steps"] + arguments + ["--root", root.path, "--json"])
        #expect(result.status == 0, "\(arguments): \(result.stderr)")
        return try JSONParser.parse(result.stdout)
    }
}

extension QuillBinary {
    @discardableResult
    func run(_ arguments: [String], extra: [String: String] = [:]) throws -> BuiltProducts.Result {
        try BuiltProducts.run(
            BuiltProducts.path("quill"),
            arguments,
            environment: environment.merging(extra) { _, new in new }
        )
    }
}

@Suite("quill steps")
struct StepsCLITests {
    @Test("lists results in an aligned table and filters by status, namespace, host, user, time and config")
    func list() async throws {
        let steps = try await StepsRoot()
        let table = try steps.steps()
        #expect(table.status == 0, "\(table.stderr)")
        let lines = table.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("NAMESPACE") == true)
        for header in ["HASH", "STATUS", "STARTED", "SIZE", "SWIFT"] { #expect(lines[0].contains(header)) }
        #expect(lines.count == 6)
        let statusColumn = try #require(lines[0].range(of: "STATUS")).lowerBound.utf16Offset(in: lines[0])
        let corpusLine = try #require(lines.first { $0.contains("Corpus") })
        #expect(corpusLine.dropFirst(statusColumn).hasPrefix("success"))
        #expect(corpusLine.contains(try steps.short(Corpus())))
        #expect(corpusLine.contains("Corpus(name: \"tiny\", samples: 400)"))
        #expect(lines.contains { $0.contains("incomplete (locked)") })

        func hashes(_ arguments: String...) throws -> Set<String> {
            let result = try steps.quill.run(["steps"] + arguments + ["--root", steps.root.path, "--json"])
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            return Set(try JSONParser.parse(result.stdout).arrayValue?.compactMap { $0["hash"]?.stringValue } ?? [])
        }
        #expect(try hashes("--status", "failed") == [try steps.hash(steps.failed)])
        #expect(try hashes("--status", "failed", "--status", "incomplete").count == 2)
        #expect(try hashes("--namespace", "Fit").count == 4)
        #expect(try hashes("--namespace", "QuillCLITests.Corpus").count == 1)
        #expect(try hashes("--where", "lr=0.001") == [try steps.hash(steps.fit)])
        #expect(try hashes("--where", "lr=0.0010") == [try steps.hash(steps.fit)])
        #expect(try hashes("--where", "corpus.samples=400").count == 4)
        #expect(try hashes("--where", "corpus.name=tiny", "--where", "fail=true") == [try steps.hash(steps.failed)])
        #expect(try hashes("--host", ProcessLiveness.hostname()).count == 5)
        #expect(try hashes("--host", "elsewhere").isEmpty)
        let user = try #require(try steps.json().arrayValue?.first?["user"]?.stringValue)
        #expect(try hashes("--user", user).count == 5)
        #expect(try hashes("--since", "1h").count == 5)
        #expect(try hashes("--before", "2000-01-01").isEmpty)

        let entry = try #require(try steps.json("--where", "lr=0.01").arrayValue?.first)
        #expect(entry["namespace"] == "QuillCLITests.Fit")
        #expect(entry["status"] == "success")
        #expect(entry["config"]?["lr"] == 0.01)
        #expect((entry["size_bytes"]?.intValue ?? 0) > 0)
        #expect(entry["dependencies"]?.arrayValue?.count == 1)

        let none = try steps.steps("--where", "lr=42")
        #expect(none.stdout.contains("No step results match these filters (5 results in \(steps.root.path))"))
        let empty = TemporaryDirectory("quill-steps-empty")
        let fromEnvironment = try steps.quill.run(["steps"], extra: ["QUILL_STEPS_ROOT": empty.path])
        #expect(fromEnvironment.stdout.contains("No step results in \(empty.path) yet"))
        let fromHome = try steps.quill.run(["steps", "--json"], extra: ["QUILL_STEPS_ROOT": ""])
        #expect(fromHome.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]")

        let badStatus = try steps.steps("--status", "exploded")
        #expect(badStatus.status == 64)
        #expect(badStatus.stderr.contains("unknown status 'exploded'; use one of: absent, incomplete, success, failed"))
        let badWhere = try steps.steps("--where", "lr")
        #expect(badWhere.status == 2)
        #expect(badWhere.stderr.hasPrefix("error: 'lr' is not KEY=VALUE"))
        let badTime = try steps.steps("--since", "yesterday")
        #expect(badTime.stderr.contains("--since 'yesterday' is not a time"))
    }

    @Test("show prints metadata, config, attempts, dependencies, files and the log; prefixes and errors")
    func show() async throws {
        let steps = try await StepsRoot()
        let hash = try steps.hash(steps.fit)
        let text = try steps.steps("show", "Fit/\(hash.prefix(8))")
        #expect(text.status == 0, "\(text.stderr)")
        for section in [
            "Step QuillCLITests.Fit/\(hash)", "swift", "Fit(corpus: Corpus(name: \"tiny\", samples: 400), lr: 0.001",
            "Config", "corpus.samples", "Attempts", "BACKEND", "Dependencies",
            "Corpus \(try steps.short(Corpus())) success",
            "Files", "weights.txt", ".quill/metadata.json", "Log (last", "fitting on 400 samples",
        ] {
            #expect(text.stdout.contains(section), "missing \(section)")
        }
        let corpus = try steps.steps("show", "QuillCLITests.Corpus/\(try steps.short(Corpus()))")
        #expect(corpus.stdout.contains("Used by"))

        let failed = try steps.json("show", "Fit/\(try steps.short(steps.failed))")
        #expect(failed["status"] == "failed")
        let attempt = try #require(failed["attempts"]?.arrayValue?.first)
        #expect(attempt["status"] == "failed")
        #expect(attempt["error"]?.stringValue?.contains("diverged at step 3") == true)
        #expect(failed["metadata"]?["swift"]?.stringValue?.hasPrefix("Fit(") == true)
        #expect(failed["files"]?.arrayValue?.contains { $0["path"] == ".quill/state.json" } == true)
        #expect(failed["log_tail"]?.arrayValue?.isEmpty == false)

        let unknown = try steps.steps("show", "Fit/abcdef12")
        #expect(unknown.status == 1)
        #expect(
            unknown.stderr
                == "error: no step result Fit/abcdef12 under \(steps.root.path); list the results with `quill steps --root \(steps.root.path)`\n"
        )
        let unknownJSON = try steps.steps("show", "Fit/abcdef12", "--json")
        #expect(try JSONParser.parse(unknownJSON.stdout)["error"]?["code"] == "not_found")
        let malformed = try steps.steps("show", "just-a-name")
        #expect(malformed.status == 2)
        #expect(malformed.stderr.contains("is not NAMESPACE/HASH"))
        // A second result whose hash shares the first 8 digits: a copy of the folder with its hash changed.
        let source = try steps.fit.directory(options: steps.options)
        let twinHash = String(hash.prefix(8)) + String(repeating: "0", count: 56)
        let twin = (source as NSString).deletingLastPathComponent + "/" + twinHash
        try FileManager.default.copyItem(atPath: source, toPath: twin)
        let metadata = try String(contentsOfFile: twin + "/.quill/metadata.json", encoding: .utf8)
        try metadata.replacingOccurrences(of: hash, with: twinHash)
            .write(toFile: twin + "/.quill/metadata.json", atomically: true, encoding: .utf8)
        let ambiguous = try steps.steps("show", "Fit/\(hash.prefix(8))")
        #expect(ambiguous.status == 1)
        #expect(ambiguous.stderr.hasPrefix("error: Fit/\(hash.prefix(8)) matches 2 results"))
        #expect(ambiguous.stderr.contains("give more of the namespace or the hash"))
        #expect(try steps.steps("show", "Fit/\(hash.prefix(9))").status == 0)
    }

    @Test("deps prints the dependency tree and Graphviz DOT")
    func deps() async throws {
        let steps = try await StepsRoot()
        let fit = try steps.short(steps.fit)
        let corpus = try steps.short(Corpus())
        let tree = try steps.steps("deps", "Fit/\(fit)")
        #expect(tree.status == 0, "\(tree.stderr)")
        let lines = tree.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        #expect(lines[0].hasPrefix("Fit \(fit) success  Fit(corpus: "))
        #expect(lines[1].hasPrefix("└─ Corpus \(corpus) success"))
        let whole = try steps.steps("deps")
        #expect(whole.stdout.split(separator: "\n").count == 8)  // four fits, each over the corpus
        #expect(whole.stdout.contains("Fit \(try steps.short(steps.failed)) failed"))

        let dot = try steps.steps("deps", "--dot")
        #expect(dot.stdout.hasPrefix("digraph steps {"))
        #expect(dot.stdout.hasSuffix("}\n"))
        #expect(dot.stdout.components(separatedBy: " -> ").count - 1 == 4)
        #expect(dot.stdout.contains("[label=\"Corpus\\n\(corpus)\\nsuccess\""))
        #expect(dot.stdout.contains("[label=\"Fit\\n\(try steps.short(steps.running))\\nincomplete\""))
        let one = try steps.steps("deps", "Fit/\(fit)", "--dot")
        #expect(one.stdout.components(separatedBy: "[label=").count - 1 == 2)
        #expect(one.stdout.components(separatedBy: " -> ").count - 1 == 1)
        let graph = try steps.json("deps")
        #expect(graph["nodes"]?.arrayValue?.count == 5)
        #expect(graph["edges"]?.arrayValue?.count == 4)
    }

    @Test("rm with --dry-run keeps files; rm removes and reports bytes; a locked result needs --force")
    func remove() async throws {
        let steps = try await StepsRoot()
        let other = try steps.short(steps.other)
        let directory = try steps.other.directory(options: steps.options)
        let dry = try steps.steps("rm", "Fit/\(other)", "--dry-run")
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("would remove QuillCLITests.Fit/\(other) (success, "))
        #expect(dry.stdout.contains("Dry run: 1 result,"))
        #expect(FileManager.default.fileExists(atPath: directory))

        let real = try steps.steps("rm", "Fit/\(other)")
        #expect(real.stdout.contains("removed QuillCLITests.Fit/\(other)"))
        #expect(real.stdout.contains("Removed 1 result, freed "))
        #expect(!FileManager.default.fileExists(atPath: directory))

        let running = try steps.short(steps.running)
        let refused = try steps.steps("rm", "Fit/\(running)", "Fit/\(try steps.short(steps.failed))")
        #expect(refused.status == 1)
        #expect(
            refused.stderr.contains(
                "is being computed by \(ProcessLiveness.hostname()):\(getpid()); wait for it to finish, or pass --force"
            )
        )
        #expect(try steps.json().arrayValue?.count == 4, "nothing is removed when one result is refused")
        let forced = try steps.json("rm", "Fit/\(running)", "--force")
        #expect(forced["removed"]?.arrayValue?.first?["removed"] == true)
        #expect((forced["bytes"]?.intValue ?? 0) > 0)

        let typo = try steps.steps("rm", "Fit/\(try steps.short(steps.fit))", "Fit/ffffffff")
        #expect(typo.status == 1)
        #expect(try steps.json().arrayValue?.count == 3)
    }

    @Test("gc needs a criterion, dry-runs, skips locked results and removes failed, incomplete and old ones")
    func gc() async throws {
        let steps = try await StepsRoot()
        let none = try steps.steps("gc")
        #expect(none.status == 2)
        #expect(none.stderr.contains("gc needs at least one criterion: --failed, --incomplete or --older-than"))
        let badAge = try steps.steps("gc", "--older-than", "soon")
        #expect(badAge.stderr.contains("is not an age"))

        let dry = try steps.steps("gc", "--failed", "--incomplete", "--dry-run")
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("would remove QuillCLITests.Fit/\(try steps.short(steps.failed)) (failed, "))
        #expect(dry.stdout.contains("skipped QuillCLITests.Fit/\(try steps.short(steps.running)) (locked by "))
        #expect(dry.stdout.contains("Dry run: 1 result,"))
        #expect(try steps.json().arrayValue?.count == 5)

        let report = try steps.json("gc", "--failed", "--incomplete")
        #expect(report["count"] == 1)
        #expect((report["bytes"]?.intValue ?? 0) > 0)
        #expect(report["skipped"]?.arrayValue?.count == 1)
        #expect(try steps.json("--status", "failed").arrayValue?.isEmpty == true)

        #expect(try steps.json("gc", "--older-than", "30d")["count"] == 0)
        let old = try steps.steps("gc", "--older-than", "0s")
        #expect(old.stdout.contains("Removed 3 results, freed "))
        #expect(try steps.json().arrayValue?.map { $0["status"] } == ["incomplete"])
    }
}
