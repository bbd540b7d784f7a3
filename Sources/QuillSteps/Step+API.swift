import Foundation
public import QuillCore

extension Step {
    /// Loads the step's result, computing it first when there is none (or ``validate(_:)`` rejects it).
    ///
    /// When another process is computing the same configuration, waits for it (polling every
    /// ``StepOptions/pollInterval``) and loads its result; when that process died or stopped renewing its
    /// lease, takes over. Logs one status line per decision, such as
    /// `loadOrCreate TrainModel 3fa2c1d (missing→create)`.
    ///
    /// - Throws: ``StepCreateError`` when `create` threw, ``StepWaitTimeoutError`` after
    ///   ``StepOptions/maxWait``, ``StepLockError`` when the folder cannot be written, and whatever `load`
    ///   or `validate` throw.
    public func loadOrCreate(options: StepOptions = .fromEnvironment()) async throws -> Output {
        try await StepEngine.loadOrCreate(self, options: options, backend: "local")
    }

    /// The hash of the step's canonical configuration (64 lowercase hex digits; see ``CanonicalEncoding``).
    public var hash: String {
        get throws { CanonicalEncoding.hash(try configuration) }
    }

    /// The step's configuration as a value tree.
    public var configuration: StepValue {
        get throws {
            guard case .step(_, _, _, let config) = try StepEncoder.stepValue(self) else {
                preconditionFailure("a step encodes as a step")
            }
            return config
        }
    }

    /// The step's result folder under `QUILL_STEPS_ROOT` (``StepOptions/fromEnvironment(_:)``).
    public var directory: String {
        get throws { try directory(options: .fromEnvironment()) }
    }

    /// The step's result folder under the options' root.
    public func directory(options: StepOptions = .fromEnvironment()) throws -> String {
        options.directory(namespace: Self.namespace, hash: try hash, versionControlled: Self.isVersionControlled)
    }

    /// Whether a computed result exists (its success marker is written), without computing or validating.
    public func exists(options: StepOptions = .fromEnvironment()) throws -> Bool {
        FileIO.exists(StepDirectory(try directory(options: options)).success)
    }

    /// What is recorded about the step's result, without computing anything; `nil` when nothing is.
    public func metadata(options: StepOptions = .fromEnvironment()) throws -> StepInfo? {
        StepInfo.read(directory: try directory(options: options))
    }

    /// The step as Swift source, for logs: `TrainModel(lr: 0.0003, steps: 5000)`.
    public var swiftDescription: String {
        (try? configuration.swiftSource) ?? String(describing: self)
    }

    /// The configuration as a plain dictionary (nested steps as their own dictionaries).
    public func dictionary() throws -> [String: JSONValue] {
        try configuration.json.objectValue ?? [:]
    }

    /// Rebuilds a step from its dictionary form (``dictionary()``, or the `config` of its metadata).
    public init(dictionary: [String: JSONValue]) throws {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "Infinity",
            negativeInfinity: "-Infinity",
            nan: "NaN"
        )
        self = try decoder.decode(Self.self, from: Data(JSONWriter.bytes(.object(dictionary))))
    }

    /// Writes the step's metadata without computing it, and returns its `NAMESPACE/HASH`: what another
    /// process needs to compute it (`<executable> quill-step run NAMESPACE/HASH`).
    @discardableResult
    public func record(options: StepOptions = .fromEnvironment()) throws -> StepReference {
        let config = try configuration
        let hash = CanonicalEncoding.hash(config)
        let directory = options.directory(
            namespace: Self.namespace,
            hash: hash,
            versionControlled: Self.isVersionControlled
        )
        let paths = StepDirectory(directory)
        try FileIO.makeDirectory(paths.quill)
        if !FileIO.exists(paths.metadata) {
            let context = StepContext(
                directory: directory,
                namespace: Self.namespace,
                hash: hash,
                options: options,
                logger: options.logger,
                dependencies: DependencyRecorder()
            )
            try StepEngine.writeMetadata(
                paths,
                context: context,
                configuration: config,
                typeName: String(describing: Self.self),
                recorded: []
            )
        }
        return StepReference(namespace: Self.namespace, hash: hash)
    }
}

/// What is recorded about one step result: its metadata and state, read from `.quill/`.
public struct StepInfo: Sendable {
    /// The result folder.
    public var directory: String
    /// `.quill/metadata.json` (config, Swift form, hash, git, host, command, dependencies, …).
    public var metadata: JSONValue
    /// `.quill/state.json`.
    public var state: StepState
    /// Whether the success marker is written.
    public var succeeded: Bool

    /// The namespace.
    public var namespace: String { metadata["namespace"]?.stringValue ?? "" }
    /// The hash.
    public var hash: String { metadata["hash"]?.stringValue ?? "" }
    /// The dependencies recorded for the result.
    public var dependencies: [StepReference] {
        (metadata["dependencies"]?.arrayValue ?? []).compactMap { edge in
            guard let namespace = edge["namespace"]?.stringValue, let hash = edge["hash"]?.stringValue else {
                return nil
            }
            return StepReference(namespace: namespace, hash: hash)
        }
    }
    /// The result's status: `success` only when the marker is written.
    public var status: StepResultStatus {
        if succeeded { return .success }
        return state.status == .success ? .incomplete : state.status
    }

    /// Reads a result folder; `nil` when it has no metadata.
    public static func read(directory: String) -> StepInfo? {
        let paths = StepDirectory(directory)
        guard let bytes = try? FileIO.read(paths.metadata), let metadata = try? JSONParser.parse(bytes) else {
            return nil
        }
        return StepInfo(
            directory: directory,
            metadata: metadata,
            state: StepState.read(paths.state),
            succeeded: FileIO.exists(paths.success)
        )
    }
}
