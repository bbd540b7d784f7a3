package import QuillCore

/// A random number generator with a seed, so tests that draw random data are repeatable: QuillCore's
/// ``SplitMix64``.
package typealias SeededGenerator = SplitMix64
