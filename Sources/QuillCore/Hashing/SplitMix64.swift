/// A small seeded random number generator (SplitMix64): the same seed draws the same numbers on every machine and
/// Swift version, which the standard library's generators do not promise. Sweeps drawn with `--seed`, the
/// tests' random data and the benchmarks' stores all use it.
package struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator that always draws the same numbers for the same seed.
    package init(seed: UInt64) {
        state = seed
    }

    /// The next 64 random bits.
    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
