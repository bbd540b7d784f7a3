import Foundation
import QuillCore
import QuillTesting
import Testing

/// `quill run --attach`: the command runs in an existing run directory another process owns (a job's, as the
/// batch script of a SLURM job runs it on the node), without starting a run, uploading or setting the status.
@Suite("quill run --attach")
struct RunAttachTests {
    /// A job's run directory as a worker leaves it for the command: `meta.json` (running) and `config.json`.
    static func jobDirectory(_ quill: QuillBinary) throws -> RunDirectory {
        let id = RunID.random()
        let directory = RunDirectory(path: quill.home.file("worker-runs/\(id.rawValue)"))
        try FileManager.default.createDirectory(atPath: directory.artifactsPath, withIntermediateDirectories: true)
        let meta = RunMeta(
            id: id,
            name: "job-1",
            project: Project(displayName: Project.defaultName),
            kind: .training,
            parent: nil,
            startedAt: Date()
        )
        try FileIO.replaceAtomically(directory.configPath, with: Array("{}".utf8))
        try directory.writeMeta(meta)
        return directory
    }

    static func log(_ directory: RunDirectory) throws -> [String] {
        try directory.readLog().map(\.message)
    }

    @Test("the command's output goes into output.log once, its exit code into meta.json; the status stays the owner's")
    func outputAndExitCode() throws {
        let quill = QuillBinary()
        let directory = try Self.jobDirectory(quill)
        let result = try quill.run(
            "run",
            "--attach",
            "--",
            "sh",
            "-c",
            "echo out; echo err >&2; exit 3",
            extra: ["QUILL_RUN_DIR": directory.path]
        )
        #expect(result.status == 3, "\(result.stderr)")
        #expect(result.stdout == "out\n")
        #expect(result.stderr.contains("quill: the command exited with code 3"), "\(result.stderr)")
        let lines = try Self.log(directory)
        #expect(lines.filter { $0 == "out" }.count == 1 && lines.filter { $0 == "err" }.count == 1, "\(lines)")
        let meta = try directory.readMeta()
        #expect(meta.status == .running)
        #expect(meta.exitCode == 3)
        // quill started no run of its own.
        #expect(quill.store.list().runs.isEmpty)
    }

    @Test("when quill's output already is the run's output.log (a SLURM output file), each line is written once")
    func outputAlreadyTheLog() throws {
        let quill = QuillBinary()
        let directory = try Self.jobDirectory(quill)
        let result = try BuiltProducts.run(
            "/bin/sh",
            [
                "-c",
                "exec \"$0\" run --attach -- sh -c 'echo once; echo twice-no >&2' >>\"$QUILL_RUN_DIR/output.log\" 2>&1",
                BuiltProducts.path("quill"),
            ],
            environment: quill.environment.merging(["QUILL_RUN_DIR": directory.path]) { _, new in new }
        )
        #expect(result.status == 0, "\(result.stderr)")
        let lines = try Self.log(directory)
        #expect(lines.filter { $0 == "once" }.count == 1, "\(lines)")
        #expect(lines.filter { $0 == "twice-no" }.count == 1, "\(lines)")
    }

    @Test("SIGTERM sent to quill reaches the command's process group; quill exits as the command did")
    func signalsReachTheCommand() throws {
        let quill = QuillBinary()
        let directory = try Self.jobDirectory(quill)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BuiltProducts.path("quill"))
        process.arguments = [
            "run", "--attach", "--", "sh", "-c",
            "trap 'echo got-term; exit 7' TERM; echo ready; while :; do sleep 0.1; done",
        ]
        process.environment = ProcessInfo.processInfo.environment.merging(quill.environment) { _, new in new }
            .merging(["QUILL_RUN_DIR": directory.path]) { _, new in new }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, (try? Self.log(directory).contains("ready")) != true {
            Thread.sleep(forTimeInterval: 0.05)
        }
        try #require(try Self.log(directory).contains("ready"), "the command did not start within 30 s")
        process.terminate()
        let ended = Date().addingTimeInterval(30)
        while Date() < ended, process.isRunning { Thread.sleep(forTimeInterval: 0.05) }
        try #require(!process.isRunning, "quill did not end within 30 s of SIGTERM")
        #expect(process.terminationStatus == 7)
        #expect(try Self.log(directory).contains("got-term"))
        #expect(try directory.readMeta().exitCode == 7)
    }

    @Test("without QUILL_RUN_DIR, --attach says what it needs")
    func needsRunDirectory() throws {
        let quill = QuillBinary()
        let result = try quill.run("run", "--attach", "--", "true")
        #expect(result.status != 0)
        #expect(result.stderr.contains("QUILL_RUN_DIR"), "\(result.stderr)")
        #expect(quill.store.list().runs.isEmpty)
    }
}
