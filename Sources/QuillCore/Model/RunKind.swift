/// What a run does: one of the known kinds, or a custom kind with its own label.
///
/// A string names a known kind case-insensitively; any other string becomes a custom kind with that label.
///
/// ```swift
/// RunKind("Training") == .training     // true
/// RunKind("distill") == .custom("distill")
/// ```
public enum RunKind: Sendable, Hashable, CustomStringConvertible {
    /// Model training.
    case training
    /// Evaluation of a trained model.
    case evaluation
    /// Compiling or exporting a model.
    case compile
    /// Quantizing a model.
    case quantize
    /// A performance benchmark.
    case benchmark
    /// Any other kind, named by its label.
    case custom(String)

    /// The known kinds, in the order the CLI lists them.
    public static let known: [RunKind] = [.training, .evaluation, .compile, .quantize, .benchmark]

    /// Coerces a string to a kind: a known name (any letter case) or a custom label.
    public init(_ label: String) {
        let trimmed = label.trimmingWhitespace()
        switch trimmed.lowercased() {
        case "training", "train": self = .training
        case "evaluation", "eval": self = .evaluation
        case "compile": self = .compile
        case "quantize": self = .quantize
        case "benchmark": self = .benchmark
        default: self = .custom(trimmed)
        }
    }

    /// The kind's label as written in `meta.json`.
    public var label: String {
        switch self {
        case .training: "training"
        case .evaluation: "evaluation"
        case .compile: "compile"
        case .quantize: "quantize"
        case .benchmark: "benchmark"
        case .custom(let label): label
        }
    }

    /// Whether the kind is a custom one.
    public var isCustom: Bool {
        if case .custom = self { return true }
        return false
    }

    /// The kind's label.
    public var description: String { label }
}

extension RunKind: ExpressibleByStringLiteral {
    /// Coerces a string literal, as ``init(_:)`` does.
    public init(stringLiteral value: String) { self.init(value) }
}

extension String {
    /// The string without leading and trailing white space and newlines.
    package func trimmingWhitespace() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
