import Foundation
import QuillCore
import QuillSteps
import QuillTesting
import Testing

/// A steps root with real results: a pipeline of two probes (three successes), a failed probe, an
/// incomplete probe whose process died, and, optionally, one whose compute lock a live process holds.
struct CatalogFixture {
    let temp = TemporaryDirectory("quill-catalog")
    let options: StepOptions
    let pipeline: Pipeline
    let failed: Probe
    let incomplete: Probe
    let locked: Probe

    init() async throws {
        let options = QuillStepsTests.options(temp)
        let pipeline = Pipeline(first: Probe(log: temp.file("first"), value: 1), secondLog: temp.file("second"))
        #expect(try await pipeline.loadOrCreate(options: options) == 11)
        let failed = Probe(log: temp.file("failed"), value: 3, failFirst: 5)
        await #expect(throws: StepCreateError.self) { try await failed.loadOrCreate(options: options) }
        let incomplete = Probe(log: temp.file("incomplete"), value: 4)
        try Self.fakeIncomplete(incomplete, options: options, pid: 999_999_999)
        self.options = options
        self.pipeline = pipeline
        self.failed = failed
        self.incomplete = incomplete
        locked = Probe(log: temp.file("locked"), value: 5)
    }

    /// Writes the metadata, a state with one running attempt, and a compute lock held by `pid`.
    static func fakeIncomplete(_ step: Probe, options: StepOptions, pid: Int32) throws {
        try step.record(options: options)
        let quill = try step.directory(options: options) + "/.quill"
        let now = Timestamp.string(Date())
        try temporaryWrite(
            quill + "/state.json",
            """
            {"status": "incomplete", "attempts": [{"id": "abc", "status": "running", "owner": "\(ProcessLiveness.hostname()):\(pid)", \
            "backend": "local", "started_at": "\(now)", "heartbeat_at": "\(now)"}]}
            """
        )
        try temporaryWrite(
            quill + "/lock",
            """
            {"token": "abc", "host": "\(ProcessLiveness.hostname())", "pid": \(pid), "heartbeat_at": "\(now)", "lease_seconds": 120}
            """
        )
        try temporaryWrite(step.directory(options: options) + "/partial.bin", String(repeating: "p", count: 2048))
    }

    static func temporaryWrite(_ path: String, _ text: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    var catalog: StepCatalog { StepCatalog(options: options) }

    func withLiveLock() throws {
        try Self.fakeIncomplete(locked, options: options, pid: getpid())
    }
}

@Suite("Step catalog")
struct StepCatalogTests {
    @Test("lists every result with status, size, Swift form, dependencies and the last attempt's start")
    func entries() async throws {
        let fixture = try await CatalogFixture()
        let entries = fixture.catalog.entries()
        #expect(entries.count == 5)
        let byHash = Dictionary(uniqueKeysWithValues: entries.map { ($0.hash, $0) })
        let pipeline = try #require(byHash[try fixture.pipeline.hash])
        #expect(pipeline.status == .success)
        #expect(pipeline.namespace == "QuillStepsTests.Pipeline")
        #expect(pipeline.typeName == "Pipeline")
        #expect(pipeline.swift.hasPrefix("Pipeline(first: Probe("))
        #expect(pipeline.dependencies.count == 2)
        #expect(pipeline.sizeBytes > 0)
        #expect(pipeline.started != nil)
        #expect(byHash[try fixture.failed.hash]?.status == .failed)
        let incomplete = try #require(byHash[try fixture.incomplete.hash])
        #expect(incomplete.status == .incomplete)
        #expect(incomplete.lockHolder == nil, "a lock of a dead process is not held")
        #expect(incomplete.sizeBytes >= 2048)
        // Namespaces sorted: Pipeline before Probe.
        #expect(entries.first?.namespace == "QuillStepsTests.Pipeline")

        try fixture.withLiveLock()
        let locked = try #require(fixture.catalog.entries().first { $0.hash == (try? fixture.locked.hash) })
        #expect(locked.lockHolder == "\(ProcessLiveness.hostname()):\(getpid())")
    }

    @Test("filters by status, namespace, host, user, time and config keys, numerically or as text")
    func filters() async throws {
        let fixture = try await CatalogFixture()
        let catalog = fixture.catalog
        func count(_ change: (inout StepFilter) throws -> Void) rethrows -> Int {
            var filter = StepFilter()
            try change(&filter)
            return catalog.entries(matching: filter).count
        }
        #expect(count { $0.statuses = [.success] } == 3)
        #expect(count { $0.statuses = [.failed, .incomplete] } == 2)
        #expect(count { $0.namespaces = ["Probe"] } == 4)
        #expect(count { $0.namespaces = ["QuillStepsTests.Pipeline"] } == 1)
        #expect(count { $0.host = ProcessLiveness.hostname() } == 5)
        #expect(count { $0.host = "elsewhere" } == 0)
        let user = try #require(catalog.entries().first?.user)
        #expect(count { $0.user = user } == 5)
        #expect(count { $0.since = Date().addingTimeInterval(-3600) } == 5)
        #expect(count { $0.before = Date().addingTimeInterval(-3600) } == 0)
        #expect(try count { $0.config = [try StepConfigCondition(parsing: "value=10")] } == 1)
        #expect(try count { $0.config = [try StepConfigCondition(parsing: "value=10.0")] } == 1)
        #expect(try count { $0.config = [try StepConfigCondition(parsing: "first.value=1")] } == 1)
        #expect(
            try count { $0.config = [try StepConfigCondition(parsing: "first.log=\(fixture.temp.file("first"))")] } == 1
        )
        #expect(
            try count {
                $0.config = [
                    try StepConfigCondition(parsing: "value=3"), try StepConfigCondition(parsing: "failFirst=5"),
                ]
            } == 1
        )
        #expect(try count { $0.config = [try StepConfigCondition(parsing: "missing.key=1")] } == 0)
        #expect(throws: QuillError.self) { try StepConfigCondition(parsing: "novalue") }
        #expect(throws: QuillError.self) { try StepConfigCondition(parsing: "=1") }
    }

    @Test("resolves NAMESPACE/HASH by type name and unique prefix; unknown and ambiguous names say what to do")
    func resolve() async throws {
        let fixture = try await CatalogFixture()
        let catalog = fixture.catalog
        let hash = try fixture.pipeline.hash
        #expect(try catalog.resolve("QuillStepsTests.Pipeline/\(hash)").hash == hash)
        #expect(try catalog.resolve("Pipeline/\(hash.prefix(6))").hash == hash)
        let unknown = #expect(throws: QuillError.self) { try catalog.resolve("Pipeline/ffffffff") }
        #expect(unknown?.code == .notFound)
        #expect(unknown?.message.contains("quill steps --root") == true)
        let malformed = #expect(throws: QuillError.self) { try catalog.resolve("Pipeline") }
        #expect(malformed?.code == .invalidArgument)

        // A second result whose hash shares the first 8 digits: a copy of the folder with its hash changed.
        let source = try fixture.pipeline.directory(options: fixture.options)
        // The ninth digit always differs, so nine digits name the original alone whatever its hash.
        let ninth: Character = hash.dropFirst(8).first == "0" ? "1" : "0"
        let twinHash = String(hash.prefix(8)) + String(ninth) + String(repeating: "0", count: 55)
        let twin = (source as NSString).deletingLastPathComponent + "/" + twinHash
        try FileManager.default.copyItem(atPath: source, toPath: twin)
        let metadata = try String(contentsOfFile: twin + "/.quill/metadata.json", encoding: .utf8)
        try metadata.replacingOccurrences(of: hash, with: twinHash)
            .write(toFile: twin + "/.quill/metadata.json", atomically: true, encoding: .utf8)
        let ambiguous = #expect(throws: QuillError.self) { try catalog.resolve("Pipeline/\(hash.prefix(8))") }
        #expect(ambiguous?.code == .ambiguous)
        #expect(ambiguous?.message.contains("matches 2 results") == true)
        #expect(try catalog.resolve("Pipeline/\(hash.prefix(9))").hash == hash)
    }

    @Test("the dependency graph as a tree and as DOT")
    func graph() async throws {
        let fixture = try await CatalogFixture()
        let entries = fixture.catalog.entries()
        let graph = StepGraph(entries)
        let pipeline = StepReference(namespace: "QuillStepsTests.Pipeline", hash: try fixture.pipeline.hash)
        let first = StepReference(namespace: "QuillStepsTests.Probe", hash: try fixture.pipeline.first.hash)
        #expect(graph.dependencies(of: pipeline).first == first)
        #expect(graph.dependents(of: first) == [pipeline])
        #expect(graph.roots.count == 3)  // the pipeline, the failed and the incomplete probe

        let tree = graph.tree(from: [pipeline]).split(separator: "\n").map(String.init)
        #expect(tree.count == 3)
        #expect(tree[0].hasPrefix("Pipeline \(pipeline.hash.prefix(7)) success  Pipeline(first: "))
        #expect(tree[1].hasPrefix("├─ Probe \(first.hash.prefix(7)) success"))
        #expect(tree[2].hasPrefix("└─ Probe "))
        #expect(graph.tree().split(separator: "\n").count == 5)

        let dot = graph.dot()
        #expect(dot.hasPrefix("digraph steps {"))
        #expect(dot.contains("\"\(pipeline)\" -> \"\(first)\";"))
        #expect(dot.contains("label=\"Pipeline\\n\(pipeline.hash.prefix(7))\\nsuccess\""))
        #expect(dot.contains("\\nfailed\""))
        #expect(dot.components(separatedBy: " -> ").count - 1 == 2)
        let only = graph.dot(from: [first])
        #expect(!only.contains("->"))
        #expect(only.components(separatedBy: "[label=").count - 1 == 1)

        // A dependency whose result was removed shows as missing.
        try FileManager.default.removeItem(atPath: try fixture.pipeline.first.directory(options: fixture.options))
        let pruned = StepGraph(fixture.catalog.entries())
        #expect(pruned.tree(from: [pipeline]).contains("├─ Probe \(first.hash.prefix(7)) missing"))
        #expect(pruned.dot().contains("\\nmissing\""))
    }

    @Test("rm refuses a result a live process computes unless forced; a dry run keeps the files")
    func remove() async throws {
        let fixture = try await CatalogFixture()
        try fixture.withLiveLock()
        let catalog = fixture.catalog
        let locked = try catalog.resolve("Probe/\(try fixture.locked.hash)")
        let refused = #expect(throws: QuillError.self) { try catalog.remove(locked) }
        #expect(refused?.code == .conflict)
        #expect(refused?.message.contains("--force") == true)
        #expect(FileManager.default.fileExists(atPath: locked.directory))

        let failed = try catalog.resolve("Probe/\(try fixture.failed.hash)")
        let dry = try catalog.remove(failed, dryRun: true)
        #expect(!dry.removed)
        #expect(dry.bytes == failed.sizeBytes)
        #expect(FileManager.default.fileExists(atPath: failed.directory))
        let real = try catalog.remove(failed)
        #expect(real.removed)
        #expect(!FileManager.default.fileExists(atPath: failed.directory))

        let forced = try catalog.remove(locked, force: true)
        #expect(forced.removed)
        #expect(catalog.entries().count == 4)
        // Nothing is left aside in the namespace folder.
        let folder = (locked.directory as NSString).deletingLastPathComponent
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder)
        #expect(!leftovers.contains { $0.hasPrefix(".removing") })
        // Nothing is recorded any more, and the forced one computes again from scratch.
        #expect(try fixture.failed.metadata(options: fixture.options) == nil)
        #expect(try await fixture.locked.loadOrCreate(options: fixture.options) == 5)
    }

    @Test("gc needs a criterion, skips locked results, and removes failed, incomplete and old ones")
    func garbageCollection() async throws {
        let fixture = try await CatalogFixture()
        try fixture.withLiveLock()
        let catalog = fixture.catalog
        let none = #expect(throws: QuillError.self) { try catalog.collectGarbage(StepGCCriteria()) }
        #expect(none?.message.contains("--failed, --incomplete or --older-than") == true)

        let criteria = StepGCCriteria(failed: true, incomplete: true)
        let dry = try catalog.collectGarbage(criteria, dryRun: true)
        #expect(dry.removals.count == 2)
        #expect(dry.skipped.count == 1)
        #expect(dry.skipped.first?.reason.hasPrefix("locked by ") == true)
        #expect(dry.bytes > 2048)
        #expect(catalog.entries().count == 6)

        let report = try catalog.collectGarbage(criteria)
        #expect(Set(report.removals.map(\.status)) == [.failed, .incomplete])
        #expect(report.bytes == dry.bytes)
        #expect(catalog.entries().count == 4)

        #expect(try catalog.collectGarbage(StepGCCriteria(olderThan: 86_400)).removals.isEmpty)
        let later = Date().addingTimeInterval(2 * 86_400)
        let old = try catalog.collectGarbage(StepGCCriteria(olderThan: 86_400), now: later)
        #expect(old.removals.count == 3)
        #expect(old.skipped.count == 1)
        #expect(catalog.entries().map(\.hash) == [try fixture.locked.hash])
    }

    @Test("ages and times for --since, --before and --older-than")
    func times() {
        #expect(StepCatalog.parseAge("30d") == Double(30 * 86_400))
        #expect(StepCatalog.parseAge("1.5h") == 5400)
        #expect(StepCatalog.parseAge("2w") == Double(2 * 604_800))
        #expect(StepCatalog.parseAge("30") == nil)
        #expect(StepCatalog.parseAge("d") == nil)
        let now = Date()
        #expect(StepCatalog.parseTime("12h", now: now) == now.addingTimeInterval(-43_200))
        #expect(StepCatalog.parseTime("2026-11-24") == Timestamp.parse("2026-11-24T00:00:00Z"))
        #expect(StepCatalog.parseTime("yesterday") == nil)
    }
}
