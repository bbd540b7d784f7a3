import Foundation
import QuillCore
import QuillTesting
import Testing

@Suite("Model types")
struct ModelTests {
    @Test(
        "a string names a known kind case-insensitively; anything else is a custom kind",
        arguments: [
            ("training", RunKind.training), ("TRAINING", .training), ("Evaluation", .evaluation), ("eval", .evaluation),
            ("compile", .compile), ("Quantize", .quantize), ("benchmark", .benchmark), ("distill", .custom("distill")),
            ("  Distill  ", .custom("Distill")),
        ]
    )
    func kindCoercion(label: String, kind: RunKind) {
        #expect(RunKind(label) == kind)
    }

    @Test("custom kinds keep their label")
    func customLabel() {
        #expect(RunKind("sweep-agent").label == "sweep-agent")
        #expect(RunKind("sweep-agent").isCustom)
        #expect(!RunKind.training.isCustom)
    }

    @Test(
        "project slugs are derived from display names",
        arguments: [
            ("Image Classifier", "image-classifier"), ("  NLP / v2 (final) ", "nlp-v2-final"), ("mnist", "mnist"),
            ("Ünïcode Prøject", "n-code-pr-ject"),
        ]
    )
    func slugs(name: String, slug: String) {
        #expect(Project(displayName: name).slug == slug)
    }

    @Test("a name with no ASCII letters still gets a stable slug")
    func unicodeSlug() {
        let slug = Project.slug(for: "日本語")
        #expect(slug.hasPrefix("p-"))
        #expect(slug == Project.slug(for: "日本語"))
    }

    @Test("run ids are eight lowercase letters and digits; ids with path characters are refused")
    func runIDs() {
        let id = RunID.random()
        #expect(id.rawValue.count == 8)
        #expect(id.rawValue.allSatisfy { $0.isLowercase || $0.isNumber })
        #expect(RunID("..") == nil)
        #expect(RunID("a/b") == nil)
        #expect(RunID("") == nil)
        #expect(RunID("local-20261124-101500-ab12cd") != nil)
    }

    @Test("timestamps format with microseconds in UTC and parse back")
    func timestamps() throws {
        let date = Date(timeIntervalSince1970: 1_795_536_000.123456)
        let text = Timestamp.string(date)
        #expect(text == "2026-11-24T16:00:00.123456Z")
        let parsed = try #require(Timestamp.parse(text))
        #expect(abs(parsed.timeIntervalSince(date)) < 1e-6)
        #expect(Timestamp.parse("2026-11-24T16:00:00.123456+00:00") == parsed)
        #expect(Timestamp.parse("2026-11-24T17:00:00.123456+01:00") == parsed)
        #expect(Timestamp.parse("2024-02-29T00:00:00Z") != nil)
        #expect(Timestamp.parse("1969-12-31T23:59:59.5Z")?.timeIntervalSince1970 == -0.5)
        #expect(Timestamp.parse("not a date") == nil)
        #expect(Timestamp.parse("2026-13-01T00:00:00Z") == nil)
    }

    @Test("metric statistics ignore NaN for min and max")
    func statistics() {
        let rows = [
            MetricRow(index: 0, timestamp: Date(), step: 0, values: ["loss": 2, "acc": .nan]),
            MetricRow(index: 1, timestamp: Date(), step: 1, values: ["loss": .nan]),
            MetricRow(index: 2, timestamp: Date(), step: 2, values: ["loss": 1]),
        ]
        let stats = MetricStatistics.compute(rows)
        #expect(stats["loss"]?.count == 3)
        #expect(stats["loss"]?.min == 1)
        #expect(stats["loss"]?.max == 2)
        #expect(stats["loss"]?.lastStep == 2)
        #expect(stats["acc"]?.last.isNaN == true)
    }

    @Test("meta.json keeps whirr's fields, Quill's fields and unknown fields through a round trip")
    func metaRoundTrip() throws {
        var meta = RunMeta(
            id: try #require(RunID("abc12345")),
            name: "baseline",
            project: Project(displayName: "Vision"),
            kind: .custom("distill"),
            parent: RunID("parent01"),
            startedAt: Date(timeIntervalSince1970: 1_700_000_000)
        )
        meta.setTag("baseline", "")
        meta.setTag("team", "vision")
        meta.setTag("team", "nlp")
        meta.summary = ["best": .double(.nan), "final": 0.5]
        meta.params = ["lr": 0.01]
        meta.links = [RunLink(label: "paper", url: "https://example.org", timestamp: meta.startedAt)]
        meta.git = GitInfo(
            commit: "0123456789abcdef",
            branch: "main",
            dirty: true,
            remote: "git@x:y.git",
            diffFile: "git.diff"
        )
        meta.resumes = [ResumePoint(atIndex: 10, fromStep: 5, timestamp: meta.startedAt)]
        meta.status = .completed
        meta.finishedAt = Date(timeIntervalSince1970: 1_700_000_090)
        meta.extra = ["other_tool_field": "kept"]
        let json = meta.json
        #expect(json["run_id"] == "abc12345")
        #expect(json["id"] == "abc12345")
        #expect(json["duration_seconds"] == .double(90))
        #expect(json["tags"] == ["baseline", "team:nlp"])
        #expect(json["git_info"]?["short_hash"] == "0123456")
        #expect(json["config_file"] == "config.json")
        let text = JSONWriter.string(json)
        let back = try RunMeta(json: try JSONParser.parse(text), directoryName: "abc12345")
        #expect(back.tagValues == ["baseline": "", "team": "nlp"])
        #expect(back.summary["best"]?.doubleValue?.isNaN == true)
        #expect(back.kind == .custom("distill"))
        #expect(back.parent == RunID("parent01"))
        #expect(back.git == meta.git)
        #expect(back.resumes == meta.resumes)
        #expect(back.extra == ["other_tool_field": "kept"])
        #expect(back.durationSeconds == 90)
    }

    @Test("a whirr meta.json reads")
    func whirrMeta() throws {
        let text = """
            {"id": "local-20261124-101500-ab12cd", "name": "w", "tags": ["a", "k:v"], "started_at": "2026-11-24T10:15:00.5+00:00",
             "finished_at": null, "status": "completed", "summary": {"loss": 0.1}, "config_file": "config.json",
             "metrics_file": "metrics.jsonl", "artifacts_dir": "artifacts",
             "git": {"commit": "abc", "short_hash": "abc", "branch": "main", "dirty": false, "remote": null}}
            """
        let meta = try RunMeta(json: try JSONParser.parse(text), directoryName: "x")
        #expect(meta.id.rawValue == "local-20261124-101500-ab12cd")
        #expect(meta.tagValues == ["a": "", "k": "v"])
        #expect(meta.git?.branch == "main")
        #expect(meta.status == .completed)
        #expect(meta.project == "default")
    }
}
