import ArgumentParser
import Foundation
import QuillCore

/// `quill log k=v…`: logs metrics into the current run from a shell script.
struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Log metrics (or summary values) into the run named by QUILL_RUN_DIR.",
        discussion: """
            For shell scripts run by `quill run`: `quill log loss=0.25 acc=0.91 --step 100`. Values are numbers; \
            nan, inf and -inf are accepted. With --summary the values are merged into the run's summary instead.
            """
    )

    @Argument(help: "Values to log, key=value.")
    var values: [String] = []

    @Option(name: .shortAndLong, parsing: .unconditional, help: "The training step the values belong to.")
    var step: Int?

    @Flag(help: "Merge the values into the run's summary instead of logging metrics.")
    var summary = false

    @Option(name: .long, help: ArgumentHelp("The run directory (default: $QUILL_RUN_DIR).", valueName: "dir"))
    var runDir: String?

    func validate() throws {
        guard !values.isEmpty else { throw ValidationError("give at least one key=value, e.g. `quill log loss=0.5`") }
        _ = try parsedValues()
    }

    func parsedValues() throws -> [String: Double] {
        var result: [String: Double] = [:]
        for item in values {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else {
                throw ValidationError("'\(item)' is not key=value")
            }
            guard let number = Self.number(parts[1]) else {
                throw ValidationError(
                    "the value of '\(parts[0])' is '\(parts[1])', not a number (nan, inf and -inf are allowed)"
                )
            }
            result[parts[0]] = number
        }
        return result
    }

    static func number(_ text: String) -> Double? {
        switch text.lowercased() {
        case "nan": return .nan
        case "inf", "+inf", "infinity", "+infinity": return .infinity
        case "-inf", "-infinity": return -.infinity
        default: return Double(text)
        }
    }

    func run() async throws {
        guard let path = runDir ?? ProcessInfo.processInfo.environment["QUILL_RUN_DIR"], !path.isEmpty else {
            throw QuillError(
                .invalidArgument,
                "no run to log into: run this under `quill run -- …` (which sets QUILL_RUN_DIR) or pass --run-dir"
            )
        }
        let directory = RunDirectory(path: path)
        guard directory.exists else {
            throw QuillError(
                .notFound,
                "'\(path)' is not a run directory (no meta.json); check QUILL_RUN_DIR or --run-dir"
            )
        }
        let parsed = try parsedValues()
        if summary {
            try directory.updateMeta { meta in
                meta.summary.merge(parsed.mapValues(JSONValue.double)) { _, new in new }
                meta.updatedAt = Date()
            }
            let event = RunEvent(kind: .summary, fields: ["values": .object(parsed.mapValues(JSONValue.double))])
            try FileIO.append(directory.eventsPath, event.line)
        } else {
            try MetricsFile.appendLocked(directory: directory, rows: [(step, parsed)])
        }
    }
}
