import Foundation
import Hummingbird
import QuillCore

/// A request's query parameters, percent-decoded, in names and values. When a name repeats, the first
/// value counts for ``string(_:)`` and ``int(_:in:)``; ``all(_:)`` reads every value.
///
/// A `+` (a space as HTML forms and Python's `requests` write it, `?q=status+=+failed`) has already become
/// `%20` in ``FormQueryMiddleware``, for every route, so this reader and Hummingbird's agree.
struct QueryParameters {
    /// Every value of each name, in order (the first counts where a parameter is not repeatable).
    private var values: [String: [String]] = [:]

    init(_ request: Request) {
        self.init(query: request.uri.query)
    }

    init(query: String?) {
        guard let query, !query.isEmpty else { return }
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = Self.decode(parts[0])
            let value = parts.count > 1 ? Self.decode(parts[1]) : ""
            values[name, default: []].append(value)
        }
    }

    private static func decode(_ text: Substring) -> String {
        text.removingPercentEncoding ?? String(text)
    }

    /// The value of a parameter, refusing a NUL byte (which would cut a database key short).
    func string(_ name: String) throws -> String? {
        guard let value = values[name]?.first else { return nil }
        try RequestRules.refuseNUL(value, "query parameter \(name)")
        return value
    }

    /// Every value of a repeatable parameter (`?status=failed&status=incomplete`), in order, refusing a NUL byte.
    func all(_ name: String) throws -> [String] {
        let all = values[name] ?? []
        for value in all { try RequestRules.refuseNUL(value, "query parameter \(name)") }
        return all
    }

    /// An integer parameter within `range`; anything else is a 400 that names the parameter and the range.
    func int(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let text = values[name]?.first else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw QuillError(
                .invalidArgument,
                "query parameter \(name) must be an integer from \(range.lowerBound) to \(range.upperBound)"
            )
        }
        return value
    }
}
