import Foundation

/// Reads what was appended to a job's output file since the last read, as whole lines.
///
/// A line still being written (no newline yet) is held back until it ends or the command ends
/// (``read(final:)``); bytes that are not UTF-8 are replaced, never dropped.
struct OutputTail {
    let path: String
    private var offset: UInt64 = 0
    private var partial: [UInt8] = []

    init(path: String) {
        self.path = path
    }

    /// The complete lines appended since the last call; with `final`, the unfinished last line too.
    mutating func read(final: Bool = false) -> [String] {
        guard let handle = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? handle.close() }
        var bytes = partial
        if (try? handle.seek(toOffset: offset)) != nil, let data = try? handle.readToEnd() {
            offset += UInt64(data.count)
            bytes += data
        }
        var lines: [String] = []
        var start = 0
        for index in bytes.indices where bytes[index] == UInt8(ascii: "\n") {
            lines.append(String(decoding: bytes[start..<index], as: UTF8.self))
            start = index + 1
        }
        partial = Array(bytes[start...])
        if final, !partial.isEmpty {
            lines.append(String(decoding: partial, as: UTF8.self))
            partial = []
        }
        return lines
    }
}
