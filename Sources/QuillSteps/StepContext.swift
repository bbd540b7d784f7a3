import Foundation
public import Logging
import QuillCore
import Synchronization

/// What a step's `create`, `load` and `validate` get: its folder, a logger that also writes the step's
/// log file, and a way to use other steps.
public struct StepContext: Sendable {
    /// The step's result folder; `create` writes its files here.
    public let directory: String
    /// The step's namespace.
    public let namespace: String
    /// The step's hash.
    public let hash: String
    /// The options the step runs with.
    public let options: StepOptions
    /// Logs to the options' logger and, during `create`, to the step's `.quill/log.txt`.
    public let logger: Logger
    let dependencies: DependencyRecorder

    /// A file in the step's folder.
    public func file(_ name: String) -> String { directory + "/" + name }

    /// The shared folder for large files (`<root>/raw`).
    public var rawDirectory: String { options.rawDirectory }

    /// Loads or creates another step this one depends on, and records the dependency edge.
    public func dependency<Dependency: Step>(_ step: Dependency) async throws -> Dependency.Output {
        dependencies.add(namespace: Dependency.namespace, hash: try step.hash)
        return try await step.loadOrCreate(options: options)
    }
}

/// The steps a `create` used, in order, without repeats.
final class DependencyRecorder: Sendable {
    private let edges = Mutex<[StepReference]>([])

    func add(namespace: String, hash: String) {
        let reference = StepReference(namespace: namespace, hash: hash)
        edges.withLock { if !$0.contains(reference) { $0.append(reference) } }
    }

    var all: [StepReference] { edges.withLock { $0 } }
}

/// A step result by namespace and hash: `NAMESPACE/HASH`.
public struct StepReference: Sendable, Hashable, CustomStringConvertible {
    /// The namespace.
    public var namespace: String
    /// The hash.
    public var hash: String

    /// Creates a reference.
    public init(namespace: String, hash: String) {
        self.namespace = namespace
        self.hash = hash
    }

    /// Parses `NAMESPACE/HASH` (the namespace may be given as its folder name).
    public init?(parsing text: String) {
        guard let slash = text.lastIndex(of: "/") else { return nil }
        let namespace = String(text[..<slash])
        let hash = String(text[text.index(after: slash)...])
        guard !namespace.isEmpty, hash.count >= 4, hash.allSatisfy(\.isHexDigit) else { return nil }
        self.namespace = namespace.removingPercentEncoding ?? namespace
        self.hash = hash.lowercased()
    }

    /// `NAMESPACE/HASH`.
    public var description: String { "\(namespace)/\(hash)" }

    var json: JSONValue { ["namespace": .string(namespace), "hash": .string(hash)] }
}

/// A log handler that appends lines to a file (the step's `.quill/log.txt`) and passes them on.
struct StepLogHandler: LogHandler {
    let path: String
    var next: Logger
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let line = "\(Timestamp.string(Date())) \(event.level) \(event.message)\n"
        try? FileIO.append(path, Array(line.utf8))
        next.log(
            level: event.level,
            event.message,
            metadata: event.metadata,
            file: event.file,
            function: event.function,
            line: event.line
        )
    }
}
