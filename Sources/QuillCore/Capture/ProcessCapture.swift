import Foundation

/// Runs a short helper command (git, pip, nvidia-smi) and returns its standard output; finds executables.
///
/// The one place the SDK (git and dependency capture, the system sampler's `nvidia-smi`) and QuillSteps
/// (metadata, child processes) start helper commands or look up programs.
package enum ProcessCapture {
    /// Runs `executable` with arguments; `nil` when it is missing, fails or outputs nothing.
    ///
    /// - Parameter limit: Bytes of output kept; the rest is read and dropped, with `truncated` set.
    package static func run(
        _ executable: String,
        _ arguments: [String],
        in directory: String? = nil,
        limit: Int = 1 << 20
    ) -> (output: [UInt8], truncated: Bool)? {
        guard let path = findExecutable(executable) else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return nil
        }
        var output: [UInt8] = []
        var truncated = false
        let handle = pipe.fileHandleForReading
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            let room = limit - output.count
            if chunk.count > room { truncated = true }
            if room > 0 { output.append(contentsOf: chunk.prefix(room)) }
        }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return (output, truncated)
    }

    /// Standard output as trimmed text; `nil` when the command failed or printed nothing.
    package static func text(_ executable: String, _ arguments: [String], in directory: String? = nil) -> String? {
        guard let (bytes, _) = run(executable, arguments, in: directory) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }

    /// Finds an executable on `PATH` (or takes an absolute path as is).
    package static func findExecutable(_ name: String) -> String? {
        if name.hasPrefix("/") { return access(name, X_OK) == 0 ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for folder in path.split(separator: ":") {
            let candidate = "\(folder)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// The path of the running program: `/proc/self/exe` where it exists, else the first argument.
    package static func currentExecutable() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments.first ?? ""
    }
}
