/// Named steps of one type, in order: a set of experiments.
///
/// ```swift
/// let sweep = StepCollection(["small": TrainModel(lr: 0.01), "large": TrainModel(lr: 0.001)])
/// for (name, step) in sweep { print(name, try step.hash) }
/// let models = try await sweep.loadOrCreateAll()
/// ```
public struct StepCollection<Element: Step>: Sendable, Sequence {
    /// The names and steps, in order.
    public private(set) var items: [(name: String, step: Element)]

    /// A collection from name-and-step pairs; a later step with a taken name replaces the earlier one.
    public init(_ pairs: KeyValuePairs<String, Element>) {
        items = []
        for (name, step) in pairs { self[name] = step }
    }

    /// A collection from an array of pairs.
    public init(_ pairs: [(String, Element)]) {
        items = []
        for (name, step) in pairs { self[name] = step }
    }

    /// The step with a name.
    public subscript(name: String) -> Element? {
        get { items.first { $0.name == name }?.step }
        set {
            if let index = items.firstIndex(where: { $0.name == name }) {
                if let newValue { items[index].step = newValue } else { items.remove(at: index) }
            } else if let newValue {
                items.append((name, newValue))
            }
        }
    }

    /// The names, in order.
    public var names: [String] { items.map(\.name) }

    /// The steps, in order.
    public var all: [Element] { items.map(\.step) }

    /// Iterates over name-and-step pairs.
    public func makeIterator() -> IndexingIterator<[(name: String, step: Element)]> {
        items.makeIterator()
    }

    /// Loads or creates every step, one after the other, and returns their outputs by name, in order.
    public func loadOrCreateAll(
        options: StepOptions = .fromEnvironment()
    ) async throws -> [(
        name: String, output: Element.Output
    )] {
        var outputs: [(name: String, output: Element.Output)] = []
        for (name, step) in items { outputs.append((name, try await step.loadOrCreate(options: options))) }
        return outputs
    }
}
