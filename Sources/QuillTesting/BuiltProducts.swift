public import Foundation

/// Finds and runs the executables SwiftPM built next to the test bundle (`quill`), as real processes.
public enum BuiltProducts: Sendable {
    /// The folder holding the built products (`.build/debug`).
    public static var directory: String {
        var url = Bundle.main.bundleURL
        // On Linux the test runner is `.build/debug/quillPackageTests.xctest`; its folder holds the products.
        if url.pathExtension == "xctest" { url.deleteLastPathComponent() }
        let candidate = url.path
        if FileManager.default.isExecutableFile(atPath: candidate + "/quill") { return candidate }
        // Fall back to the executable's own folder.
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        return executable
    }

    /// The path of a built executable.
    public static func path(_ name: String) -> String { directory + "/" + name }

    /// The result of running a process to the end.
    public struct Result: Sendable {
        /// The exit status, or the signal number when `signalled`.
        public var status: Int32
        /// Whether a signal ended the process.
        public var signalled: Bool
        /// Everything it wrote to standard output.
        public var stdout: String
        /// Everything it wrote to standard error.
        public var stderr: String

        /// A result of a process the caller ran itself.
        public init(status: Int32, signalled: Bool, stdout: String, stderr: String) {
            self.status = status
            self.signalled = signalled
            self.stdout = stdout
            self.stderr = stderr
        }
    }

    /// Runs an executable with arguments and extra environment variables, and waits for it.
    public static func run(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String] = [:],
        directory: String? = nil
    ) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let group = DispatchGroup()
        let collected = OutputBox()
        for (pipe, isError) in [(out, false), (err, true)] {
            group.enter()
            DispatchQueue.global().async {
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                collected.set(String(decoding: data, as: UTF8.self), isError: isError)
                group.leave()
            }
        }
        process.waitUntilExit()
        group.wait()
        return Result(
            status: process.terminationStatus,
            signalled: process.terminationReason == .uncaughtSignal,
            stdout: collected.stdout,
            stderr: collected.stderr
        )
    }

    /// ``run(_:_:environment:directory:)`` from async code (Swift picks this overload there): the process is waited
    /// for on a Dispatch thread, never on one of the few cooperative threads (two on a 2-core machine) that every
    /// other test's timers and requests need meanwhile.
    public static func run(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String] = [:],
        directory: String? = nil
    ) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(
                    with: Swift.Result {
                        try run(executable, arguments, environment: environment, directory: directory) as Result
                    }
                )
            }
        }
    }

    /// Starts an executable without waiting; the caller signals and waits for it.
    public static func start(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String] = [:]
    ) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }
}

private final class OutputBox: @unchecked Sendable {
    // @unchecked Sendable: both fields are written under `lock` only.
    private let lock = NSLock()
    private var out = ""
    private var err = ""

    func set(_ text: String, isError: Bool) {
        lock.lock()
        if isError { err = text } else { out = text }
        lock.unlock()
    }

    var stdout: String {
        lock.lock()
        defer { lock.unlock() }
        return out
    }

    var stderr: String {
        lock.lock()
        defer { lock.unlock() }
        return err
    }
}
