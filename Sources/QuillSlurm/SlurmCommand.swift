import Foundation
import QuillCore
import Synchronization

/// One run of a SLURM command-line tool (`sbatch`, `squeue`, `scontrol`, `sacct`, `scancel`): how it ended and
/// what it wrote.
package struct SlurmCommandResult: Sendable, Hashable {
    /// The tool and its arguments, as run.
    package var argv: [String]
    /// Its exit status (128 + the signal when a signal ended it).
    package var status: Int32
    /// Its standard output.
    package var output: String
    /// Its standard error.
    package var error: String

    /// The first line of standard error, or of standard output when the error is empty: what a message shows.
    package var firstErrorLine: String {
        let text = error.isEmpty ? output : error
        return text.split(whereSeparator: \.isNewline).first.map(String.init) ?? "no output"
    }
}

/// Runs SLURM's tools as child processes without holding a thread of Swift's cooperative pool: the child is
/// started with ``QuillCore/Spawn`` (as `quill run` and the local job executor start theirs) and a thread of its
/// own reads its output and waits for it; the caller's task is suspended meanwhile.
package enum SlurmCommand {
    /// Runs `argv` (the first looked up on `PATH`) with `environment` added to quill's, killing it (its process
    /// group) after `timeout`: a SLURM tool whose controller is down retries for a long time.
    ///
    /// - Throws: ``QuillCore/QuillError`` with code `unavailable` when the tool is not installed or could not
    ///   start, or when it ran past `timeout`.
    package static func run(
        _ argv: [String],
        environment: [String: String],
        timeout: Duration
    ) async throws -> SlurmCommandResult {
        let tool = argv.first ?? ""
        let outcome = await withCheckedContinuation { (continuation: CheckedContinuation<Outcome, Never>) in
            let thread = Thread {
                continuation.resume(returning: runBlocking(argv, environment: environment, timeout: timeout))
            }
            thread.start()
        }
        switch outcome {
        case .ran(let result): return result
        case .timedOut:
            throw QuillError(
                .unavailable,
                "`\(tool)` did not answer within \(timeout); is the SLURM controller up (`sinfo`; SLURM_CONF)?"
            )
        case .failedToStart(let code):
            let why =
                code == ENOENT
                ? "not found on PATH; install SLURM's client tools (scripts/install-deps.sh installs slurm-wlm)"
                : String(cString: strerror(code))
            throw QuillError(.unavailable, "could not run `\(tool)`: \(why)")
        }
    }

    private enum Outcome: Sendable {
        case ran(SlurmCommandResult)
        case timedOut
        case failedToStart(Int32)
    }

    private static func runBlocking(_ argv: [String], environment: [String: String], timeout: Duration) -> Outcome {
        var outputPipe: [Int32] = [-1, -1]
        var errorPipe: [Int32] = [-1, -1]
        guard pipe(&outputPipe) == 0 else { return .failedToStart(errno) }
        guard pipe(&errorPipe) == 0 else {
            _ = Platform.close(outputPipe[0])
            _ = Platform.close(outputPipe[1])
            return .failedToStart(errno)
        }
        // Close-on-exec: a child another thread starts at the same time must not hold a write end open.
        for descriptor in outputPipe + errorPipe { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        let input = Platform.open("/dev/null", O_RDONLY | O_CLOEXEC)
        let merged = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let pid: pid_t
        do {
            pid = try Spawn.start(
                argv,
                environment: merged,
                options: Spawn.Options(
                    standardOutput: outputPipe[1],
                    standardError: errorPipe[1],
                    inheritedIgnored: [],
                    standardInput: input >= 0 ? input : nil
                )
            )
        } catch {
            for descriptor in outputPipe + errorPipe + [input] where descriptor >= 0 { _ = Platform.close(descriptor) }
            return .failedToStart(error.code)
        }
        _ = Platform.close(outputPipe[1])
        _ = Platform.close(errorPipe[1])
        if input >= 0 { _ = Platform.close(input) }

        let watch = Watch()
        let (seconds, attoseconds) = timeout.components
        DispatchQueue.global().asyncAfter(deadline: .now() + Double(seconds) + Double(attoseconds) / 1e18) {
            watch.state.withLock { state in
                guard !state.finished else { return }
                state.killed = true
                _ = Platform.kill(-pid, SIGKILL)
            }
        }
        let (output, error) = readBoth(outputPipe[0], errorPipe[0])
        _ = Platform.close(outputPipe[0])
        _ = Platform.close(errorPipe[0])
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) < 0 {
            if errno != EINTR {
                raw = 0xff00
                break
            }
        }
        let killed = watch.state.withLock { state in
            state.finished = true
            return state.killed
        }
        if killed { return .timedOut }
        let status = WaitStatus(raw: raw)
        return .ran(
            SlurmCommandResult(
                argv: argv,
                status: status.terminationSignal.map { 128 + $0 } ?? status.exitCode,
                output: String(decoding: output, as: UTF8.self),
                error: String(decoding: error, as: UTF8.self)
            )
        )
    }

    /// Whether the child finished, and whether the time limit killed it.
    private final class Watch: Sendable {
        let state = Mutex((finished: false, killed: false))
    }

    /// Reads two pipes to their ends at once (a child blocked writing one while the other is read never
    /// finishes).
    private static func readBoth(_ first: Int32, _ second: Int32) -> ([UInt8], [UInt8]) {
        var buffers: [[UInt8]] = [[], []]
        var descriptors = [
            pollfd(fd: first, events: Int16(POLLIN), revents: 0), pollfd(fd: second, events: Int16(POLLIN), revents: 0),
        ]
        var open = 2
        var chunk = [UInt8](repeating: 0, count: 16384)
        while open > 0 {
            let ready = poll(&descriptors, nfds_t(descriptors.count), -1)
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }
            for index in descriptors.indices where descriptors[index].fd >= 0 && descriptors[index].revents != 0 {
                let count = chunk.withUnsafeMutableBytes {
                    Platform.read(descriptors[index].fd, $0.baseAddress, $0.count)
                }
                if count > 0 {
                    buffers[index] += chunk[0..<count]
                } else if count == 0 || errno != EINTR {
                    descriptors[index].fd = -1
                    open -= 1
                }
            }
        }
        return (buffers[0], buffers[1])
    }
}
