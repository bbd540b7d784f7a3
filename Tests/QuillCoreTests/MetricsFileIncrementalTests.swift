import Foundation
import QuillCore
import QuillTesting
import Testing

@Suite("metrics.jsonl read in pieces")
struct MetricsFileIncrementalTests {
    @Test("each read returns only the complete lines added since the last, numbered as a whole read numbers them")
    func readsOnlyWhatIsNew() throws {
        let temp = TemporaryDirectory("quill-metrics-pieces")
        let path = temp.file("metrics.jsonl")
        func append(_ text: String) throws {
            if !FileManager.default.fileExists(atPath: path) {
                _ = FileManager.default.createFile(atPath: path, contents: nil)
            }
            let handle = try #require(FileHandle(forWritingAtPath: path))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(text.utf8))
            try handle.close()
        }
        let missing = try MetricsFile.read(path, after: MetricsFile.Position())
        #expect(missing.rows.isEmpty && missing.position == MetricsFile.Position())
        try append("{\"step\": 0, \"loss\": 1}\n{\"step\": 1, \"lo")
        let first = try MetricsFile.read(path, after: MetricsFile.Position())
        #expect(first.rows.map(\.index) == [0])
        #expect(first.position.offset == 23)
        let unchanged = try MetricsFile.read(path, after: first.position)
        #expect(unchanged.rows.isEmpty && unchanged.position == first.position, "an unfinished line waits")
        try append("ss\": 0.5}\n{\"_idx\": 7, \"loss\": 0.25}\n{\"loss\": 0.1}\n")
        let second = try MetricsFile.read(path, after: first.position)
        #expect(second.rows.map(\.index) == [1, 7, 8])
        #expect(second.rows.first?.values == ["loss": 0.5])
        let whole = try MetricsFile.read(path).rows
        #expect(whole == first.rows + second.rows)
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int
        #expect(second.position.offset == Int64(size ?? -1))
    }
}
