import Foundation
import Hummingbird
import QuillCore

/// A request's query parameters, percent-decoded, in names and values. When a name repeats, the first
/// value counts.
///
/// A `+` (a space as HTML forms and Python's `requests` write it, `?q=status+=+failed`) has already become
/// `%20` in ``FormQueryMiddleware``, for every route, so this reader and Hummingbird's agree.
struct QueryParameters {
    private var values: [String: String] = [:]

    init(_ request: Request) {
        self.init(query: request.uri.query)
    }

    init(query: String?) {
        guard let query, !query.isEmpty else { return }
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = Self.decode(parts[0])
            guard values[name] == nil else { continue }
            values[name] = parts.count > 1 ? Self.decode(parts[1]) : ""
        }
    }

    private static func decode(_ text: Substring) -> String {
        text.removingPercentEncoding ?? String(text)
    }

    /// The value of a parameter, refusing a NUL byte (which would cut a database key short).
    func string(_ name: String) throws -> String? {
        guard let value = values[name] else { return nil }
        try RequestRules.refuseNUL(value, "query parameter \(name)")
        return value
    }

    /// An integer parameter within `range`; anything else is a 400 that names the parameter and the range.
    func int(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let text = values[name] else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw QuillError(
                .invalidArgument,
                "query parameter \(name) must be an integer from \(range.lowerBound) to \(range.upperBound)"
            )
        }
        return value
    }
}
