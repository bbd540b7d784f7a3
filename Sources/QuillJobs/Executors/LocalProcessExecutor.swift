import Foundation
import QuillCore

/// Runs a job's command as a child process of the worker, started the way `quill run` starts one (``Spawn``: its
/// own process group, an empty signal mask, default signal actions), in the job's working directory, standard
/// input from `/dev/null`, standard output and error appended to the output file.
package struct LocalProcessExecutor: Executor {
    /// An executor.
    package init() {}

    package func start(_ request: ExecutionRequest) async throws -> any Execution {
        guard let command = request.argv.first else { throw QuillError(.process, "the job has no command") }
        let output = open(request.outputPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard output >= 0 else {
            throw QuillError.posix("opening the job's output file", path: request.outputPath, errno: errno)
        }
        defer { Platform.close(output) }
        let input = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { if input >= 0 { Platform.close(input) } }
        if let directory = request.workingDirectory {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue
            else {
                throw QuillError(.process, "the job's working directory '\(directory)' does not exist on this worker")
            }
        }
        let environment = ProcessInfo.processInfo.environment.merging(request.environment) { _, new in new }
        let pid: pid_t
        do {
            pid = try Spawn.start(
                request.argv,
                environment: environment,
                options: Spawn.Options(
                    standardOutput: output,
                    standardError: output,
                    inheritedIgnored: [],
                    standardInput: input >= 0 ? input : nil,
                    workingDirectory: request.workingDirectory
                )
            )
        } catch {
            let reason =
                switch error.code {
                case ENOENT: "command '\(command)' not found on this worker"
                case EACCES: "could not start '\(command)': permission denied"
                default: "could not start '\(command)': \(String(cString: strerror(error.code)))"
                }
            throw QuillError(.process, reason)
        }
        return LocalProcess(pid: pid)
    }
}

/// A child process: a thread of its own waits for it (never a thread of Swift's cooperative pool).
final class LocalProcess: Execution {
    private let pid: pid_t
    private let end = ExecutionEnd()

    init(pid: pid_t) {
        self.pid = pid
        let thread = Thread { [end] in
            var raw: Int32 = 0
            while waitpid(pid, &raw, 0) < 0 {
                if errno != EINTR {
                    raw = 0xff00
                    break
                }
            }
            let status = WaitStatus(raw: raw)
            end.finish(status.terminationSignal.map(Termination.signalled) ?? .exited(status.exitCode))
        }
        thread.start()
    }

    func wait() async -> Termination {
        await end.wait()
    }

    func stop(grace: Duration) {
        guard end.beginStopping() else { return }
        // The whole process group: a shell script's children stop too.
        _ = kill(-pid, SIGTERM)
        let (seconds, attoseconds) = grace.components
        let delay = Double(seconds) + Double(attoseconds) / 1e18
        DispatchQueue.global().asyncAfter(deadline: .now() + delay) { [end, pid] in
            // The group may have outlived its leader only if the leader is gone; kill what is left either way.
            if !end.hasEnded { _ = kill(-pid, SIGKILL) }
        }
    }
}
