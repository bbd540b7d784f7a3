import Foundation
import QuillCore
import QuillTesting
import Testing

/// A real `quill serve` process on 127.0.0.1 (an ephemeral port unless one is given), for the CLI tests
/// that talk to a server.
final class CLIServer: @unchecked Sendable {
    // @unchecked Sendable: all stored properties are set in init and only read afterwards.
    let process: Process
    let port: Int
    let data: String
    let stdout: FileHandle

    var url: String { "http://127.0.0.1:\(port)" }

    init(data: String, home: String, extraArguments: [String] = []) throws {
        self.data = data
        process = Process()
        process.executableURL = URL(fileURLWithPath: BuiltProducts.path("quill"))
        process.arguments = ["serve", "--port", "0", "--data", data] + extraArguments
        process.environment = ProcessInfo.processInfo.environment.merging(["QUILL_HOME": home]) { _, new in new }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        stdout = pipe.fileHandleForReading
        port = try ServeOutput.listeningPort(from: stdout)
    }

    /// Stops the server with SIGTERM and waits until it has ended (not for Foundation's exit notice, which another
    /// test's process can delay: ``Foundation/Process/stop(grace:)``).
    func stop() { process.stop() }

    deinit { stop() }
}

extension BuiltProducts.Result {
    /// Standard error split into its lines, without the empty last one.
    var errorLines: [Substring] {
        stderr.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.isEmpty }
    }
}

extension QuillBinary {
    /// Runs `quill` with an argument list and parses its standard output as JSON.
    func json(_ arguments: [String]) throws -> JSONValue {
        let result = try BuiltProducts.run(BuiltProducts.path("quill"), arguments, environment: environment)
        #expect(result.status == 0, "\(arguments): \(result.stderr)")
        return try JSONParser.parse(result.stdout)
    }
}
