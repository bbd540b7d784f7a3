import Foundation

/// Answers whether the process that owns a running run is still alive.
package enum ProcessLiveness {
    /// The start time of a process in clock ticks since boot, from `/proc/PID/stat` (Linux only).
    package static func startTicks(of pid: Int32) -> UInt64? {
        guard let bytes = try? FileIO.read("/proc/\(pid)/stat") else { return nil }
        // The command name (field 2) is in parentheses and may hold spaces: split after the last ')'.
        guard let close = bytes.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let rest = String(decoding: bytes[(close + 1)...], as: UTF8.self)
        let fields = rest.split(separator: " ", omittingEmptySubsequences: true)
        // fields[0] is field 3 (state); the start time is field 22.
        guard fields.count > 19 else { return nil }
        return UInt64(fields[19])
    }

    /// The host name of this machine.
    package static func hostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Whether the process is alive: it exists and, when its start time is known, started at that time.
    package static func isAlive(pid: Int32, startTicks expected: UInt64?) -> Bool {
        guard pid > 0 else { return false }
        if kill(pid, 0) != 0 && errno == ESRCH { return false }
        if let expected, let actual = startTicks(of: pid) {
            return actual == expected
        }
        if FileIO.exists("/proc/self/stat"), !FileIO.exists("/proc/\(pid)/stat") {
            return false
        }
        return true
    }
}
