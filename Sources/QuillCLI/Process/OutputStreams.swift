import Foundation

/// The command's standard output and error as quill reads them: a pseudo-terminal where quill's own stream is
/// a terminal (one shared by both when they are the same terminal, which keeps their order), a pipe
/// otherwise.
struct OutputStreams {
    /// One stream quill reads and copies.
    struct Stream {
        /// The descriptor quill reads.
        var descriptor: Int32
        /// quill's own descriptor the bytes are copied to (1 or 2).
        var destination: Int32
        /// Whether this is standard error.
        var isError: Bool
        /// The pseudo-terminal, when the stream is one.
        var terminal: PseudoTerminal?
    }

    /// The streams still open.
    private(set) var readable: [Stream] = []
    /// The descriptor the command gets as standard output.
    private(set) var childOutput: Int32 = 1
    /// The descriptor the command gets as standard error.
    private(set) var childError: Int32 = 2
    private var childSides: [Int32] = []

    /// Whether any stream is a pseudo-terminal.
    var hasTerminal: Bool { readable.contains { $0.terminal != nil } }

    /// Opens a stream for standard output and one for standard error (or one for both).
    static func open() -> OutputStreams {
        var streams = OutputStreams()
        let sameTerminal = isatty(1) == 1 && isatty(2) == 1 && sameDevice(1, 2)
        if isatty(1) == 1, let pair = PseudoTerminal.open(like: 1) {
            streams.add(Stream(descriptor: pair.primary, destination: 1, isError: false, terminal: pair))
            streams.childOutput = pair.secondary
            streams.childSides.append(pair.secondary)
            if sameTerminal {
                streams.childError = pair.secondary
                return streams
            }
        } else {
            streams.childOutput = streams.addPipe(destination: 1, isError: false) ?? 1
        }
        if isatty(2) == 1, let pair = PseudoTerminal.open(like: 2) {
            streams.add(Stream(descriptor: pair.primary, destination: 2, isError: true, terminal: pair))
            streams.childError = pair.secondary
            streams.childSides.append(pair.secondary)
        } else {
            streams.childError = streams.addPipe(destination: 2, isError: true) ?? 2
        }
        return streams
    }

    private static func sameDevice(_ first: Int32, _ second: Int32) -> Bool {
        var one = stat()
        var two = stat()
        guard fstat(first, &one) == 0, fstat(second, &two) == 0 else { return false }
        return one.st_rdev == two.st_rdev
    }

    private mutating func add(_ stream: Stream) {
        readable.append(stream)
    }

    /// Makes a pipe; returns its write side for the command, or `nil` (the command then writes to quill's own).
    private mutating func addPipe(destination: Int32, isError: Bool) -> Int32? {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { return nil }
        _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
        add(Stream(descriptor: ends[0], destination: destination, isError: isError, terminal: nil))
        childSides.append(ends[1])
        return ends[1]
    }

    /// Closes quill's copies of the command's sides, so the streams end when the command's writers do.
    mutating func closeChildSides() {
        for descriptor in childSides { close(descriptor) }
        childSides = []
    }

    /// Reads what is available on stream `index` and copies it; `false` when the stream ended.
    func copy(_ index: Int, output: ([UInt8], Bool) -> Void) -> Bool {
        let stream = readable[index]
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        let count = buffer.withUnsafeMutableBytes { read(stream.descriptor, $0.baseAddress, $0.count) }
        if count < 0 { return errno == EINTR || errno == EAGAIN }
        // A pseudo-terminal answers EIO once every writer has closed it; a pipe answers 0.
        if count == 0 { return false }
        let bytes = Array(buffer[0..<count])
        Self.writeAll(bytes, to: stream.destination)
        output(bytes, stream.isError)
        return true
    }

    /// Closes and forgets the streams at `indices`.
    mutating func remove(_ indices: [Int]) {
        for index in indices.sorted(by: >) {
            close(readable[index].descriptor)
            readable.remove(at: index)
        }
    }

    /// Keeps each pseudo-terminal's window size equal to the real terminal's; returns whether one changed.
    func followWindowSize() -> Bool {
        var changed = false
        for stream in readable where stream.terminal?.copyWindowSize(from: stream.destination) == true {
            changed = true
        }
        return changed
    }

    /// Closes everything still open.
    mutating func closeAll() {
        closeChildSides()
        remove(Array(readable.indices))
    }

    private static func writeAll(_ bytes: [UInt8], to descriptor: Int32) {
        var offset = 0
        var attempts = 0
        while offset < bytes.count, attempts < 1000 {
            let written = bytes[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if written > 0 {
                offset += written
            } else if written < 0, errno == EINTR || errno == EAGAIN {
                attempts += 1
                usleep(1000)
            } else {
                return  // quill's own output is gone (a closed pipe): keep capturing regardless
            }
        }
    }
}
