public import Foundation
import QuillCore

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
    ///
    /// It is started with ``Spawn`` (only standard input, output and error pass on) and waited for with `waitpid`,
    /// not with Foundation's `Process`: Foundation learns of a child's end through a socket that a process another
    /// test starts at the same moment may inherit, and the wait then lasts as long as that other process
    /// (``Foundation/Process/stop(grace:)``). The output pipes are close-on-exec, so no other child holds them open.
    public static func run(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String] = [:],
        directory: String? = nil
    ) throws -> Result {
        let out = try OutputPipe()
        let err = try OutputPipe()
        let input = Platform.open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { _ = Platform.close(input) }
        let pid: pid_t
        do {
            pid = try Spawn.start(
                [executable] + arguments,
                environment: ProcessInfo.processInfo.environment.merging(environment) { _, new in new },
                options: Spawn.Options(
                    standardOutput: out.write,
                    standardError: err.write,
                    inheritedIgnored: [],
                    standardInput: input,
                    workingDirectory: directory
                )
            )
        } catch {
            out.closeBoth()
            err.closeBoth()
            throw QuillError(.process, "could not start \(executable): errno \(error.code)")
        }
        out.closeWrite()
        err.closeWrite()
        let group = DispatchGroup()
        let collected = OutputBox()
        for (pipe, isError) in [(out, false), (err, true)] {
            group.enter()
            DispatchQueue.global().async {
                collected.set(String(decoding: pipe.readToEnd(), as: UTF8.self), isError: isError)
                group.leave()
            }
        }
        let status = Spawn.wait(pid)
        group.wait()
        return Result(
            status: status.terminationSignal ?? status.exitCode,
            signalled: status.terminationSignal != nil,
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

/// A pipe for a child's output: both ends close-on-exec (the child gets its end through `dup2`), read to the end
/// by the parent.
private final class OutputPipe: @unchecked Sendable {
    // @unchecked Sendable: the descriptors are set in init; `write` is closed by the spawning thread before the
    // reading thread starts, and `read` is used by that one thread only.
    let read: Int32
    let write: Int32

    init() throws {
        var descriptors: [Int32] = [-1, -1]
        guard pipe(&descriptors) == 0 else { throw QuillError(.io, "pipe failed: errno \(errno)") }
        for descriptor in descriptors { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        read = descriptors[0]
        write = descriptors[1]
    }

    func closeWrite() { _ = Platform.close(write) }

    func closeBoth() {
        _ = Platform.close(write)
        _ = Platform.close(read)
    }

    /// Reads until end of file, then closes the read end.
    func readToEnd() -> [UInt8] {
        defer { _ = Platform.close(read) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { Platform.read(read, $0.baseAddress, $0.count) }
            if count > 0 {
                bytes.append(contentsOf: buffer[0..<count])
            } else if count == 0 || errno != EINTR {
                return bytes
            }
        }
    }
}
