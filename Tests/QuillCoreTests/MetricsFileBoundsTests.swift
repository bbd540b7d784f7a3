import Foundation
import QuillCore
import QuillTesting
import Testing

/// Issue 9, item 1 on the local side: a `metrics.jsonl` whose `_idx` is the largest integer (written by
/// hand or by another tool) is read, and appending after it fails with a message, not an overflow trap.
@Suite("metrics.jsonl with extreme indexes")
struct MetricsFileBoundsTests {
    @Test("reading rows after _idx = Int.max, and refusing to append after it")
    func largestIndex() throws {
        let temp = TemporaryDirectory("quill-metrics")
        let path = temp.file("metrics.jsonl")
        try Data(
            """
            {"_idx": 9223372036854775807, "loss": 1}
            {"loss": 2}

            """.utf8
        ).write(to: URL(fileURLWithPath: path))
        let (rows, _) = try MetricsFile.read(path)
        #expect(rows.map(\.index) == [Int.max, Int.max])
        let fd = open(path, O_RDWR)
        defer { close(fd) }
        try Data(#"{"_idx": 9223372036854775807, "loss": 3}"#.utf8 + [0x0A]).append(to: path)
        #expect(throws: QuillError.self) { try MetricsFile.prepareForAppend(fd: fd, path: path) }
    }
}

extension Data {
    fileprivate func append(to path: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: self)
    }
}
