import QuillCore

/// The names a new run tries, in order, until one is free in its project: the requested name, then it with
/// `_1`, `_2`, … appended; without a requested name, random ones (``RunNames``). Every backend inserts a run
/// with ``next()`` and, when the name is taken, finds the last taken suffix with ``SuffixSearch`` once and
/// goes on after it (``skip(past:)``), so the thousandth run named `python` does not try a thousand names.
package struct RunNameCandidates: Sendable {
    /// The requested name, trimmed; `nil` when none (or only whitespace) was requested.
    package let requested: String?
    private var suffix = 0
    private var generator = SystemRandomNumberGenerator()

    /// Candidates for a requested name (random ones when `nil`).
    package init(requested: String?) {
        let trimmed = requested?.trimmingWhitespace()
        self.requested = trimmed?.isEmpty == false ? trimmed : nil
    }

    /// Goes on with the suffix after `suffix` (when it is higher than the next one).
    package mutating func skip(past suffix: Int) {
        if suffix >= self.suffix, suffix < Int.max { self.suffix = suffix + 1 }
    }

    /// The next name to try.
    package mutating func next() -> String {
        guard let requested else { return RunNames.random(using: &generator) }
        defer { suffix += 1 }
        return suffix == 0 ? requested : "\(requested)_\(suffix)"
    }

    /// A name with a suffix: `<name>_<suffix>`.
    package static func suffixed(_ name: String, _ suffix: Int) -> String {
        "\(name)_\(suffix)"
    }
}

/// Finds a suffix `n` such that `<name>_<n>` is taken in a project and `<name>_<n+1>` is free (0 when
/// `<name>_1` is free): an exponential then a binary search over lookups the backend makes, exact when the
/// taken suffixes are `1…m`.
///
/// ```swift
/// var search = SuffixSearch()
/// while let suffix = search.probe { search.record(taken: try exists(RunNameCandidates.suffixed(name, suffix))) }
/// names.skip(past: search.result)
/// ```
package struct SuffixSearch: Sendable {
    private var low = 0
    private var high = 1
    private var growing = true
    private var done = false

    /// A search from suffix 1.
    package init() {}

    /// The suffix to look up next, or `nil` when ``result`` is known.
    package var probe: Int? {
        if done { return nil }
        return growing ? high : low + (high - low) / 2
    }

    /// Records whether the name with the suffix ``probe`` gave is taken.
    package mutating func record(taken: Bool) {
        guard let probe else { return }
        if growing {
            if taken {
                low = high
                guard high <= Int.max / 2 else {
                    done = true
                    return
                }
                high *= 2
            } else {
                growing = false
                done = high - low <= 1
            }
        } else {
            if taken { low = probe } else { high = probe }
            done = high - low <= 1
        }
    }

    /// The last taken suffix found (valid once ``probe`` is `nil`).
    package var result: Int { low }
}
