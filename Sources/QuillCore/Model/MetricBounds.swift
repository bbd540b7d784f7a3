import Foundation

/// The integers a metric point may carry, and the one spelling of a metric, param or tag key.
///
/// Indexes and steps are whole numbers a JSON reader in any language keeps exactly: at most
/// 2^53 − 1 (9,007,199,254,740,991) in magnitude, the largest integer a double holds without rounding
/// (JavaScript's `Number.MAX_SAFE_INTEGER`). An index (`idx`, `_idx`) is never negative; a step may be.
/// The server refuses anything else with a 400 that names the field, so no client value can reach
/// arithmetic that would overflow.
package enum MetricBounds {
    /// 2^53 − 1, the largest index or step magnitude accepted.
    package static let largest = 9_007_199_254_740_991

    /// The indexes a point may have: `0...2^53 − 1`.
    package static let indexes: ClosedRange<Int> = 0...largest

    /// The steps a point may have: `-(2^53 − 1)...2^53 − 1`.
    package static let steps: ClosedRange<Int> = -largest...largest

    /// A key in its one stored spelling, Unicode NFC, so that two spellings of one name (a precomposed
    /// "é" and "e" with a combining accent) are one key in the store, as they already are to Swift's
    /// `String` comparison. ASCII keys, the common case, are returned as they are without work.
    package static func normalizedKey(_ key: String) -> String {
        if key.utf8.allSatisfy({ $0 < 0x80 }) { return key }
        return key.precomposedStringWithCanonicalMapping
    }
}
