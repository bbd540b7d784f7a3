import QuillCore

/// API keys: how they are made, shown and stored.
///
/// A key is `qk_` followed by 40 random characters of `A-Z a-z 0-9` (about 238 bits). The server keeps only
/// its SHA-256 and its first 10 characters (``prefix(of:)``), so a stolen database reveals no key.
public enum APIKeySecret: Sendable {
    /// A new random key.
    public static func generate() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
        var generator = SystemRandomNumberGenerator()
        let body = (0..<40).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] }
        return "qk_" + String(decoding: body, as: UTF8.self)
    }

    /// The characters of a key shown in listings.
    public static func prefix(of key: String) -> String {
        String(key.prefix(10))
    }

    /// The stored form of a key: its SHA-256 as lowercase hex.
    public static func hash(_ key: String) -> String {
        SHA256.hex(of: key.utf8)
    }
}
