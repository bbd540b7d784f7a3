import Foundation
import QuillCore
import QuillTesting
import Testing

/// `quill import` through the built binary: errors, the final line, `--json`, `--dry-run`.
@Suite(.serialized)
struct ImportCommandTests {
    let home = TemporaryDirectory("quill-import-cli")

    func quill(_ arguments: String...) async throws -> BuiltProducts.Result {
        try await BuiltProducts.run(
            BuiltProducts.path("quill"),
            arguments,
            environment: [
                "QUILL_HOME": home.path, "QUILL_CAPTURE_GIT": "0", "QUILL_CAPTURE_DEPS": "0",
                "QUILL_SYSTEM_METRICS_INTERVAL": "0", "QUILL_RUN_DIR": "", "QUILL_TRACKING_URI": "",
            ]
        )
    }

    @Test("a source that is not one gets one line that says what to pass")
    func errors() async throws {
        let empty = home.file("empty")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let text = try home.write("notes.txt", "not a database\n")
        let cases: [([String], String)] = [
            (
                ["mlflow", home.file("missing")],
                "no such file or folder: \(home.file("missing")); pass an mlruns folder"
            ),
            (["mlflow", text], "is neither an MLflow file store nor an MLflow SQLite database; pass an mlruns folder"),
            (
                ["mlflow", empty],
                "is not an MLflow file store (no experiment folder with a meta.yaml); pass the mlruns folder"
            ),
            (["mlflow", "sqlite:///" + home.file("none.db")], "no MLflow database at"),
            (["whirr", empty], "holds no whirr run folders and no whirr.db; pass whirr's data folder"),
            (["whirr", home.file("missing")], "no such folder"),
        ]
        for (arguments, message) in cases {
            let result = try await BuiltProducts.run(
                BuiltProducts.path("quill"),
                ["import"] + arguments + ["--data", home.file("server")],
                environment: ["QUILL_HOME": home.path]
            )
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(
                result.stderr.hasPrefix("error: ") && result.stderr.contains(message),
                "\(arguments): \(result.stderr)"
            )
            #expect(result.stderr.split(separator: "\n").count == 1, "\(arguments): \(result.stderr)")
            #expect(result.stdout.isEmpty)
        }
        #expect(!FileManager.default.fileExists(atPath: home.file("server/quill.db")))
        let missing = try await quill("import", "mlflow")
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("Missing expected argument"))
    }

    @Test(
        "run folders import through the binary: --json counts, a second import writes nothing, --dry-run writes nothing"
    )
    func whirrFolders() async throws {
        let demo = try await quill("demo", "--steps", "40", "--delay-ms", "0", "--name", "imported")
        #expect(demo.status == 0, "\(demo.stderr)")
        let data = home.file("server")
        let first = try await quill("import", "whirr", home.file("runs"), "--data", data, "--json")
        #expect(first.status == 0, "\(first.stderr)")
        let report = try JSONParser.parse(first.stdout)
        #expect(report["read"]?["runs"] == 1)
        #expect(report["written"]?["runs"] == 1)
        let points = try #require(report["read"]?["points"]?.intValue)
        #expect(points >= 40)
        #expect(report["written"]?["points"]?.intValue == points)
        #expect(report["dry_run"] == false)
        let second = try await quill("import", "whirr", home.file("runs"), "--data", data)
        #expect(second.status == 0, "\(second.stderr)")
        let line = second.stdout.trimmingCharacters(in: .newlines)
        #expect(line.hasPrefix("imported 1 experiment, 1 run, \(points) points, 1 artifact"), "\(line)")
        #expect(line.hasSuffix("(nothing new)"), "\(line)")
        let dry = home.file("dry")
        let counted = try await quill("import", "whirr", home.file("runs"), "--data", dry, "--dry-run", "--json")
        #expect(counted.status == 0, "\(counted.stderr)")
        let dryReport = try JSONParser.parse(counted.stdout)
        #expect(dryReport["dry_run"] == true)
        #expect(dryReport["read"]?["points"]?.intValue == points)
        #expect(dryReport["written"]?["runs"] == 0)
        #expect(!FileManager.default.fileExists(atPath: dry))
    }

    @Test("an MLflow file store through the binary: the final line gives the counts and what was skipped and why")
    func mlflowFinalLine() async throws {
        let work = TemporaryDirectory("mlflow-cli")
        _ = try await MLflowImportTests.fixture("file://" + work.file("mlruns"), work, points: 100)
        let result = try await quill("import", "mlflow", "file://" + work.file("mlruns"), "--data", home.file("server"))
        #expect(result.status == 0, "\(result.stderr)")
        let line = result.stdout.trimmingCharacters(in: .newlines)
        #expect(line.hasPrefix("imported 5 experiments, 8 runs, 154 points, 3 artifacts (all new)"), "\(line)")
        #expect(line.contains("skipped 1 artifact folder: s3:// URIs are not readable here"), "\(line)")
        #expect(!line.contains("\n"))
    }
}
