import ArgumentParser
import QuillClient
import QuillCore

/// `quill compare RUN RUN…`: config and summary side by side.
struct CompareCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare runs: config, summary and last metric values side by side, differences marked with *.",
        discussion:
            "Rows are config.KEY, params.KEY, summary.KEY, metrics.KEY (the last value logged), status, duration."
    )

    @OptionGroup var homeOptions: HomeOptions

    @Argument(help: "Two or more runs: ids, unique id prefixes, or names.")
    var runs: [String]

    @Flag(help: "Only show rows whose values differ.")
    var onlyDifferent = false

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @OptionGroup var serverOptions: ServerOptions

    func validate() throws {
        guard runs.count >= 2 else {
            throw ValidationError("compare needs at least two runs, e.g. `quill compare baseline baseline_1`")
        }
    }

    func run() async throws {
        let reader = serverOptions.reader(homeOptions)
        let found = try runs.map { reference in
            let run = try reader.run(reference, project: nil)
            for warning in run.warnings { Console.warn(warning) }
            return run
        }
        var columns: [[String: JSONValue]] = []
        for run in found {
            var values: [String: JSONValue] = [:]
            for (key, value) in run.config.flattened() { values["config.\(key)"] = value }
            for (key, value) in run.meta.params { values["params.\(key)"] = value }
            for (key, value) in run.meta.summary { values["summary.\(key)"] = value }
            for (key, stats) in run.statistics where stats.count > 0 { values["metrics.\(key)"] = .double(stats.last) }
            values["status"] = .string(run.meta.status.rawValue)
            values["duration"] = run.meta.durationSeconds.map(JSONValue.double) ?? .null
            columns.append(values)
        }
        let keys = Set(columns.flatMap(\.keys)).sorted { lhs, rhs in
            (Self.rank(lhs), lhs) < (Self.rank(rhs), rhs)
        }
        let differing = Set(keys.filter { key in Set(columns.map { $0[key] ?? .null }).count > 1 })

        if json {
            let rows: [JSONValue] = keys.map { key in
                [
                    "key": .string(key), "different": .bool(differing.contains(key)),
                    "values": .array(columns.map { $0[key] ?? .null }),
                ]
            }
            Console.printJSON([
                "runs": .array(found.map { ["id": .string($0.meta.id.rawValue), "name": .string($0.meta.name)] }),
                "rows": .array(rows),
            ])
            return
        }
        var table = Table(headers: [" ", "KEY"] + found.map(\.meta.name))
        for key in keys where !onlyDifferent || differing.contains(key) {
            let cells = columns.map { column -> String in
                if key == "duration", let seconds = column[key]?.doubleValue { return Formatting.duration(seconds) }
                return Formatting.value(column[key])
            }
            table.append([differing.contains(key) ? "*" : "", key] + cells)
        }
        Console.print(table.render())
        Console.print("\n\(differing.count) of \(keys.count) rows differ (marked *).")
    }

    private static func rank(_ key: String) -> Int {
        if key.hasPrefix("config.") { return 0 }
        if key.hasPrefix("params.") { return 1 }
        if key.hasPrefix("summary.") { return 2 }
        if key.hasPrefix("metrics.") { return 3 }
        return 4
    }
}
