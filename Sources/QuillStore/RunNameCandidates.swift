import QuillCore

/// The names a new run tries, in order, until one is free in its project: the requested name, then it with
/// `_1`, `_2`, … appended; without a requested name, random ones (``RunNames``).
///
/// Every backend names runs this way (a run created directly and a job's run alike):
///
/// ```swift
/// var names = RunNameCandidates(requested: "train")
/// var name = names.next()                      // "train"
/// // taken: find the last taken suffix once, then go on after it
/// var search = RunNameCandidates.SuffixSearch()
/// while let probe = search.probe { search.record(taken: isTaken("train_\(probe)")) }
/// names.skip(past: search.lastTaken)
/// name = names.next()                          // "train_<n+1>"
/// ```
package struct RunNameCandidates: Sendable {
    /// The requested name, trimmed, or `nil` when none (or only whitespace) was given.
    package let requested: String?
    private var suffix = 0

    /// The candidates for a requested name (or random ones).
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
        guard let requested else {
            var generator = SystemRandomNumberGenerator()
            return RunNames.random(using: &generator)
        }
        defer { suffix += 1 }
        return suffix == 0 ? requested : "\(requested)_\(suffix)"
    }

    /// Finds a suffix `n` such that `<name>_<n>` is taken and `<name>_<n+1>` is free (0 when `<name>_1` is
    /// free): an exponential then a binary search, exact when the taken suffixes are `1…m`. The caller asks its
    /// database whether each ``probe`` is taken, synchronously or not.
    package struct SuffixSearch: Sendable {
        private var low = 0
        private var high = 1
        private var growing = true
        /// The suffix to look up next, or `nil` once ``lastTaken`` is known.
        package private(set) var probe: Int? = 1

        /// A search from the start.
        package init() {}

        /// The answer, once ``probe`` is `nil`.
        package var lastTaken: Int { low }

        /// Records whether `<name>_<probe>` is taken and moves to the next probe.
        package mutating func record(taken: Bool) {
            guard let current = probe else { return }
            if growing {
                if taken {
                    low = current
                    guard current <= Int.max / 2 else {
                        probe = nil
                        return
                    }
                    high = current * 2
                    probe = high
                    return
                }
                growing = false
            } else if taken {
                low = current
            } else {
                high = current
            }
            probe = high - low > 1 ? low + (high - low) / 2 : nil
        }
    }
}
