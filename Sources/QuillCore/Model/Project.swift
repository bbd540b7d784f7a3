/// A project groups runs; it is named by a display name and addressed by a slug derived from it.
public struct Project: Sendable, Hashable {
    /// The name as the user typed it (`"Image Classifier"`).
    public var displayName: String
    /// The URL- and file-safe form (`"image-classifier"`).
    public var slug: String

    /// The project used when none is named.
    public static let defaultName = "default"

    /// Creates a project from its display name, deriving the slug.
    public init(displayName: String) {
        let trimmed = displayName.trimmingWhitespace()
        self.displayName = trimmed.isEmpty ? Project.defaultName : trimmed
        self.slug = Project.slug(for: self.displayName)
    }

    /// Derives a slug: lowercase ASCII letters and digits, other runs of characters become one `-`.
    ///
    /// ```swift
    /// Project.slug(for: "Image Classifier (v2)") == "image-classifier-v2"
    /// ```
    public static func slug(for name: String) -> String {
        var out = ""
        var pendingDash = false
        for scalar in name.unicodeScalars {
            let lowered = scalar.properties.lowercaseMapping
            if lowered.unicodeScalars.count == 1, let single = lowered.unicodeScalars.first, single.isASCII,
                single.properties.isAlphabetic || ("0"..."9").contains(single)
            {
                if pendingDash, !out.isEmpty { out.append("-") }
                pendingDash = false
                out.unicodeScalars.append(single)
            } else {
                pendingDash = true
            }
            if out.count >= 64 { break }
        }
        if out.isEmpty {
            // A name with no ASCII letters or digits still gets a stable slug.
            out = "p-" + String(StableHash.fnv1a(name), radix: 36)
        }
        return out
    }
}
