package import QuillCore

/// A param a ``LogBatch`` with ``ParamChangePolicy/reject`` tried to change, and the error every backend
/// refuses the batch with (MLflow's own words, so MLflow's clients see what MLflow's server says).
package struct ParamConflict: Sendable, Hashable {
    /// The param's key.
    package var key: String
    /// The value it has, as MLflow shows it.
    package var oldValue: String
    /// The value the batch carried, as MLflow shows it.
    package var newValue: String

    /// Creates a conflict.
    package init(key: String, oldValue: String, newValue: String) {
        self.key = key
        self.oldValue = oldValue
        self.newValue = newValue
    }

    /// The conflicts of a batch's params with the ones a run has (as MLflow sees them: the config flattened
    /// by dotted key, the params over it): the keys the run has with another value
    /// (values compare equal when they are equal or show the same text to MLflow, so `"0.1"` logged again
    /// over a Quill param `0.1` is no change), in key order.
    package static func conflicts(
        existing: [String: JSONValue],
        batch: [String: JSONValue]
    ) -> [ParamConflict] {
        batch.keys.sorted().compactMap { key in
            guard let old = existing[key], let new = batch[key], !same(old, new) else { return nil }
            return ParamConflict(key: key, oldValue: mlflowText(old), newValue: mlflowText(new))
        }
    }

    /// Whether logging `new` over `old` changes nothing for MLflow.
    package static func same(_ old: JSONValue, _ new: JSONValue) -> Bool {
        old == new || mlflowText(old) == mlflowText(new)
    }

    /// The refusal of a whole batch: `invalid_argument` with the message MLflow's SQL store gives for
    /// `log_batch` (`Changing param values is not allowed. Params were already logged='[{'key': …,
    /// 'old_value': …, 'new_value': …}]' for run ID='…'.`, the list as Python prints it).
    package static func error(_ conflicts: [ParamConflict], runID: RunID) -> QuillError {
        let list = conflicts.map { conflict in
            "{'key': \(pythonRepr(conflict.key)), 'old_value': \(pythonRepr(conflict.oldValue)), "
                + "'new_value': \(pythonRepr(conflict.newValue))}"
        }
        return QuillError(
            .invalidArgument,
            "Changing param values is not allowed. Params were already logged='[\(list.joined(separator: ", "))]' "
                + "for run ID='\(runID)'."
        )
    }

    /// A param value as MLflow shows it (MLflow's params are strings): a string as it is, `true`/`false` as
    /// Python's `True`/`False`, a number as its JSON text, anything else as compact JSON.
    package static func mlflowText(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): text
        case .bool(let flag): flag ? "True" : "False"
        default: JSONWriter.string(value)
        }
    }

    /// A string as Python's `repr` writes it: single quotes unless the text has a single quote and no double
    /// one, backslashes and the quote escaped, control and other unprintable characters as `\n`, `\xhh`,
    /// `\uhhhh` or `\Uhhhhhhhh`.
    package static func pythonRepr(_ text: String) -> String {
        let quote: Character = text.contains("'") && !text.contains("\"") ? "\"" : "'"
        var out = String(quote)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where Character(scalar) == quote: out += "\\" + String(quote)
            case _ where !isPrintable(scalar): out += escaped(scalar)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out.append(quote)
        return out
    }

    /// Python's `str.isprintable` for one character: not in the categories Other and Separator, except
    /// the space.
    private static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == " " { return true }
        switch scalar.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator,
            .spaceSeparator:
            return false
        default:
            return true
        }
    }

    private static func escaped(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16)
        let (prefix, width) = scalar.value <= 0xFF ? ("\\x", 2) : scalar.value <= 0xFFFF ? ("\\u", 4) : ("\\U", 8)
        return prefix + String(repeating: "0", count: max(0, width - hex.count)) + hex
    }
}

extension ParamConflict {
    /// The params a batch writes: all of them with ``ParamChangePolicy/replace``; with
    /// ``ParamChangePolicy/reject``, those the run does not show yet, or the whole batch refused (``error(_:runID:)``)
    /// when one has another value. A run's params are what MLflow sees of it: its config flattened by dotted key
    /// with its params over it (as search merges them), so a key a run's config holds is no new param either.
    ///
    /// The backend calls it inside the batch's write transaction, before anything is written, holding what
    /// keeps a second batch of the run from passing at the same time.
    ///
    /// - Parameters:
    ///   - batch: The batch.
    ///   - runID: The run.
    ///   - config: The run's config (`nil` when the backend did not read it because the policy is `replace`).
    ///   - stored: The run's stored params of the batch's keys.
    package static func paramsToWrite(
        _ batch: LogBatch,
        runID: RunID,
        config: JSONValue?,
        stored: [String: JSONValue]
    ) throws -> [String: JSONValue] {
        guard batch.paramChanges == .reject, !batch.params.isEmpty else { return batch.params }
        var existing: [String: JSONValue] = [:]
        if let config, config != .object([:]) {
            let flattened = config.flattened()
            for key in batch.params.keys { existing[key] = flattened[key] }
        }
        for (key, value) in stored where batch.params[key] != nil { existing[key] = value }
        let conflicts = conflicts(existing: existing, batch: batch.params)
        guard conflicts.isEmpty else { throw error(conflicts, runID: runID) }
        return batch.params.filter { key, _ in existing[key] == nil }
    }

    /// Whether ``paramsToWrite(_:runID:config:stored:)`` needs the run's config and stored params.
    package static func needsStoredParams(_ batch: LogBatch) -> Bool {
        batch.paramChanges == .reject && !batch.params.isEmpty
    }
}
