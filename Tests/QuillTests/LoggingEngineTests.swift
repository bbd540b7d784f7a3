import Foundation
import QuillCore
import QuillTesting
import Testing

@testable import Quill

@Suite("SDK: the logging engine")
struct LoggingEngineTests {
    @Test("concurrent logging from many tasks loses no row; _idx is unique and increasing in file order")
    func concurrentTasks() async throws {
        let temp = TemporaryDirectory()
        var options = testOptions(temp)
        options.batchRows = 512
        options.bufferCapacity = 2048
        let run = try Quill.startRun(options: options)
        let tasks = 16
        let perTask = 5000
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<tasks {
                group.addTask {
                    for step in 0..<perTask {
                        try run.log(["task": Double(task), "step_value": Double(step)], step: step)
                    }
                }
            }
            try await group.waitForAll()
        }
        try run.finish()
        let rows = try run.readMetrics()
        #expect(rows.count == tasks * perTask)
        #expect(rows.map(\.index) == Array(0..<(tasks * perTask)))
        // Each task's own rows keep their order.
        var lastStep = [Double: Double]()
        for row in rows {
            let task = try #require(row.values["task"])
            let step = try #require(row.values["step_value"])
            #expect(step == (lastStep[task] ?? -1) + 1)
            lastStep[task] = step
        }
    }

    @Test("a tiny buffer applies back-pressure and still drops nothing")
    func backPressure() throws {
        let temp = TemporaryDirectory()
        var options = testOptions(temp)
        options.batchRows = 4
        options.bufferCapacity = 8
        let run = try Quill.startRun(options: options)
        for step in 0..<50_000 {
            try run.log(["x": Double(step)], step: step)
        }
        try run.finish()
        let rows = try run.readMetrics()
        #expect(rows.count == 50_000)
        #expect(rows.last?.values["x"] == 49_999)
    }

    @Test("flush is a barrier: when it returns, every row logged before it is in the file")
    func flushBarrier() throws {
        let temp = TemporaryDirectory()
        let run = try Quill.startRun(options: testOptions(temp))
        for round in 0..<5 {
            for step in 0..<1000 { try run.log(["x": Double(step)], step: round * 1000 + step) }
            try run.flush(durable: round == 4)
            #expect(try run.directory.readMetricRows().rows.count == (round + 1) * 1000)
        }
        try run.finish()
    }

    @Test("a row reaches the file within the flush interval without an explicit flush")
    func flushInterval() async throws {
        let temp = TemporaryDirectory()
        var options = testOptions(temp)
        options.flushInterval = .milliseconds(50)
        let run = try Quill.startRun(options: options)
        try run.log(["x": 1], step: 0)
        let written = await eventually(timeout: .seconds(5)) {
            (try? run.directory.readMetricRows().rows.count) == 1
        }
        #expect(written)
        try run.finish()
    }

    @Test("resume continues _idx and supersedes rows at and after the declared step")
    func resume() throws {
        let temp = TemporaryDirectory()
        let options = testOptions(temp)
        let first = try Quill.startRun(name: "resumable", options: options)
        for step in 0..<100 { try first.log(["loss": 1.0], step: step) }
        try first.finish(.crashed)

        let resumed = try Quill.resumeRun("resumable", fromStep: 50, options: options)
        #expect(resumed.id == first.id)
        for step in 50..<120 { try resumed.log(["loss": 2.0], step: step) }
        try resumed.finish()

        let meta = try first.directory.readMeta()
        #expect(meta.status == .completed)
        #expect(meta.resumes.count == 1)
        #expect(meta.resumes[0].atIndex == 100)
        let all = try first.directory.readMetricRows().rows
        #expect(all.count == 170)
        #expect(all.map(\.index) == Array(0..<170))
        let surviving = try first.directory.readMetrics().rows
        #expect(surviving.map(\.step) == Array(0..<120))
        #expect(surviving.filter { $0.values["loss"] == 1.0 }.count == 50)
        #expect(try first.directory.readEvents().events.contains { $0.kind == .resume })
    }

    @Test("resuming without a step keeps every earlier row; a live run cannot be resumed")
    func resumeWithoutStep() throws {
        let temp = TemporaryDirectory()
        let options = testOptions(temp)
        let run = try Quill.startRun(name: "live", options: options)
        try run.log("loss", 1, step: 0)
        #expect(throws: QuillError.self) { try Quill.resumeRun("live", options: options) }
        try run.finish()
        let resumed = try Quill.resumeRun("live", options: options)
        try resumed.log("loss", 2, step: 0)
        try resumed.finish()
        #expect(try run.directory.readMetrics().rows.count == 2)
    }

    @Test("the writer reports a failure instead of dropping rows silently")
    func writerFailure() throws {
        let temp = TemporaryDirectory()
        let run = try Quill.startRun(options: testOptions(temp))
        // Make meta.json updates fail: replace the run folder's lock file with a directory.
        try FileManager.default.removeItem(atPath: run.directory.lockPath)
        try FileManager.default.createDirectory(atPath: run.directory.lockPath, withIntermediateDirectories: false)
        try run.logParam("a", 1)
        do {
            try run.flush()
            Issue.record("flush should report the writer failure")
        } catch let error as QuillError {
            #expect(error.code == .writerFailed)
        }
        #expect(throws: QuillError.self) { try run.log("x", 1) }
    }
}

@Suite("SDK: artifacts")
struct ArtifactTests {
    @Test("a file is copied, the source untouched; relative paths keep their layout; overrides apply")
    func files() throws {
        let temp = TemporaryDirectory()
        let work = TemporaryDirectory("quill-work")
        try work.write("checkpoints/epoch1/model.bin", "weights")
        let absolute = try work.write("report.html", "<html>")
        let run = try Quill.startRun(options: testOptions(temp))
        let kept = try run.logArtifact(
            "checkpoints/epoch1/model.bin",
            name: nil,
            fileName: nil,
            workingDirectory: work.path
        )
        let renamed = try run.logArtifact(absolute, name: "reports/eval", fileName: "eval.html")
        let plain = try run.logArtifact(absolute)
        try run.finish()
        #expect(kept.path == "checkpoints/epoch1/model.bin")
        #expect(kept.size == 7)
        #expect(renamed.path == "reports/eval/eval.html")
        #expect(renamed.name == "reports/eval")
        #expect(plain.path == "report.html")
        #expect(
            run.directory.listArtifacts().map(\.path) == [
                "checkpoints/epoch1/model.bin", "report.html", "reports/eval/eval.html",
            ]
        )
        #expect(try String(contentsOfFile: work.file("checkpoints/epoch1/model.bin"), encoding: .utf8) == "weights")
        let events = try run.directory.readEvents().events.filter { $0.kind == .artifact }
        #expect(events.count == 3)
    }

    @Test("a folder is copied whole")
    func folder() throws {
        let temp = TemporaryDirectory()
        let work = TemporaryDirectory("quill-work")
        try work.write("out/a.txt", "a")
        try work.write("out/sub/b.txt", "bb")
        let run = try Quill.startRun(options: testOptions(temp))
        let record = try run.logArtifact(work.file("out"))
        try run.finish()
        #expect(record.size == 3)
        #expect(run.directory.listArtifacts().map(\.path) == ["out/a.txt", "out/sub/b.txt"])
    }

    @Test(
        "names that would leave artifacts/ are refused, and nothing is written outside",
        arguments: [
            ("../escape", nil as String?), ("/etc", nil), ("ok", "../x"), ("ok", "a/b"), ("nul\0byte", nil),
            ("a/../../b", nil),
        ]
    )
    func traversal(name: String, fileName: String?) throws {
        let temp = TemporaryDirectory()
        let work = TemporaryDirectory("quill-work")
        let source = try work.write("f.txt", "x")
        let run = try Quill.startRun(options: testOptions(temp))
        do {
            try run.logArtifact(source, name: name, fileName: fileName)
            Issue.record("expected \(name)/\(fileName ?? "-") to be refused")
        } catch let error as QuillError {
            #expect(error.code == .invalidArgument)
        }
        try run.finish()
        #expect(run.directory.listArtifacts().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: run.directory.path + "/escape"))
    }

    @Test("a missing source says so")
    func missing() throws {
        let temp = TemporaryDirectory()
        let run = try Quill.startRun(options: testOptions(temp))
        do {
            try run.logArtifact(temp.file("nope.bin"))
            Issue.record("expected not found")
        } catch let error as QuillError {
            #expect(error.code == .notFound)
        }
        try run.finish()
    }
}

@Suite("SDK: environment capture and system metrics")
struct CaptureTests {
    func git(_ arguments: [String], in directory: String) async throws {
        let result = try await BuiltProducts.run(
            "/usr/bin/env",
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main"] + arguments,
            directory: directory
        )
        #expect(result.status == 0, "git \(arguments): \(result.stderr)")
    }

    @Test("git commit, branch, dirty flag, remote and the uncommitted diff are recorded")
    func gitCapture() async throws {
        let temp = TemporaryDirectory()
        let repo = TemporaryDirectory("quill-repo")
        try await git(["init", "-q"], in: repo.path)
        try repo.write("train.py", "print(1)\n")
        try await git(["add", "."], in: repo.path)
        try await git(["commit", "-q", "-m", "first"], in: repo.path)
        try await git(["remote", "add", "origin", "https://example.org/repo.git"], in: repo.path)
        try repo.write("train.py", "print(2)\n")
        var options = testOptions(temp)
        options.captureGit = true
        options.workingDirectory = repo.path
        let run = try Quill.startRun(options: options)
        try run.finish()
        let git = try #require(try run.directory.readMeta().git)
        #expect(git.commit.count == 40)
        #expect(git.branch == "main")
        #expect(git.dirty)
        #expect(git.remote == "https://example.org/repo.git")
        let diff = try String(contentsOfFile: run.directory.file("git.diff"), encoding: .utf8)
        #expect(diff.contains("+print(2)"))
    }

    @Test("outside a git checkout nothing is recorded and nothing fails")
    func noGit() throws {
        let temp = TemporaryDirectory()
        var options = testOptions(temp)
        options.captureGit = true
        options.workingDirectory = temp.path
        let run = try Quill.startRun(options: options)
        try run.finish()
        #expect(try run.directory.readMeta().git == nil)
    }

    @Test("host capture records this process")
    func host() throws {
        let temp = TemporaryDirectory()
        let run = try Quill.startRun(options: testOptions(temp))
        try run.finish()
        let host = try #require(try run.directory.readMeta().host)
        #expect(host.pid == getpid())
        #expect(host.processStartTicks != nil)
        #expect(!host.hostname.isEmpty)
        #expect(!host.os.isEmpty)
        #expect(host.swiftVersion.hasPrefix("6"))
        #expect(!host.commandLine.isEmpty)
    }

    @Test("Package.resolved of the enclosing package, or pip freeze in a virtualenv, is snapshotted")
    func dependencies() throws {
        let package = TemporaryDirectory("quill-pkg")
        try package.write("Package.swift", "// swift-tools-version: 6.2\n")
        try package.write("Package.resolved", #"{"pins": []}"#)
        try package.write("Sources/App/main.swift", "")
        let found = try #require(EnvironmentCapture.dependencies(in: package.file("Sources/App"), environment: [:]))
        #expect(found.fileName == "Package.resolved")
        #expect(String(decoding: found.bytes, as: UTF8.self) == #"{"pins": []}"#)

        let venv = TemporaryDirectory("quill-venv")
        let python = try venv.write(
            "bin/python",
            "#!/bin/sh\n[ \"$1 $2 $3\" = \"-m pip freeze\" ] && echo 'numpy==2.0.0'\n"
        )
        chmod(python, 0o755)
        let frozen = try #require(
            EnvironmentCapture.dependencies(in: package.path, environment: ["VIRTUAL_ENV": venv.path])
        )
        #expect(frozen.fileName == "requirements.txt")
        #expect(String(decoding: frozen.bytes, as: UTF8.self) == "numpy==2.0.0\n")
        #expect(EnvironmentCapture.dependencies(in: "/", environment: [:]) == nil)
    }

    @Test("the system sampler writes CPU, memory and RSS samples to system.jsonl")
    func systemSampler() async throws {
        let temp = TemporaryDirectory()
        var options = testOptions(temp)
        options.systemMetricsInterval = .milliseconds(20)
        let run = try Quill.startRun(options: options)
        let sampled = await eventually(timeout: .seconds(10)) {
            ((try? run.directory.readSystem().samples.count) ?? 0) >= 3
        }
        try run.finish()
        #expect(sampled)
        let samples = try run.directory.readSystem().samples
        let last = try #require(samples.last)
        #expect(last.values["memory_percent"].map { $0 > 0 && $0 <= 100 } == true)
        #expect(last.values["process_rss_mb"].map { $0 > 1 } == true)
        #expect(last.values["cpu_percent"] != nil)
        #expect(
            last.values.keys.allSatisfy { !$0.hasPrefix("gpu") } || ProcessCapture.findExecutable("nvidia-smi") != nil
        )
    }
}

@Suite("SDK: huge payloads")
struct HugePayloadTests {
    @Test("a row with 100,000 keys and a 1 MiB key name round-trips")
    func hugeRow() throws {
        let temp = TemporaryDirectory()
        let run = try Quill.startRun(options: testOptions(temp))
        var wide: [String: Double] = [:]
        for index in 0..<100_000 { wide["m\(index)"] = Double(index) }
        let longKey = String(repeating: "k", count: 1 << 20)
        try run.log(wide, step: 0)
        try run.log([longKey: 1.5], step: 1)
        try run.logSummary(["blob": .string(String(repeating: "x", count: 1 << 20))])
        try run.finish()
        let rows = try run.readMetrics()
        #expect(rows.count == 2)
        #expect(rows[0].values.count == 100_000)
        #expect(rows[0].values["m99999"] == 99_999)
        #expect(rows[1].values[longKey] == 1.5)
        #expect(try run.directory.readMeta().summary["blob"]?.stringValue?.count == 1 << 20)
    }
}

@Suite("SDK: rows built at run time (the C ABI's log path)")
struct ListRowTests {
    @Test("log(list:step:) writes the pairs in the caller's order, with NaN, and the snapshot's last row has them")
    func listRows() throws {
        let temp = TemporaryDirectory()
        let run = try Quill.startRun(options: testOptions(temp))
        try run.log(list: [("zeta", 1.0), ("alpha", .nan), ("mid", -2.5)], step: 7)
        try run.log(list: [("alpha", 3.0)], step: nil)
        try run.flush()
        #expect(run.snapshot().lastValues == ["alpha": 3.0])
        try run.finish()
        let bytes = try #require(try FileIO.read(run.directory.metricsPath))
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[0].hasSuffix(#""step":7,"zeta":1.0,"alpha":"NaN","mid":-2.5}"#))
        let rows = try run.readMetrics()
        #expect(rows.map(\.step) == [7, nil])
        #expect(rows[0].values["mid"] == -2.5 && rows[0].values["alpha"]?.isNaN == true)
        #expect(throws: QuillError.self) { try run.log(list: [("x", 1)], step: 0) }
    }

    @Test("log(rows:) queues every row in order under one lock, empty rows included")
    func batchRows() throws {
        let temp = TemporaryDirectory()
        let run = try Quill.startRun(options: testOptions(temp))
        try run.log(rows: [(1, [("b", 2), ("a", 1)]), (nil, []), (-3, [("c", .infinity)])])
        try run.log(rows: [])
        try run.finish()
        let rows = try run.readMetrics()
        #expect(rows.map(\.step) == [1, nil, -3])
        #expect(rows.map(\.values) == [["a": 1, "b": 2], [:], ["c": .infinity]])
        #expect(throws: QuillError.self) { try run.log(rows: [(0, [("x", 1)])]) }
    }
}
