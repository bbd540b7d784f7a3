import Testing

@testable import QuillImport

/// The `meta.yaml` reader against what PyYAML's `safe_dump` (as MLflow calls it) writes.
struct MLflowYAMLTests {
    @Test("scalars as PyYAML writes them: plain, quoted, folded, escaped, null")
    func scalars() {
        // Written by `yaml.safe_dump(d, default_flow_style=False, allow_unicode=True)`.
        let text = """
            e: ''
            hash: '# x'
            i: 12
            lead: ' lead'
            ml: 'line one

              line two'
            n: null
            name: a very long experiment name that goes on and on and on and on and on beyond
              eighty columns surely
            neg: -3
            num: '0123'
            q: 'it''s: here'
            t: 'true'
            tab: "a\\tb\\x01"
            u: 'ünïcode: ok'
            tags: []
            artifact_uri: file:///tmp/mlfx/mlruns/833263531131506097/0dccc86cefc0434c992d4453c8609252/artifacts
            experiment_id: '833263531131506097'

            """
        let mapping = MLflowYAML.parse(text)
        #expect(mapping["e"] == .some(""))
        #expect(mapping["hash"] == .some("# x"))
        #expect(mapping["i"] == .some("12"))
        #expect(mapping["lead"] == .some(" lead"))
        #expect(mapping["ml"] == .some("line one\nline two"))
        #expect(mapping["n"] == .some(nil))
        #expect(
            mapping["name"]
                == .some(
                    "a very long experiment name that goes on and on and on and on and on beyond eighty columns surely"
                )
        )
        #expect(mapping["neg"] == .some("-3"))
        #expect(mapping["num"] == .some("0123"))
        #expect(mapping["q"] == .some("it's: here"))
        #expect(mapping["t"] == .some("true"))
        #expect(mapping["tab"] == .some("a\tb\u{01}"))
        #expect(mapping["u"] == .some("ünïcode: ok"))
        #expect(mapping["tags"] == .some("[]"))
        #expect(
            mapping["artifact_uri"]
                == .some("file:///tmp/mlfx/mlruns/833263531131506097/0dccc86cefc0434c992d4453c8609252/artifacts")
        )
        #expect(mapping["experiment_id"] == .some("833263531131506097"))
    }

    @Test("the final line names counts and skips, merged by reason")
    func summary() {
        var report = ImportReport(source: "x", dryRun: false)
        report.read.experiments = 2
        report.read.runs = 1
        report.read.points = 12_345
        report.read.artifacts = 3
        report.written = report.read
        report.skip([ImportSkip("artifact folders", reason: "s3:// URIs are not readable here")])
        report.skip([ImportSkip("artifact folders", reason: "s3:// URIs are not readable here")])
        #expect(
            report.summary
                == "imported 2 experiments, 1 run, 12,345 points, 3 artifacts (all new); skipped 2 artifact folders: s3:// URIs are not readable here"
        )
    }
}
