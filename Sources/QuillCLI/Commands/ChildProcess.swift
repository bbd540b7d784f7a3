import Dispatch
import Foundation

/// Runs a child process, streaming its output to a callback, and forwards SIGTERM and SIGHUP to it.
enum ChildProcess {
    enum Outcome {
        case exited(Int32)
        case signalled(Int32)
        case failedToStart(String)
    }

    /// Runs `arguments` (searched on PATH), with extra environment variables, until it ends.
    ///
    /// - Parameter output: Called from reader threads with each chunk of output; `true` for standard error.
    static func run(
        _ arguments: [String],
        environment extra: [String: String],
        output: @escaping @Sendable ([UInt8], Bool) -> Void
    ) -> Outcome {
        guard let executable = arguments.first else { return .failedToStart("no command given") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(extra) { _, new in new }
        let outPipe = Pipe()
        let errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        do {
            try process.run()
        } catch {
            return .failedToStart("could not start '\(executable)': \(error)")
        }
        let pid = process.processIdentifier
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGTERM, SIGHUP, SIGINT] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            // SIGINT from a terminal reaches the child directly; forward only the ones sent to quill alone.
            if number != SIGINT {
                source.setEventHandler { kill(pid, number) }
            }
            source.resume()
            sources.append(source)
        }
        let group = DispatchGroup()
        for (pipe, isError) in [(outPipe, false), (errPipe, true)] {
            group.enter()
            let fd = pipe.fileHandleForReading.fileDescriptor
            let thread = Thread {
                var buffer = [UInt8](repeating: 0, count: 1 << 16)
                while true {
                    let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
                    if count < 0, errno == EINTR { continue }
                    if count <= 0 { break }
                    output(Array(buffer[0..<count]), isError)
                }
                group.leave()
            }
            thread.start()
        }
        process.waitUntilExit()
        group.wait()
        for source in sources { source.cancel() }
        for number in [SIGTERM, SIGHUP, SIGINT] { signal(number, SIG_DFL) }
        if process.terminationReason == .uncaughtSignal {
            return .signalled(process.terminationStatus)
        }
        if process.terminationStatus == 127 {
            // /usr/bin/env exits 127 when the command does not exist.
            if ProcessCapture.findOnPath(executable) == nil {
                return .failedToStart("command '\(executable)' not found")
            }
        }
        return .exited(process.terminationStatus)
    }
}

enum ProcessCapture {
    static func findOnPath(_ name: String) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for folder in path.split(separator: ":") where access("\(folder)/\(name)", X_OK) == 0 {
            return "\(folder)/\(name)"
        }
        return nil
    }
}
