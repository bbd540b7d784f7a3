import Foundation
import QuillCore
import QuillTesting
import Testing

/// Every failure below used to print a raw dump, a misleading hint or "Missing value"; each must be one
/// line on standard error that says what to do.
@Suite("CLI errors are one line that says what to do")
struct CLIErrorMessageTests {
    /// Checks that a failed command printed exactly one `error: …` line containing every piece of advice.
    func expectOneLine(
        _ result: BuiltProducts.Result,
        _ advice: [String],
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(result.status != 0, sourceLocation: sourceLocation)
        #expect(result.errorLines.count == 1, "\(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stderr.hasPrefix("error: "), "\(result.stderr)", sourceLocation: sourceLocation)
        for piece in advice {
            #expect(
                result.stderr.contains(piece),
                "missing '\(piece)' in \(result.stderr)",
                sourceLocation: sourceLocation
            )
        }
        for junk in ["NSURLErrorDomain", "NSErrorFailingURL", "Missing value", "errno", "Usage:"] {
            #expect(!result.stderr.contains(junk), "\(result.stderr)", sourceLocation: sourceLocation)
        }
    }

    /// A port on 127.0.0.1 that nothing listens on: bound, then closed.
    func closedPort() throws -> Int {
        let fd = socket(AF_INET, Platform.streamSocketType, 0)
        #expect(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(fd, socketAddress, length) == 0 && getsockname(fd, socketAddress, &length) == 0
            }
        }
        #expect(bound)
        return Int(UInt16(bigEndian: address.sin_port))
    }

    @Test("an unreachable server is one line naming the URL, the reason and `quill serve`, for every command")
    func unreachable() throws {
        let quill = QuillBinary()
        let url = "http://127.0.0.1:\(try closedPort())"
        let advice = ["cannot reach the server at \(url)", "connection refused", "quill serve", "--server"]
        expectOneLine(try quill.run("runs", "--server", url), advice)
        expectOneLine(try quill.run("show", "baseline", "--server", url), advice)
        expectOneLine(try quill.run("keys", "list", "--server", url), advice)
        expectOneLine(
            try quill.run("artifacts", "get", "baseline", "x.txt", "--server", url, "-o", quill.home.file("x")),
            advice
        )
        expectOneLine(try quill.run("runs", extra: ["QUILL_TRACKING_URI": url]), advice)
    }

    @Test("sync --all against an unreachable server stops at once with one line, not one dump per run")
    func syncAllUnreachable() throws {
        let quill = QuillBinary()
        for name in ["a", "b", "c"] {
            try quill.run("demo", "--steps", "2", "--delay-ms", "0", "--name", name)
        }
        let url = "http://127.0.0.1:\(try closedPort())"
        let started = ContinuousClock.now
        let result = try quill.run("sync", "--all", "--server", url)
        expectOneLine(result, ["cannot reach the server at \(url)", "connection refused"])
        #expect(ContinuousClock.now - started < .seconds(20))
    }

    @Test(
        "a server URL without a scheme says to add one, whichever command and whether from --server or the environment"
    )
    func noScheme() throws {
        let quill = QuillBinary()
        let advice = ["--server needs a scheme, e.g. http://127.0.0.1:9"]
        expectOneLine(try quill.run("runs", "--server", "127.0.0.1:9"), advice)
        expectOneLine(try quill.run("show", "a", "--server", "127.0.0.1:9"), advice)
        expectOneLine(try quill.run("keys", "list", "--server", "127.0.0.1:9"), advice)
        expectOneLine(try quill.run("sync", "--all", "--server", "127.0.0.1:9"), advice)
        let fromEnvironment = try quill.run("runs", extra: ["QUILL_TRACKING_URI": "localhost:8080"])
        expectOneLine(fromEnvironment, ["QUILL_TRACKING_URI needs a scheme, e.g. http://localhost:8080"])
        // The SDK, streaming to such a URL, says the same in its one warning.
        let sdk = try quill.run("demo", "--steps", "2", "--delay-ms", "0", extra: ["QUILL_TRACKING_URI": "localhost:1"])
        #expect(sdk.status == 0, "\(sdk.stderr)")
        #expect(sdk.stderr.contains("needs a scheme, e.g. http://localhost:1"), "\(sdk.stderr)")
        #expect(!sdk.stderr.contains("NSURLErrorDomain"))
    }

    @Test("a negative number after an option that takes one names the option, for every command")
    func negativeNumbers() throws {
        let quill = QuillBinary()
        expectOneLine(try quill.run("runs", "--limit", "-1"), ["--limit must be a positive number"])
        expectOneLine(try quill.run("runs", "-l", "-1"), ["--limit must be a positive number"])
        expectOneLine(try quill.run("runs", "--limit", "0"), ["--limit must be a positive number"])
        expectOneLine(try quill.run("demo", "--steps", "-3"), ["--steps takes a number of 0 or more, not -3"])
        expectOneLine(try quill.run("serve", "--port", "-1"), ["--port takes a number of 0 or more, not -1"])
        expectOneLine(
            try quill.run("artifacts", "gc", "--grace-minutes", "-5", "--data", quill.home.file("server")),
            ["--grace-minutes takes a number of 0 or more, not -5"]
        )
        expectOneLine(
            try quill.run("keys", "revoke", "-1", "--server", "http://127.0.0.1:9"),
            ["-1 is not accepted here"]
        )
        // A negative step is a step like any other, as it is for the SDK.
        try quill.run("demo", "--steps", "1", "--delay-ms", "0", "--name", "target")
        let directory = try quill.store.resolve("target").directory.path
        let logged = try quill.run("log", "loss=0.5", "--step", "-5", "--run-dir", directory)
        #expect(logged.status == 0, "\(logged.stderr)")
        let rows = try quill.store.resolve("target").directory.readMetricRows().rows
        #expect(rows.last?.step == -5)
    }

    @Test("a busy port is one line that names the port and says to pass --port or stop the other server")
    func busyPort() throws {
        let quill = QuillBinary()
        let server = try CLIServer(data: quill.home.file("first"), home: quill.home.path)
        defer { server.stop() }
        let second = try quill.run("serve", "--port", String(server.port), "--data", quill.home.file("second"))
        expectOneLine(second, ["port \(server.port)", "in use", "--port N", "stop the other server"])
    }

    @Test("sync with a refused or missing key says to log in, not to wait for the server")
    func syncRefusedKey() throws {
        let quill = QuillBinary()
        try quill.run("demo", "--steps", "2", "--delay-ms", "0", "--name", "a")
        try quill.run("demo", "--steps", "2", "--delay-ms", "0", "--name", "b")
        let server = try CLIServer(data: quill.home.file("server"), home: quill.home.path)
        defer { server.stop() }
        let created = try quill.run("users", "create", "ada", "--data", server.data, "--json")
        #expect(created.status == 0, "\(created.stderr)")
        let credentials = ["QUILL_CREDENTIALS": quill.home.file("credentials.json")]
        let wrong = try quill.run(
            "sync",
            "--all",
            "--server",
            server.url,
            extra: credentials.merging(["QUILL_API_KEY": "qk_wrong"]) { _, new in new }
        )
        expectOneLine(wrong, ["refused the API key", "quill login --server \(server.url)"])
        #expect(!wrong.stderr.contains("reachable"))
        let missing = try quill.run(
            "sync",
            "--all",
            "--server",
            server.url,
            extra: credentials.merging(["QUILL_API_KEY": ""]) { _, new in new }
        )
        expectOneLine(missing, ["needs an API key", "quill login --server \(server.url)"])
        // `quill login` with a wrong key does not advise running `quill login`.
        let login = try quill.run("login", "--server", server.url, "--key", "qk_wrong", extra: credentials)
        expectOneLine(login, ["refused this key", "quill keys create"])
        #expect(!login.stderr.contains("quill login"))
    }

    /// `quill submit` captures everything after its options as the command, as `quill run` does: help and a
    /// mistyped option must not be queued as a job (they were, as the command `--help`).
    @Test("quill submit --help shows help, and a mistyped option or no command is refused before any server is asked")
    func submitReadsItsOwnOptions() throws {
        let quill = BuiltProducts.path("quill")
        // A server address nothing answers: a command that tried to submit would fail with a connection error.
        let environment = ["QUILL_TRACKING_URI": "http://127.0.0.1:\(try closedPort())"]
        let help = try BuiltProducts.run(quill, ["submit", "--help"], environment: environment)
        #expect(help.status == 0, "\(help.stderr)")
        #expect(help.stdout.contains("OVERVIEW: Queue a command as a job"))
        let typo = try BuiltProducts.run(
            quill,
            ["submit", "--gpu", "1", "python", "train.py"],
            environment: environment
        )
        #expect(typo.status == 64)
        #expect(typo.stderr.hasPrefix("error: unknown option '--gpu' for quill submit; put the command after --"))
        let empty = try BuiltProducts.run(quill, ["submit", "--"], environment: environment)
        #expect(empty.status == 64)
        #expect(empty.stderr.hasPrefix("error: give the command to run after --"))
        let runHelp = try BuiltProducts.run(quill, ["run", "-h"], environment: environment)
        #expect(runHelp.status == 0 && runHelp.stdout.contains("OVERVIEW: Run a command as a tracked run"))
    }
}
