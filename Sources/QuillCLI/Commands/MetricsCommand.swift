import ArgumentParser
import Foundation
import QuillClient
import QuillCore

/// `quill metrics RUN`: exports a run's metrics.
struct MetricsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Export a run's metrics as CSV or JSON.",
        discussion:
            "Rows superseded by a resume are left out. CSV columns: _idx, step, _timestamp, then one column per key."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case csv, json, jsonl
    }

    @OptionGroup var homeOptions: HomeOptions

    @Argument(help: "The run: id, unique id prefix, or name.")
    var run: String

    @Option(name: .shortAndLong, help: "Only these metric keys. Repeatable.")
    var key: [String] = []

    @Option(name: .shortAndLong, help: "csv, json (one array) or jsonl (one object a line).")
    var format: Format = .csv

    @Option(
        name: .long,
        help: "With one --key: downsample to at most this many points, keeping each bucket's min and max."
    )
    var maxPoints: Int?

    func validate() throws {
        if let maxPoints {
            guard key.count == 1 else {
                throw ValidationError("--max-points works on one metric: give exactly one --key")
            }
            guard maxPoints >= 4 else { throw ValidationError("--max-points must be at least 4") }
        }
    }

    @Flag(help: "Print JSON (the same as --format json).")
    var json = false

    @OptionGroup var serverOptions: ServerOptions

    func run() async throws {
        let format = json ? .json : format
        let reader = serverOptions.reader(homeOptions)
        // A local run's rows are read once, with its statistics; a server's statistics name the keys to fetch.
        let found = try reader.run(run, project: nil)
        for warning in found.warnings { Console.warn(warning) }
        let runName = found.meta.name
        let rows = try reader.metricRows(of: found, keys: key, maxPoints: maxPoints)
        let wanted = Set(key)
        let allKeys = Set(rows.flatMap(\.values.keys))
        for missing in wanted.subtracting(allKeys).sorted() {
            Console.warn(
                "run \(runName) has no metric '\(missing)'; it has: \(allKeys.sorted().joined(separator: ", "))"
            )
        }
        let keys = (wanted.isEmpty ? allKeys : allKeys.intersection(wanted)).sorted()
        var selected = rows.filter { row in wanted.isEmpty || row.values.keys.contains(where: wanted.contains) }
        if let maxPoints, let only = key.first {
            let points = selected.compactMap { row in
                row.values[only].map {
                    MetricPoint(index: row.index, step: row.step, timestamp: row.timestamp, value: $0)
                }
            }
            let kept = Set(MetricDownsampling.minMax(points, maxPoints: maxPoints).map(\.index))
            selected = selected.filter { kept.contains($0.index) }
        }
        var out = ""
        switch format {
        case .csv:
            out += (["_idx", "step", "_timestamp"] + keys.map(Self.csvField)).joined(separator: ",") + "\n"
            for row in selected {
                var fields = [String(row.index), row.step.map(String.init) ?? "", Timestamp.string(row.timestamp)]
                for key in keys {
                    fields.append(row.values[key].map(Self.csvNumber) ?? "")
                }
                out += fields.joined(separator: ",") + "\n"
            }
            FileHandle.standardOutput.write(Data(out.utf8))
        case .json, .jsonl:
            let objects: [JSONValue] = selected.map { row in
                var members: [String: JSONValue] = [
                    "_idx": .int(row.index), "_timestamp": .string(Timestamp.string(row.timestamp)),
                ]
                if let step = row.step { members["step"] = .int(step) }
                for key in keys { if let value = row.values[key] { members[key] = .double(value) } }
                return .object(members)
            }
            if format == .json {
                Console.printJSON(.array(objects))
            } else {
                var bytes: [UInt8] = []
                for object in objects {
                    bytes += JSONWriter.bytes(object)
                    bytes.append(UInt8(ascii: "\n"))
                }
                FileHandle.standardOutput.write(Data(bytes))
            }
        }
    }

    static func csvNumber(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "Infinity" : "-Infinity" }
        return value.description
    }

    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
