/// Readable random run names, `adjective_noun_123`.
package enum RunNames {
    private static let adjectives = [
        "amber", "bold", "brave", "bright", "calm", "clever", "cosmic", "crisp", "daring", "eager", "fancy",
        "fuzzy", "gentle", "golden", "happy", "hidden", "jolly", "keen", "lively", "lucky", "mellow", "mighty",
        "nimble", "noble", "plucky", "polished", "proud", "quiet", "rapid", "rustic", "shiny", "silent", "snappy",
        "solar", "spicy", "steady", "sunny", "swift", "tidy", "vivid", "wild", "witty", "zesty",
    ]
    private static let nouns = [
        "acorn", "badger", "bagel", "beacon", "breeze", "canyon", "cedar", "comet", "cricket", "dune", "ember",
        "falcon", "fern", "fjord", "gecko", "glacier", "harbor", "heron", "island", "lantern", "lemur", "maple",
        "meadow", "nebula", "otter", "panda", "pasta", "pebble", "pine", "quasar", "raven", "reef", "river",
        "sparrow", "summit", "taco", "thunder", "tiger", "tulip", "valley", "walrus", "willow", "zephyr",
    ]

    /// Draws a name.
    package static func random(using generator: inout some RandomNumberGenerator) -> String {
        let adjective = adjectives.randomElement(using: &generator) ?? "brave"
        let noun = nouns.randomElement(using: &generator) ?? "pasta"
        return "\(adjective)_\(noun)_\(Int.random(in: 1...999, using: &generator))"
    }

    /// A file name standing for a run name: safe characters kept, others percent-encoded, so no name can
    /// escape the names folder (`../x` becomes `..%2Fx`).
    package static func fileName(for name: String) -> String {
        var out = ""
        for byte in name.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        if out.hasPrefix(".") { out = "%2E" + out.dropFirst() }
        if out.utf8.count > 200 { out = String(out.prefix(200)) + "-" + String(StableHash.fnv1a(name), radix: 36) }
        return out
    }
}

extension String {
    /// The string padded on the left with zeros to a width.
    package func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

/// A hash that is the same in every process and on every machine (Swift's `hashValue` is seeded per process).
package enum StableHash {
    /// The 64-bit FNV-1a hash of a string's UTF-8 bytes.
    package static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return hash
    }
}
