/// A cached pipeline step: a configuration whose result is computed once into a directory named by the
/// configuration's hash, and reused from then on, by every process and machine that shares the folder.
///
/// The step's stored properties are its configuration. ``create(_:)`` computes the result and writes it
/// into ``StepContext/directory``; ``load(_:)`` reads it back. ``loadOrCreate(options:)`` does whichever
/// is needed, and never runs `create` twice at the same time for the same configuration.
///
/// ```swift
/// struct TrainModel: Step {
///     var dataset: Dataset
///     var lr = 0.0003
///     var steps = 5000
///
///     func create(_ context: StepContext) async throws {
///         let data = try await context.dependency(dataset)
///         let model = train(data, lr: lr, steps: steps)
///         try model.write(to: context.file("model.bin"))
///     }
///
///     func load(_ context: StepContext) async throws -> Model {
///         try Model(contentsOf: context.file("model.bin"))
///     }
/// }
///
/// let model = try await TrainModel(dataset: Dataset(name: "mnist")).loadOrCreate()
/// ```
public protocol Step: Codable, Sendable {
    /// What ``load(_:)`` returns.
    associatedtype Output

    /// The folder name of this type's results, unique across the program: by default the module and
    /// type name (`MyPipeline.TrainModel`). Changing it moves every cached result of the type.
    static var namespace: String { get }

    /// Whether results live under `steps/git/` (small, meant to be committed) instead of `steps/data/`.
    static var isVersionControlled: Bool { get }

    /// Computes the result and writes it into `context.directory`. Called at most once at a time per
    /// configuration; a throw leaves the step failed, and the next ``loadOrCreate(options:)`` tries again.
    func create(_ context: StepContext) async throws

    /// Reads the result back from `context.directory`.
    func load(_ context: StepContext) async throws -> Output

    /// Whether a stored result is still good (for example, a checkpoint file exists and is not empty).
    /// Returning `false` discards it and computes it again. The default accepts every stored result.
    func validate(_ context: StepContext) async throws -> Bool
}

extension Step {
    /// The module and type name, such as `MyPipeline.TrainModel`.
    public static var namespace: String { String(reflecting: Self.self) }

    /// `false`: results live under `steps/data/`.
    public static var isVersionControlled: Bool { false }

    /// Accepts every stored result.
    public func validate(_ context: StepContext) async throws -> Bool { true }
}
