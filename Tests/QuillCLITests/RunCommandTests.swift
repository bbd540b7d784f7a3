import Foundation
import QuillCore
import QuillTesting
import Testing

/// A process started with its output in files and a deadline, so a hang fails the test instead of the suite.
struct BoundedProcess {
    let process: Process
    let folder: TemporaryDirectory
    let started: ContinuousClock.Instant

    init(_ executable: String, _ arguments: [String], environment: [String: String], directory: String? = nil) throws {
        folder = TemporaryDirectory("quill-proc")
        _ = FileManager.default.createFile(atPath: folder.file("out"), contents: nil)
        _ = FileManager.default.createFile(atPath: folder.file("err"), contents: nil)
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle(forWritingAtPath: folder.file("out"))
        process.standardError = FileHandle(forWritingAtPath: folder.file("err"))
        started = ContinuousClock.now
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }

    /// Waits for the end; past the timeout the process is killed and the test fails.
    func finish(timeout: Duration = .seconds(60)) async -> (result: BuiltProducts.Result, elapsed: Duration) {
        let ended = await eventually(timeout: timeout, poll: .milliseconds(20)) { !process.isRunning }
        if !ended {
            kill(process.processIdentifier, SIGKILL)
            Issue.record("\(process.arguments ?? []) did not end within \(timeout)")
        }
        process.waitUntilExit()
        let elapsed = ContinuousClock.now - started
        let out = (try? String(contentsOfFile: folder.file("out"), encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: folder.file("err"), encoding: .utf8)) ?? ""
        let result = BuiltProducts.Result(
            status: process.terminationStatus,
            signalled: process.terminationReason == .uncaughtSignal,
            stdout: out,
            stderr: err
        )
        return (result, elapsed)
    }
}

/// Whether a process is gone (a zombie counts as gone: nothing of it runs).
func processIsGone(_ pid: Int32) -> Bool {
    if kill(pid, 0) != 0, errno == ESRCH { return true }
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return true }
    return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
}

extension QuillBinary {
    func start(_ arguments: [String], extra: [String: String] = [:]) throws -> BoundedProcess {
        try BoundedProcess(
            BuiltProducts.path("quill"),
            arguments,
            environment: environment.merging(extra) { _, new in new },
            directory: home.path
        )
    }

    func onlyRun() throws -> LocalRun {
        let runs = store.list().runs
        #expect(runs.count == 1, "\(runs.map(\.meta.name))")
        return try #require(runs.first)
    }
}

@Suite("quill run behaves like the command it wraps")
struct RunCommandProcessTests {
    @Test("a Python child starts with no blocked signals, default handlers and a process group of its own")
    func cleanSignalState() async throws {
        let quill = QuillBinary()
        let script = """
            import json, os, signal
            print(json.dumps({
                "blocked": sorted(int(s) for s in signal.pthread_sigmask(signal.SIG_BLOCK, [])),
                "sigint_default": signal.getsignal(signal.SIGINT) is signal.default_int_handler,
                "sigterm_default": signal.getsignal(signal.SIGTERM) == signal.SIG_DFL,
                "sighup_default": signal.getsignal(signal.SIGHUP) == signal.SIG_DFL,
                "own_group": os.getpgid(0) == os.getpid(),
            }))
            """
        let (result, _) = try await quill.start(["run", "--", "python3", "-c", script]).finish()
        #expect(result.status == 0, "\(result.stderr)")
        let line = try #require(result.stdout.split(separator: "\n").last { $0.hasPrefix("{") })
        let seen = try JSONParser.parse(String(line))
        #expect(seen["blocked"] == [])
        #expect(seen["sigint_default"] == true)
        #expect(seen["sigterm_default"] == true)
        #expect(seen["sighup_default"] == true)
        #expect(seen["own_group"] == true)
    }

    @Test(
        "a signal sent to quill ends a Python child and its own children; the run is killed",
        arguments: [SIGTERM, SIGINT, SIGHUP]
    )
    func signalEndsTree(number: Int32) async throws {
        let quill = QuillBinary()
        let pidFile = quill.home.file("grandchild.pid")
        let script = """
            import subprocess, sys, time
            child = subprocess.Popen(["sleep", "300"])
            with open(sys.argv[1], "w") as f:
                f.write(str(child.pid))
            time.sleep(300)
            """
        let process = try quill.start(["run", "--name", "tree", "--", "python3", "-c", script, pidFile])
        let started = await eventually(timeout: .seconds(30)) {
            Int32((try? String(contentsOfFile: pidFile, encoding: .utf8)) ?? "") != nil
        }
        #expect(started)
        let grandchild = try #require(Int32((try? String(contentsOfFile: pidFile, encoding: .utf8)) ?? ""))
        kill(process.pid, number)
        let (result, elapsed) = await process.finish(timeout: .seconds(30))
        defer { kill(grandchild, SIGKILL) }
        #expect(result.status == 128 + number, "\(result.stderr)")
        #expect(elapsed < .seconds(60))
        #expect(await eventually(timeout: .seconds(10)) { processIsGone(grandchild) }, "grandchild \(grandchild) lives")
        let meta = try quill.onlyRun().meta
        #expect(meta.status == .killed)
        #expect(meta.signal == number)
    }

    @Test("quill waits for the command, not for background processes it leaves behind")
    func backgroundProcesses() async throws {
        let quill = QuillBinary()
        let waited = try await quill.start(["run", "--", "sh", "-c", "sleep 1 & wait; echo waited"]).finish()
        #expect(waited.result.status == 0, "\(waited.result.stderr)")
        #expect(waited.result.stdout.contains("waited"))

        let pidFile = quill.home.file("background.pid")
        let left = try await quill.start([
            "run", "--name", "leaves", "--", "sh", "-c", "sleep 60 & echo $! > \(pidFile); echo started",
        ]).finish()
        if let pid = Int32((try? String(contentsOfFile: pidFile, encoding: .utf8))?.trimmed ?? "") {
            kill(pid, SIGKILL)
        }
        #expect(left.result.status == 0, "\(left.result.stderr)")
        #expect(left.elapsed < .seconds(30), "quill waited for the background sleep")
        #expect(left.result.stdout.contains("started"))
        let run = try quill.store.resolve("leaves")
        #expect(run.meta.status == .completed)
        #expect(try run.directory.readLog().map(\.message).contains("started"))
    }

    @Test("the command gets standard input, output and error, and no other descriptor of quill's")
    func descriptors() async throws {
        let quill = QuillBinary()
        let process = try BoundedProcess(
            "/bin/sh",
            ["-c", "exec 7</dev/null; exec \"$0\" run -- ls /proc/self/fd", BuiltProducts.path("quill")],
            environment: quill.environment,
            directory: quill.home.path
        )
        let (result, _) = await process.finish()
        #expect(result.status == 0, "\(result.stderr)")
        // ls itself holds 3, the folder it lists.
        #expect(Set(result.stdout.split(separator: "\n").map(String.init)) == ["0", "1", "2", "3"])
    }

    @Test("a quill started with SIGCHLD ignored still learns the command's exit code")
    func ignoredChildSignal() async throws {
        let quill = QuillBinary()
        let launcher =
            "import os, signal, sys; signal.signal(signal.SIGCHLD, signal.SIG_IGN); os.execv(sys.argv[1], sys.argv[1:])"
        let process = try BoundedProcess(
            "/usr/bin/env",
            ["python3", "-c", launcher, BuiltProducts.path("quill"), "run", "--", "sh", "-c", "exit 3"],
            environment: quill.environment,
            directory: quill.home.path
        )
        let (result, _) = await process.finish()
        #expect(result.status == 3, "\(result.stderr)")
        #expect(try quill.onlyRun().meta.exitCode == 3)
    }

    @Test("--help, -h and a mistyped option print help or a usage error (status 64) and record no run")
    func helpAndUsageErrors() throws {
        let quill = QuillBinary()
        for flag in ["--help", "-h"] {
            let help = try quill.run("run", flag)
            #expect(help.status == 0, "\(flag): \(help.stderr)")
            #expect(help.stdout.contains("quill run"), "\(flag)")
            #expect(help.stdout.contains("--tag"), "\(flag)")
        }
        let mistyped = try quill.run("run", "--nmae", "x", "--", "true")
        #expect(mistyped.status == 64)
        #expect(mistyped.stderr.contains("--nmae"))
        #expect(mistyped.stderr.contains("quill run --help"))
        let missing = try quill.run("run")
        #expect(missing.status == 64)
        #expect(missing.stderr.contains("--"))
        let badTag = try quill.run("run", "--tag", "a:b=c", "--", "true")
        #expect(badTag.status == 64)
        #expect(badTag.stderr.contains("key=value"))
        #expect(quill.store.list().runs.isEmpty)
        // The help command the errors name works.
        #expect(try quill.run("run", "--help").status == 0)
    }

    @Test("a quill killed with SIGKILL leaves a crashed run whose duration reaches its last heartbeat")
    func heartbeat() async throws {
        let quill = QuillBinary()
        let pidFile = quill.home.file("child.pid")
        let process = try quill.start([
            "run", "--name", "beats", "--", "sh", "-c", "echo $$ > \(pidFile); exec sleep 60",
        ])
        defer {
            if let pid = Int32((try? String(contentsOfFile: pidFile, encoding: .utf8))?.trimmed ?? "") {
                kill(pid, SIGKILL)
            }
        }
        let beat = await eventually(timeout: .seconds(30), poll: .milliseconds(50)) {
            guard let meta = try? quill.store.resolve("beats", repair: false).meta,
                let heartbeat = meta.heartbeatAt
            else { return false }
            return heartbeat.timeIntervalSince(meta.startedAt) >= 1
        }
        #expect(beat, "no heartbeat a second after the start")
        try await Task.sleep(for: .milliseconds(1500))
        kill(process.pid, SIGKILL)
        _ = await process.finish()
        let meta = try quill.store.resolve("beats").meta
        #expect(meta.status == .crashed)
        #expect((meta.durationSeconds ?? 0) >= 1, "duration \(meta.durationSeconds ?? -1)")
    }

    @Test("tags are key=value for run and runs alike; key:value still means the same; a tag set one way is found")
    func tags() throws {
        let quill = QuillBinary()
        let result = try quill.run(
            "run",
            "--name",
            "tagged",
            "--tag",
            "team=nlp",
            "--tag",
            "baseline",
            "--tag",
            "old:style",
            "--tag",
            "url=http://x/a=b",
            "--",
            "true"
        )
        #expect(result.status == 0, "\(result.stderr)")
        let meta = try quill.store.resolve("tagged").meta
        #expect(meta.tagValues == ["team": "nlp", "baseline": "", "old": "style", "url": "http://x/a=b"])
        for filter in ["team=nlp", "team:nlp", "baseline", "old=style", "url=http://x/a=b", "team"] {
            let found = try quill.json("runs", "--tag", filter, "--json")
            #expect(found.arrayValue?.map { $0["name"] } == ["tagged"], "\(filter)")
        }
        for filter in ["team=vision", "nothing"] {
            #expect(try quill.json("runs", "--tag", filter, "--json").arrayValue?.isEmpty == true, "\(filter)")
        }
        let bad = try quill.run("runs", "--tag", "=x")
        #expect(bad.status == 64)
    }

    @Test("a tool that rewrites meta.json and config.json in the run directory cannot take the run over")
    func foreignWriter() throws {
        let quill = QuillBinary()
        let script = """
            import json, os, time
            d = os.environ["QUILL_RUN_DIR"]
            meta = {"id": os.path.basename(d), "name": "intruder", "tags": ["whirr-tag"], "started_at":
                    "2020-01-01T00:00:00Z", "status": "completed", "summary": {"best": 0.4},
                    "config_file": "config.json", "metrics_file": "metrics.jsonl", "artifacts_dir": "artifacts"}
            open(os.path.join(d, "meta.json"), "w").write(json.dumps(meta))
            open(os.path.join(d, "config.json"), "w").write(json.dumps({"batch": 32}))
            """
        let result = try quill.run(
            "run",
            "--name",
            "mine",
            "--project",
            "owned",
            "--tag",
            "team=nlp",
            "--config",
            "lr=0.1",
            "--",
            "python3",
            "-c",
            script
        )
        #expect(result.status == 0, "\(result.stderr)")
        try checkMerged(quill)
    }

    @Test(
        "a whirr script pointed at the run directory by whirr's variables leaves Quill's files Quill's",
        .enabled(if: ProcessInfo.processInfo.environment["QUILL_TEST_PYTHON"] != nil, "set by scripts/test.sh")
    )
    func whirrInsideRun() throws {
        let quill = QuillBinary()
        let python = try #require(ProcessInfo.processInfo.environment["QUILL_TEST_PYTHON"])
        let script = """
            import whirr
            run = whirr.init(name="intruder", config={"batch": 32}, tags=["whirr-tag"], system_metrics=False,
                             capture_git=False, capture_pip=False)
            run.log({"loss": 0.5}, step=1)
            run.summary({"best": 0.4})
            run.finish()
            """
        let result = try quill.run(
            "run",
            "--name",
            "mine",
            "--project",
            "owned",
            "--tag",
            "team=nlp",
            "--config",
            "lr=0.1",
            "--",
            "sh",
            "-c",
            "WHIRR_JOB_ID=1 WHIRR_RUN_DIR=\"$QUILL_RUN_DIR\" exec \"$0\" -c \"$1\"",
            python,
            script
        )
        #expect(result.status == 0, "\(result.stderr)")
        try checkMerged(quill)
        let rows = try quill.store.resolve("mine").directory.readMetricRows().rows
        #expect(rows.first?.values["loss"] == 0.5)
    }

    private func checkMerged(_ quill: QuillBinary) throws {
        let run = try quill.onlyRun()
        #expect(run.meta.name == "mine")
        #expect(run.meta.project == "owned")
        #expect(run.meta.status == .completed)
        #expect(run.meta.host != nil)
        #expect(run.meta.startedAt > Date(timeIntervalSince1970: 1_600_000_000))
        #expect(run.meta.tagValues["team"] == "nlp")
        #expect(run.meta.tagValues["whirr-tag"] == "")
        #expect(run.meta.summary["best"] == 0.4)
        #expect(try run.directory.readConfig() == ["lr": 0.1, "batch": 32])
        #expect(try quill.json("show", "mine", "--json")["project"] == "owned")
    }
}

extension String {
    fileprivate var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}

/// Drives `quill run` inside a pseudo-terminal, as a user at a terminal would, with Python's `pty` module.
enum TerminalDriver {
    /// The driver: a pseudo-terminal whose session leader acts as an interactive shell (quill runs as its
    /// foreground job in a process group of its own; when the job stops, it prints "[quill stopped]" and
    /// continues it in the foreground, as `fg` does). The driver follows `steps` (["expect", text] or
    /// ["send", text]) and prints quill's exit code and everything the terminal showed, as JSON.
    static let script = #"""
        import json, os, pty, select, signal, sys, time
        quill, steps, args = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3:]
        pid, fd = pty.fork()
        if pid == 0:
            signal.signal(signal.SIGTTOU, signal.SIG_IGN)
            job = os.fork()
            if job == 0:
                os.setpgid(0, 0)
                os.tcsetpgrp(0, os.getpid())
                signal.signal(signal.SIGTTOU, signal.SIG_DFL)
                os.execv(quill, [quill] + args)
            try:
                os.setpgid(job, job)
            except OSError:
                pass
            os.tcsetpgrp(0, job)
            while True:
                _, status = os.waitpid(job, os.WUNTRACED)
                if os.WIFSTOPPED(status):
                    os.tcsetpgrp(0, os.getpgrp())
                    os.write(1, b"[quill stopped]\n")
                    time.sleep(0.5)
                    os.tcsetpgrp(0, job)
                    os.kill(-job, signal.SIGCONT)
                    continue
                code = os.waitstatus_to_exitcode(status)
                os._exit(code if code >= 0 else 128 - code)
        seen = b""
        def fail(message):
            os.kill(pid, signal.SIGKILL)
            print(json.dumps({"error": message, "output": seen.decode(errors="replace")}))
            sys.exit(0)
        def pump(timeout):
            global seen
            ready, _, _ = select.select([fd], [], [], timeout)
            if not ready:
                return True
            try:
                data = os.read(fd, 4096)
            except OSError:
                data = b""
            seen += data
            return bool(data)
        def expect(text, limit=30):
            end = time.monotonic() + limit
            while text.encode() not in seen:
                if time.monotonic() > end or not pump(max(0.0, end - time.monotonic())):
                    fail("did not see " + repr(text))
        for step in steps:
            if step[0] == "expect":
                expect(step[1])
            elif step[0] == "resize":
                import fcntl, struct, termios
                fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", int(step[1]), int(step[2]), 0, 0))
            elif step[0] == "send":
                time.sleep(0.3)
                os.write(fd, step[1].encode())
        end = time.monotonic() + 30
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > end:
                fail("quill did not end")
            pump(0.05)
        while pump(0.05):
            pass
        import termios
        lflag = termios.tcgetattr(fd)[3]
        print(json.dumps({
            "exit": os.waitstatus_to_exitcode(status), "output": seen.decode(errors="replace"),
            "sane": bool(lflag & termios.ECHO) and bool(lflag & termios.ICANON),
        }))
        """#

    /// Runs the steps against `quill run ARGS` in a pseudo-terminal; returns quill's exit code and the screen.
    static func run(
        _ quill: QuillBinary,
        steps: [[String]],
        _ arguments: [String]
    ) async throws -> (
        exit: Int, output: String, sane: Bool
    ) {
        let driver = try quill.home.write("pty_driver.py", script)
        let stepsJSON = JSONWriter.string(.array(steps.map { .array($0.map(JSONValue.string)) }))
        let process = try BoundedProcess(
            "/usr/bin/env",
            ["python3", driver, BuiltProducts.path("quill"), stepsJSON] + arguments,
            environment: quill.environment
        )
        let (result, _) = await process.finish(timeout: .seconds(90))
        let line = try #require(result.stdout.split(separator: "\n").last, "\(result.stderr)")
        let report = try JSONParser.parse(String(line))
        let output = report["output"]?.stringValue ?? ""
        if let error = report["error"]?.stringValue { Issue.record("\(error); the terminal showed: \(output)") }
        return (report["exit"]?.intValue ?? -1, output, report["sane"] == true)
    }
}

@Suite("quill run in a terminal")
struct RunCommandTerminalTests {
    @Test("the command reads the terminal with input(), its output is a terminal, and Ctrl-C ends it as killed")
    func inputAndControlC() async throws {
        let quill = QuillBinary()
        let child = """
            import sys, time
            print("ttys", sys.stdin.isatty(), sys.stdout.isatty(), sys.stderr.isatty(), flush=True)
            name = input("name? ")
            print("got", name, flush=True)
            print("sleeping", flush=True)
            time.sleep(60)
            """
        let (exit, output, _) = try await TerminalDriver.run(
            quill,
            steps: [["expect", "name? "], ["send", "hello\n"], ["expect", "sleeping"], ["send", "\u{3}"]],
            ["run", "--name", "tty", "--", "python3", "-c", child]
        )
        #expect(output.contains("ttys True True True"), "\(output)")
        #expect(output.contains("got hello"), "\(output)")
        #expect(output.contains("KeyboardInterrupt"), "\(output)")
        #expect(exit == 128 + Int(SIGINT), "\(output)")
        let run = try quill.onlyRun()
        #expect(run.meta.status == .killed)
        #expect(run.meta.signal == SIGINT)
        let log = try run.directory.readLog().map(\.message).joined(separator: "\n")
        #expect(log.contains("got hello"))
        #expect(!log.contains("\r"), "output.log holds the lines as written")
    }

    @Test("Ctrl-C ends `sleep` in a terminal")
    func controlCEndsSleep() async throws {
        let quill = QuillBinary()
        let (exit, output, _) = try await TerminalDriver.run(
            quill,
            steps: [["expect", "started"], ["send", "\u{3}"]],
            ["run", "--", "sh", "-c", "echo started; exec sleep 12"]
        )
        #expect(exit == 128 + Int(SIGINT), "\(output)")
        #expect(try quill.onlyRun().meta.status == .killed)
    }

    @Test("Ctrl-Z stops quill with its command; continued, the command has the terminal again")
    func controlZ() async throws {
        let quill = QuillBinary()
        let child = """
            print("started", flush=True)
            line = input()
            print("got", line, flush=True)
            """
        let (exit, output, _) = try await TerminalDriver.run(
            quill,
            steps: [
                ["expect", "started"], ["send", "\u{1A}"], ["expect", "[quill stopped]"], ["send", "again\n"],
                ["expect", "got again"],
            ],
            ["run", "--", "python3", "-c", child]
        )
        #expect(exit == 0, "\(output)")
        #expect(try quill.onlyRun().meta.status == .completed)
    }

    @Test("a command killed while the terminal is raw leaves it as it found it, as a shell does")
    func terminalRestored() async throws {
        let quill = QuillBinary()
        let child = """
            import os, signal, sys, tty
            tty.setraw(0)
            print("raw", flush=True)
            os.kill(os.getpid(), signal.SIGTERM)
            """
        let (exit, output, sane) = try await TerminalDriver.run(
            quill,
            steps: [["expect", "raw"]],
            ["run", "--", "python3", "-c", child]
        )
        #expect(exit == 128 + Int(SIGTERM), "\(output)")
        #expect(sane, "the terminal was left raw")
    }

    @Test("a resized terminal reaches the command: its output takes the new size and it hears SIGWINCH")
    func windowSize() async throws {
        let quill = QuillBinary()
        let child = """
            import os, signal, time
            def changed(*_):
                size = os.get_terminal_size(1)
                if (size.columns, size.lines) == (100, 30):
                    print("resized 100x30", flush=True)
                    os._exit(0)
            signal.signal(signal.SIGWINCH, changed)
            print("ready", flush=True)
            time.sleep(20)
            """
        let (exit, output, _) = try await TerminalDriver.run(
            quill,
            steps: [["expect", "ready"], ["resize", "30", "100"], ["expect", "resized 100x30"]],
            ["run", "--", "python3", "-c", child]
        )
        #expect(exit == 0, "\(output)")
    }
}
