import Foundation

/// A query string read as MLflow's server (werkzeug) reads it: `application/x-www-form-urlencoded`, so `+` is a
/// space and `%XX` a byte, and a name given more than once keeps every value (`run_ids=a&run_ids=b`).
///
/// MLflow's client sends its GET parameters through `requests`, which writes a space as `+`: an artifact folder
/// or a metric key with a space arrives as `a+b` and must be read as `a b`.
struct MLflowFormQuery: Sendable {
    private var values: [String: [String]] = [:]

    /// Reads a raw query string (without the `?`); `nil` is an empty query.
    init(_ query: String?) {
        guard let query, !query.isEmpty else { return }
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = Self.decode(parts[0])
            let value = parts.count > 1 ? Self.decode(parts[1]) : ""
            values[name, default: []].append(value)
        }
    }

    /// The names given, in no particular order.
    var names: Dictionary<String, [String]>.Keys { values.keys }

    /// The first value of `name`, or `nil` when it is absent.
    func first(_ name: String) -> String? {
        values[name]?.first
    }

    /// Every value of `name`, in order.
    func all(_ name: String) -> [String] {
        values[name] ?? []
    }

    /// Form decoding: `+` is a space, `%XX` a byte; a malformed escape is kept as it is (as werkzeug does).
    static func decode(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        if let decoded = spaced.removingPercentEncoding { return decoded }
        return spaced
    }
}
