import Foundation
import QuillCore

/// A PostgreSQL server and database, parsed from a `postgres://` or `postgresql://` URL (libpq's form):
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require]`.
///
/// The user defaults to `postgres`, the port to 5432, the database to the user's name, and `sslmode` to
/// `prefer` (TLS when the server offers it). Percent-escapes in the user, password and database are decoded.
/// ``description`` never shows the password.
public struct PostgresLocation: Sendable, Hashable, CustomStringConvertible {
    /// How the connection uses TLS (libpq's `sslmode`, the three values Quill supports).
    public enum TLSMode: String, Sendable, Hashable, CaseIterable {
        /// Plain TCP.
        case disable
        /// TLS when the server offers it.
        case prefer
        /// TLS or no connection.
        case require
    }

    /// The server's host name or address.
    public var host: String
    /// The server's port.
    public var port: Int
    /// The role to log in as.
    public var user: String
    /// The role's password, when the server asks for one.
    public var password: String?
    /// The database.
    public var database: String
    /// How TLS is used.
    public var tls: TLSMode

    /// Creates a location.
    public init(
        host: String,
        port: Int = 5432,
        user: String = "postgres",
        password: String? = nil,
        database: String,
        tls: TLSMode = .prefer
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.tls = tls
    }

    /// Parses a `postgres://` or `postgresql://` URL.
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/invalidArgument`` when the URL has no host, a port
    ///   that is not a number from 1 to 65535, an unknown `sslmode` or a query parameter Quill does not know.
    public init(parsing text: String) throws {
        let example = "write postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE"
        guard let schemeEnd = text.range(of: "://") else {
            throw QuillError(.invalidArgument, "'\(Self.redacted(text))' is not a PostgreSQL URL; \(example)")
        }
        var rest = Substring(text[schemeEnd.upperBound...])
        var query: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        var database: String?
        if let slash = rest.firstIndex(of: "/") {
            let name = rest[rest.index(after: slash)...]
            database = name.isEmpty ? nil : Self.decode(name)
            rest = rest[..<slash]
        }
        var user = "postgres"
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                user = Self.decode(credentials[..<colon])
                password = Self.decode(credentials[credentials.index(after: colon)...])
            } else {
                user = Self.decode(credentials)
            }
        }
        var host = String(rest)
        var port = 5432
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            // [::1]:5432
            let after = host[host.index(after: close)...]
            let address = String(host[host.index(after: host.startIndex)..<close])
            if after.hasPrefix(":") { port = try Self.port(after.dropFirst(), in: text) }
            host = address
        } else if let colon = host.lastIndex(of: ":") {
            port = try Self.port(host[host.index(after: colon)...], in: text)
            host = String(host[..<colon])
        }
        guard !host.isEmpty else {
            throw QuillError(.invalidArgument, "'\(Self.redacted(text))' names no host; \(example)")
        }
        var tls = TLSMode.prefer
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1)
            let key = String(parts[0])
            let value = parts.count > 1 ? String(parts[1]) : ""
            switch key {
            case "sslmode":
                guard let mode = TLSMode(rawValue: value) else {
                    throw QuillError(
                        .invalidArgument,
                        "sslmode '\(value)' is not supported; use sslmode=disable, prefer or require"
                    )
                }
                tls = mode
            default:
                throw QuillError(
                    .invalidArgument,
                    "unknown parameter '\(key)' in the PostgreSQL URL; only sslmode is read"
                )
            }
        }
        self.init(host: host, port: port, user: user, password: password, database: database ?? user, tls: tls)
    }

    /// The URL, with the password shown as `***`.
    public var description: String {
        let credentials = password == nil ? Self.encode(user) : Self.encode(user) + ":***"
        let address = host.contains(":") ? "[\(host)]" : host
        let query = tls == .prefer ? "" : "?sslmode=\(tls.rawValue)"
        return "postgres://\(credentials)@\(address):\(port)/\(Self.encode(database))\(query)"
    }

    /// The same server with another database (tests make one database per suite).
    public func with(database: String) -> PostgresLocation {
        var copy = self
        copy.database = database
        return copy
    }

    private static func port(_ text: Substring, in url: String) throws -> Int {
        guard let port = Int(text), (1...65_535).contains(port) else {
            throw QuillError(
                .invalidArgument,
                "'\(text)' in '\(redacted(url))' is not a port; use a number from 1 to 65535"
            )
        }
        return port
    }

    /// `text` with any password after `user:` in the authority replaced by `***`.
    static func redacted(_ text: String) -> String {
        guard let schemeEnd = text.range(of: "://"), let at = text[schemeEnd.upperBound...].firstIndex(of: "@")
        else { return text }
        let credentials = text[schemeEnd.upperBound..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + ":***" + String(text[at...])
    }

    /// Percent-decoding of a URL part (a malformed escape stays as written).
    private static func decode(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "%"), iterator.count >= 2,
                let value = UInt8(String(decoding: iterator.prefix(2), as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                iterator = iterator.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Percent-encoding of the characters that would break a URL's authority or path.
    private static func encode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            let scalar = Unicode.Scalar(byte)
            if byte < 0x80,
                scalar.properties.isAlphabetic || ("0"..."9").contains(Character(scalar))
                    || "-._~".unicodeScalars.contains(scalar)
            {
                out.unicodeScalars.append(scalar)
            } else {
                out += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        return out
    }
}
