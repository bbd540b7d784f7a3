import Foundation
import QuillCore
import QuillTesting
import Testing

/// Runs the built `quill` binary with its own QUILL_HOME.
struct QuillBinary {
    let home: TemporaryDirectory

    init() {
        home = TemporaryDirectory("quill-cli")
    }

    var environment: [String: String] {
        [
            "QUILL_HOME": home.path, "QUILL_CAPTURE_GIT": "0", "QUILL_CAPTURE_DEPS": "0",
            "QUILL_SYSTEM_METRICS_INTERVAL": "0", "QUILL_RUN_DIR": "", "QUILL_TRACKING_URI": "",
            "PATH": BuiltProducts.directory + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"),
        ]
    }

    @discardableResult
    func run(_ arguments: String..., extra: [String: String] = [:]) throws -> BuiltProducts.Result {
        try BuiltProducts.run(
            BuiltProducts.path("quill"),
            arguments,
            environment: environment.merging(extra) { _, new in new }
        )
    }

    func json(_ arguments: String...) throws -> JSONValue {
        let result = try BuiltProducts.run(BuiltProducts.path("quill"), arguments, environment: environment)
        #expect(result.status == 0, "\(arguments): \(result.stderr)")
        return try JSONParser.parse(result.stdout)
    }

    var store: LocalRunStore { LocalRunStore(home: QuillHome(path: home.path)) }
}

@Suite("quill CLI")
struct CLITests {
    @Test("demo records a run that runs, show, compare and metrics read back")
    func demoAndReaders() throws {
        let quill = QuillBinary()
        let first = try quill.run("demo", "--steps", "20", "--delay-ms", "0", "--name", "baseline")
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("quill show baseline"))
        try quill.run("demo", "--steps", "20", "--delay-ms", "0", "--name", "baseline", "--lr", "0.05")

        let table = try quill.run("runs")
        let lines = table.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("NAME") == true)
        #expect(lines.count == 3)
        // Columns are aligned: STATUS starts at the same column in every line.
        let statusColumn = try #require(lines[0].range(of: "STATUS")).lowerBound.utf16Offset(in: lines[0])
        for line in lines.dropFirst() {
            #expect(line.dropFirst(statusColumn).hasPrefix("completed"), "\(line)")
        }

        let runs = try quill.json("runs", "--json")
        #expect(runs.arrayValue?.map { $0["name"] } == ["baseline_1", "baseline"])
        #expect(runs.arrayValue?.first?["status"] == "completed")

        let shown = try quill.json("show", "baseline", "--json")
        #expect(shown["config"]?["lr"] == 0.01)
        #expect(shown["metrics"]?["train/loss"]?["count"] == 20)
        #expect(shown["artifacts"]?.arrayValue?.first?["path"] == "model-card.md")
        let text = try quill.run("show", "baseline")
        for section in ["Run baseline", "Config", "Summary", "Metrics", "Artifacts", "train/loss"] {
            #expect(text.stdout.contains(section), "missing \(section)")
        }

        let compared = try quill.json("compare", "baseline", "baseline_1", "--json")
        let rows = try #require(compared["rows"]?.arrayValue)
        let lr = try #require(rows.first { $0["key"] == "config.lr" })
        #expect(lr["different"] == true)
        #expect(lr["values"] == [0.01, 0.05])
        #expect(rows.first { $0["key"] == "config.batch_size" }?["different"] == false)
        let compareText = try quill.run("compare", "baseline", "baseline_1")
        #expect(compareText.stdout.contains("*  config.lr"))

        let csv = try quill.run("metrics", "baseline", "--key", "val/loss")
        let csvLines = csv.stdout.split(separator: "\n")
        #expect(csvLines.first == "_idx,step,_timestamp,val/loss")
        #expect(csvLines.count == 11)
        let downsampled = try quill.run("metrics", "baseline", "--key", "train/loss", "--max-points", "6")
        #expect(downsampled.stdout.split(separator: "\n").count <= 7)
        #expect(downsampled.stdout.split(separator: "\n").count >= 4)
        let exported = try quill.json("metrics", "baseline", "--format", "json")
        #expect(exported.arrayValue?.count == 30)
    }

    @Test("filters on project, status and tag, and a limit")
    func filters() throws {
        let quill = QuillBinary()
        try quill.run("demo", "--steps", "2", "--delay-ms", "0", "--project", "vision")
        try quill.run("demo", "--steps", "2", "--delay-ms", "0", "--project", "nlp")
        try quill.run("demo", "--steps", "10", "--delay-ms", "0", "--project", "nlp", "--fail")
        #expect(try quill.json("runs", "--project", "nlp", "--json").arrayValue?.count == 2)
        #expect(try quill.json("runs", "--status", "failed", "--json").arrayValue?.count == 1)
        #expect(try quill.json("runs", "--tag", "team=quill", "--json").arrayValue?.count == 3)
        #expect(try quill.json("runs", "--tag", "team=other", "--json").arrayValue?.count == 0)
        #expect(try quill.json("runs", "--limit", "1", "--json").arrayValue?.count == 1)
        let nlp = try quill.json("runs", "--where", "project = nlp and status = completed", "--json")
        #expect(nlp.arrayValue?.count == 1)
        let lowLoss = try quill.json(
            "runs",
            "--where",
            "metrics.train/loss.min < 10 and params.batch_size = 64",
            "--json"
        )
        #expect(lowLoss.arrayValue?.count == 3)
        let sorted = try quill.json("runs", "--sort", "metrics.train/loss.count desc", "--json")
        #expect(sorted.arrayValue?.first?["status"] == "failed")  // the --fail run logged 10 steps before failing
        let query = try quill.run("runs", "--where", "metrics.loss.min <")
        #expect(query.status != 0)
        #expect(query.stderr.hasPrefix("error: invalid query at column 19"))
        #expect(query.stderr.contains("^"))
        let bad = try quill.run("runs", "--status", "exploded")
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("unknown status"))
    }

    @Test("an unknown run is an error that says how to list runs, as text or JSON")
    func unknownRun() throws {
        let quill = QuillBinary()
        let text = try quill.run("show", "nope")
        #expect(text.status == 1)
        #expect(text.stderr.hasPrefix("error: run 'nope' not found"))
        #expect(text.stderr.contains("quill runs"))
        let json = try quill.run("show", "nope", "--json")
        #expect(json.status == 1)
        let error = try JSONParser.parse(json.stdout)
        #expect(error["error"]?["code"] == "not_found")
    }
}

@Suite("quill run and quill log")
struct RunCommandTests {
    func onlyRun(_ quill: QuillBinary) throws -> LocalRun {
        let runs = quill.store.list().runs
        #expect(runs.count == 1)
        return try #require(runs.first)
    }

    @Test("exit code 0 completes the run; output is captured and still shown; the child logs into the run")
    func completed() throws {
        let quill = QuillBinary()
        let result = try quill.run(
            "run",
            "--name",
            "shell",
            "--project",
            "scripts",
            "--tag",
            "kind:shell",
            "--config",
            "lr=0.1",
            "--config",
            "opt=adam",
            "--",
            "sh",
            "-c",
            "echo hello; echo oops >&2; quill log loss=0.5 acc=nan --step 3; quill log --summary best=0.9; echo $QUILL_RUN_ID"
        )
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("hello"))
        #expect(result.stderr.contains("oops"))
        let run = try onlyRun(quill)
        #expect(run.meta.status == .completed)
        #expect(run.meta.exitCode == 0)
        #expect(run.meta.name == "shell")
        #expect(run.meta.summary["best"] == 0.9)
        #expect(run.meta.tagValues["kind"] == "shell")
        #expect(result.stdout.contains(run.meta.id.rawValue))
        #expect(try run.directory.readConfig() == ["lr": 0.1, "opt": "adam"])
        let log = try run.directory.readLog().map(\.message)
        #expect(log.contains("hello"))
        #expect(log.contains("oops"))
        let rows = try run.directory.readMetricRows().rows
        #expect(rows.count == 1)
        #expect(rows[0].step == 3)
        #expect(rows[0].values["acc"]?.isNaN == true)
    }

    @Test("a non-zero exit code fails the run and becomes quill's exit code")
    func failed() throws {
        let quill = QuillBinary()
        let result = try quill.run("run", "--", "sh", "-c", "exit 3")
        #expect(result.status == 3)
        let run = try onlyRun(quill)
        #expect(run.meta.status == .failed)
        #expect(run.meta.exitCode == 3)
    }

    @Test(
        "a command ended by SIGTERM is killed; by SIGSEGV, crashed; the signal is recorded",
        arguments: [
            ("TERM", SIGTERM, RunStatus.killed), ("KILL", SIGKILL, .killed), ("SEGV", SIGSEGV, .crashed),
        ]
    )
    func signalled(name: String, number: Int32, status: RunStatus) throws {
        let quill = QuillBinary()
        let result = try quill.run("run", "--", "sh", "-c", "kill -\(name) $$; sleep 5")
        #expect(result.status == 128 + number)
        let run = try onlyRun(quill)
        #expect(run.meta.status == status)
        #expect(run.meta.signal == number)
    }

    @Test("a missing command fails the run with exit code 127 and says so")
    func missingCommand() throws {
        let quill = QuillBinary()
        let result = try quill.run("run", "--", "definitely-not-a-command-xyz")
        #expect(result.status == 127)
        #expect(result.stderr.contains("not found"))
        #expect(try onlyRun(quill).meta.status == .failed)
    }

    @Test("the Swift SDK inside `quill run` logs into the same run instead of starting another")
    func attach() throws {
        let quill = QuillBinary()
        let result = try quill.run(
            "run",
            "--name",
            "outer",
            "--",
            "quill",
            "demo",
            "--steps",
            "5",
            "--delay-ms",
            "0",
            extra: ["QUILL_SYSTEM_METRICS_INTERVAL": "0"]
        )
        #expect(result.status == 0, "\(result.stderr)")
        let run = try onlyRun(quill)
        #expect(run.meta.name == "outer")
        #expect(run.meta.status == .completed)
        #expect(run.meta.summary["steps"] == 5)
        #expect(try run.directory.readMetricRows().rows.count == 10)
        #expect(try run.directory.readConfig()["batch_size"] == 64)
    }

    @Test("quill log without a run says what to set; bad values are refused")
    func logErrors() throws {
        let quill = QuillBinary()
        let noRun = try quill.run("log", "loss=1")
        #expect(noRun.status != 0)
        #expect(noRun.stderr.contains("QUILL_RUN_DIR"))
        let bad = try quill.run("log", "loss=abc", "--run-dir", quill.home.path)
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("not a number"))
    }
}

@Suite("Crashes and signals through real processes")
struct CrashTests {
    /// Starts `quill demo` logging for a long time and returns once its run has `rows` rows on disk.
    func startLongDemo(_ quill: QuillBinary, name: String, rows: Int) async throws -> Process {
        let process = try BuiltProducts.start(
            BuiltProducts.path("quill"),
            ["demo", "--steps", "1000000", "--delay-ms", "1", "--name", name],
            environment: quill.environment
        )
        let started = await eventually(timeout: .seconds(30)) {
            ((try? quill.store.resolve(name, repair: false).directory.readMetricRows().rows.count) ?? 0) >= rows
        }
        #expect(started)
        return process
    }

    @Test("a logging process killed with SIGKILL leaves a run that reads back and is reported crashed")
    func sigkill() async throws {
        let quill = QuillBinary()
        let process = try await startLongDemo(quill, name: "victim", rows: 20)
        kill(process.processIdentifier, SIGKILL)
        await process.ended()
        let run = try quill.store.resolve("victim")
        #expect(run.meta.status == .crashed)
        #expect(try run.directory.readMeta().status == .crashed)
        let (rows, diagnostics) = try run.directory.readMetricRows()
        #expect(rows.count >= 20)
        #expect(diagnostics.malformedLines == 0)
        #expect(rows.map(\.index) == Array(0..<rows.count))
        let shown = try quill.json("show", "victim", "--json")
        #expect(shown["status"] == "crashed")
    }

    @Test("SIGTERM to a program using the SDK closes its run as killed")
    func sigterm() async throws {
        let quill = QuillBinary()
        let process = try await startLongDemo(quill, name: "stopped", rows: 5)
        kill(process.processIdentifier, SIGTERM)
        await process.ended()
        #expect(process.terminationReason == .uncaughtSignal)
        #expect(process.terminationStatus == SIGTERM)
        let meta = try quill.store.resolve("stopped").meta
        #expect(meta.status == .killed)
        #expect(meta.signal == SIGTERM)
        #expect(meta.finishedAt != nil)
    }

    @Test("a program that exits without finishing its run leaves it crashed, closed by the exit hook")
    func abandoned() throws {
        let quill = QuillBinary()
        let result = try quill.run("demo", "--steps", "5", "--delay-ms", "0", "--name", "abandoned", "--abandon")
        #expect(result.status == 0)
        let meta = try quill.store.resolve("abandoned", repair: false).meta
        #expect(meta.status == .crashed)
        #expect(meta.error?.contains("without finishing") == true)
    }
}
