import Foundation
import QuillCore
import QuillTesting
import Testing

@Suite("Run directory files")
struct RunDirectoryTests {
    func makeRun(_ temp: TemporaryDirectory) throws -> RunDirectory {
        let home = QuillHome(path: temp.path)
        let directory = try home.makeRunDirectory()
        let id = try #require(RunID(directory.name))
        try directory.writeMeta(
            RunMeta(
                id: id,
                name: "r",
                project: Project(displayName: "p"),
                kind: .training,
                parent: nil,
                startedAt: Date()
            )
        )
        return directory
    }

    @Test("missing files read as empty")
    func missingFiles() throws {
        let temp = TemporaryDirectory()
        let directory = RunDirectory(path: temp.file("nothing"))
        #expect(try directory.readMetricRows().rows.isEmpty)
        #expect(try directory.readEvents().events.isEmpty)
        #expect(try directory.readSystem().samples.isEmpty)
        #expect(try directory.readLog().isEmpty)
        #expect(try directory.readConfig() == .object([:]))
        #expect(throws: QuillError.self) { try directory.readMeta() }
    }

    @Test("a truncated last line is ignored and flagged; malformed lines are skipped and counted")
    func tolerantReader() throws {
        let temp = TemporaryDirectory()
        let path = try temp.write(
            "metrics.jsonl",
            """
            {"_idx":0,"_timestamp":"2026-11-24T10:00:00.000000Z","step":0,"loss":1.0}
            this is not json
            {"_idx":1,"_timestamp":"2026-11-24T10:00:01.000000Z","step":1,"loss":NaN,"acc":"Infinity"}

            {"_idx":2,"loss":[1,2]}
            [1,2,3]
            {"_idx":3,"_timestamp":"2026-11-24T10:00:03.000000Z","step":3,"lo
            """
        )
        let (rows, diagnostics) = try RunDirectory(path: temp.path).readMetricRows()
        #expect(rows.map(\.index) == [0, 1, 2])
        #expect(rows[1].values["loss"]?.isNaN == true)
        #expect(rows[1].values["acc"] == .infinity)
        #expect(rows[2].values.isEmpty)
        #expect(diagnostics.malformedLines == 2)
        #expect(diagnostics.malformedLineNumbers == [2, 6])
        #expect(diagnostics.truncatedTail)
        #expect(diagnostics.warning(file: path)?.contains("skipped 2 malformed") == true)
    }

    @Test("a complete last line without a newline is kept")
    func lastLineWithoutNewline() throws {
        let temp = TemporaryDirectory()
        try temp.write("metrics.jsonl", #"{"_idx":0,"loss":1}"# + "\n" + #"{"_idx":1,"loss":2}"#)
        let (rows, diagnostics) = try RunDirectory(path: temp.path).readMetricRows()
        #expect(rows.count == 2)
        #expect(!diagnostics.truncatedTail)
    }

    @Test("appending cuts a partial last line and continues the index after the last row")
    func appendAfterCrash() throws {
        let temp = TemporaryDirectory()
        let directory = try makeRun(temp)
        try FileIO.append(
            directory.metricsPath,
            Array((#"{"_idx":0,"loss":1}"# + "\n" + #"{"_idx":1,"loss":2}"# + "\n" + #"{"_idx":2,"lo"#).utf8)
        )
        let first = try MetricsFile.appendLocked(directory: directory, rows: [(5, ["loss": 3]), (6, ["loss": .nan])])
        #expect(first == 2)
        let (rows, diagnostics) = try directory.readMetricRows()
        #expect(rows.map(\.index) == [0, 1, 2, 3])
        #expect(rows[3].values["loss"]?.isNaN == true)
        #expect(rows[2].step == 5)
        #expect(!diagnostics.truncatedTail)
        #expect(diagnostics.malformedLines == 0)
    }

    @Test("appending to lines without _idx numbers after the line count")
    func appendWithoutIndexes() throws {
        let temp = TemporaryDirectory()
        let directory = try makeRun(temp)
        try FileIO.append(directory.metricsPath, Array("{\"loss\":1}\n{\"loss\":2}\n".utf8))
        #expect(try MetricsFile.appendLocked(directory: directory, rows: [(nil, ["loss": 3])]) == 2)
    }

    @Test("the index is found even when the last line is longer than the tail window")
    func longLastLine() throws {
        let temp = TemporaryDirectory()
        let directory = try makeRun(temp)
        var values: [String: Double] = [:]
        for index in 0..<2000 { values["metric_with_a_long_name_\(index)"] = Double(index) }
        try MetricsFile.appendLocked(directory: directory, rows: [(0, ["a": 1]), (1, values)])
        #expect(try MetricsFile.appendLocked(directory: directory, rows: [(2, ["a": 2])]) == 2)
    }

    @Test("encoded rows round-trip every double exactly, NaN and infinities included")
    func encoderRoundTrip() throws {
        let encoder = RowEncoder(capacity: 16)
        let values: [Double] = [
            0, -0.0, 1, 0.1, 1e-300, 1.7976931348623157e308, Double.leastNonzeroMagnitude, -2.5, .nan, .infinity,
            -.infinity, 123456789.123456789,
        ]
        for (index, value) in values.enumerated() {
            encoder.appendRow(
                index: index,
                microseconds: 1_700_000_000_000_000 + Int64(index),
                step: index * 10,
                values: ["v": value, "we\"ird\nkey": 1]
            )
        }
        let temp = TemporaryDirectory()
        try FileIO.append(temp.file("metrics.jsonl"), encoder.bytes)
        let (rows, diagnostics) = try RunDirectory(path: temp.path).readMetricRows()
        #expect(diagnostics.malformedLines == 0)
        #expect(rows.count == values.count)
        for (row, value) in zip(rows, values) {
            let read = try #require(row.values["v"])
            #expect(read.bitPattern == value.bitPattern || (read.isNaN && value.isNaN))
            #expect(row.values["we\"ird\nkey"] == 1)
            #expect(row.step == row.index * 10)
        }
        #expect(Timestamp.string(rows[3].timestamp) == "2023-11-14T22:13:20.000003Z")
    }

    @Test("meta.json is replaced atomically: a reader never sees a partial file while a writer rewrites it")
    func atomicMeta() async throws {
        let temp = TemporaryDirectory()
        let directory = try makeRun(temp)
        let writer = Task {
            for round in 0..<300 {
                try directory.updateMeta { meta in
                    meta.summary["round"] = .int(round)
                    meta.params["padding"] = .string(String(repeating: "x", count: round * 20))
                }
            }
        }
        var reads = 0
        while !writer.isCancelled {
            let meta = try directory.readMeta()
            #expect(meta.name == "r")
            reads += 1
            if reads > 50, (meta.summary["round"]?.intValue ?? 0) >= 299 { break }
            if reads > 100_000 { break }
        }
        try await writer.value
        #expect(try directory.readMeta().summary["round"] == 299)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter {
            $0.contains(".tmp-")
        }
        #expect(leftovers.isEmpty)
    }

    @Test("concurrent meta updates from many threads lose none")
    func concurrentMetaUpdates() async throws {
        let temp = TemporaryDirectory()
        let directory = try makeRun(temp)
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    for item in 0..<20 {
                        _ = try? directory.updateMeta { $0.params["w\(worker)_\(item)"] = .int(item) }
                    }
                }
            }
        }
        #expect(try directory.readMeta().params.count == 160)
    }

    @Test("log lines written by the SDK parse back with time and level; other lines are plain output")
    func logLines() {
        let line = LogLine(
            timestamp: Date(timeIntervalSince1970: 1_700_000_000),
            level: .warning,
            message: "disk [almost] full"
        )
        let parsed = LogLine(parsing: line.text)
        #expect(parsed == line)
        #expect(LogLine(parsing: "Epoch 1 [====>    ]").level == nil)
    }
}
