/// What a reader of a JSON-lines file found besides the records.
public struct ReadDiagnostics: Sendable, Hashable {
    /// Lines that did not parse and were skipped (the truncated last line is counted separately).
    public var malformedLines: Int = 0
    /// The 1-based line numbers of the first few malformed lines, for the warning text.
    public var malformedLineNumbers: [Int] = []
    /// Whether the file ended in an incomplete line, as a crash mid-write leaves it; that line is ignored.
    public var truncatedTail: Bool = false

    /// Creates empty diagnostics.
    public init() {}

    /// A warning to show the user, or `nil` when the file read cleanly.
    public func warning(file: String) -> String? {
        var parts: [String] = []
        if malformedLines > 0 {
            let lines = malformedLineNumbers.map(String.init).joined(separator: ", ")
            parts.append(
                "skipped \(malformedLines) malformed line(s) in \(file) (line \(lines)\(malformedLines > malformedLineNumbers.count ? ", …" : ""))"
            )
        }
        if truncatedTail {
            parts.append("ignored an incomplete last line in \(file) (the writer stopped mid-line)")
        }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }
}

/// Splits JSON-lines bytes into parsed objects, skipping blank lines, counting malformed ones and ignoring
/// an unterminated last line.
package enum JSONLines {
    /// Calls `body` with each parsed object line of the file's bytes.
    package static func forEachObject(
        in bytes: [UInt8],
        diagnostics: inout ReadDiagnostics,
        _ body: ([String: JSONValue]) -> Void
    ) {
        bytes.withUnsafeBufferPointer { buffer in
            var lineStart = 0
            var lineNumber = 0
            let count = buffer.count
            while lineStart < count {
                lineNumber += 1
                var lineEnd = lineStart
                while lineEnd < count, buffer[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
                let terminated = lineEnd < count
                let line = UnsafeBufferPointer(rebasing: buffer[lineStart..<lineEnd])
                lineStart = lineEnd + 1
                if isBlank(line) { continue }
                guard terminated else {
                    // A last line without its newline: keep it only when it is a complete object
                    // (a file written by hand without a final newline); else it is a crash's partial write.
                    if let value = try? JSONParser.parse(buffer: line), case .object(let members) = value {
                        body(members)
                    } else {
                        diagnostics.truncatedTail = true
                    }
                    continue
                }
                guard let value = try? JSONParser.parse(buffer: line), case .object(let members) = value else {
                    diagnostics.malformedLines += 1
                    if diagnostics.malformedLineNumbers.count < 5 {
                        diagnostics.malformedLineNumbers.append(lineNumber)
                    }
                    continue
                }
                body(members)
            }
        }
    }

    private static func isBlank(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        line.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    }
}
