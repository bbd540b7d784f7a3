public import QuillCore

extension StepCatalogEntry {
    /// The result as JSON with everything `quill steps show --json` and the server's step page show: the
    /// listing fields, the whole metadata, every attempt, dependents, files and the end of the log.
    ///
    /// - Parameters:
    ///   - graph: The dependency graph of the catalog the entry came from, for its dependents.
    ///   - logLines: How many lines of `.quill/log.txt` to include, from the end.
    public func detailJSON(graph: StepGraph, logLines: Int) -> JSONValue {
        var members = json.objectValue ?? [:]
        members["metadata"] = info.metadata
        members["attempts"] = .array(info.state.attempts.map(\.json))
        members["dependents"] = .array(graph.dependents(of: reference).map { .string($0.description) })
        members["files"] = .array(
            StepCatalog.files(in: directory).map { ["path": .string($0.path), "bytes": .int(Int($0.bytes))] }
        )
        members["log_tail"] = .array(
            Self.lastLines(of: StepDirectory(directory).log, count: logLines).map(JSONValue.string)
        )
        return .object(members)
    }

    /// The last `count` lines of a text file (none when it cannot be read).
    public static func lastLines(of path: String, count: Int) -> [String] {
        guard count > 0, let bytes = try? FileIO.read(path) else { return [] }
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
        return Array(lines.suffix(count))
    }
}
