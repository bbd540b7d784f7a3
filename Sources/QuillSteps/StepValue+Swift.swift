extension StepValue {
    /// The value as Swift source, for logs: `TrainModel(dataset: Dataset(name: "mnist"), lr: 0.0003)`.
    ///
    /// Structs and steps print as their initializer with the properties in declaration order; dictionaries
    /// as literals with sorted keys.
    public var swiftSource: String {
        switch self {
        case .null: return "nil"
        case .bool(let flag): return flag ? "true" : "false"
        case .integer(let text): return text
        case .double(let number):
            if number.isNaN { return ".nan" }
            if number.isInfinite { return number > 0 ? ".infinity" : "-.infinity" }
            return number.description
        case .string(let text): return Self.swiftString(text)
        case .array(let elements): return "[" + elements.map(\.swiftSource).joined(separator: ", ") + "]"
        case .object(let type, let members):
            guard let type else {
                if members.isEmpty { return "[:]" }
                let sorted = members.sorted { $0.key < $1.key }
                return "["
                    + sorted.map { "\(Self.swiftString($0.key)): \($0.value.swiftSource)" }.joined(separator: ", ")
                    + "]"
            }
            return type + "(" + members.map { "\($0.key): \($0.value.swiftSource)" }.joined(separator: ", ") + ")"
        case .step(_, _, _, let config): return config.swiftSource
        }
    }

    private static func swiftString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7f:
                out += "\\u{\(String(scalar.value, radix: 16))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
