import QuillCore

/// Where a store lives, as given on the command line (`quill serve --store …`).
///
/// Accepted forms:
/// - `sqlite:///absolute/path/quill.db` and `sqlite:relative/or/absolute/path.db`: an embedded SQLite file;
/// - a plain path (`./quill.db`, `/var/lib/quill/quill.db`): the same.
///
/// - `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=…]` (or `postgresql://`): a PostgreSQL
///   database (``PostgresLocation``).
///
/// Any other scheme is refused as unknown.
public enum StoreURL: Sendable, Hashable, CustomStringConvertible {
    /// An embedded SQLite database file.
    case sqlite(path: String)
    /// A PostgreSQL database.
    case postgres(PostgresLocation)

    /// The schemes of a PostgreSQL URL.
    static let postgresSchemes: Set<String> = ["postgres", "postgresql"]

    /// Parses a store URL.
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/invalidArgument`` for an unknown scheme, a
    ///   malformed PostgreSQL URL or a URL that names no file.
    public init(parsing text: String) throws {
        let scheme = Self.scheme(of: text)
        switch scheme?.lowercased() {
        case nil:
            guard !text.isEmpty else {
                throw QuillError(.invalidArgument, "the store is empty; pass --store sqlite:///path/quill.db or a path")
            }
            self = .sqlite(path: text)
        case "sqlite":
            var path = text.dropFirst("sqlite:".count)
            // sqlite:///abs/path (URL form, empty host) and sqlite://rel/path (the host read as a path).
            if path.hasPrefix("//") { path = path.dropFirst(2) }
            guard !path.isEmpty else {
                throw QuillError(.invalidArgument, "'\(text)' names no file; write sqlite:///absolute/path/quill.db")
            }
            self = .sqlite(path: String(path))
        case let scheme? where Self.postgresSchemes.contains(scheme):
            self = .postgres(try PostgresLocation(parsing: text))
        case let scheme?:
            throw QuillError(
                .invalidArgument,
                "unknown store scheme '\(scheme):'; use --store sqlite:///path/quill.db, a plain path or postgres://HOST/DATABASE"
            )
        }
    }

    /// The URL form: `sqlite:///abs/path` for an absolute path, `sqlite:path` for a relative one, and a
    /// PostgreSQL URL without its password.
    public var description: String {
        switch self {
        case .sqlite(let path): path.hasPrefix("/") ? "sqlite://" + path : "sqlite:" + path
        case .postgres(let location): location.description
        }
    }

    /// The scheme of `text` when it has one: letters, digits, `+`, `-`, `.` before a `:` that starts `://`,
    /// or one of the schemes Quill knows followed by `:`. A plain path (`./a:b.db`) has none.
    private static func scheme(of text: String) -> String? {
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let name = text[..<colon]
        guard let first = name.first, first.isASCII, first.isLetter,
            name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) })
        else { return nil }
        let known = name.lowercased() == "sqlite" || postgresSchemes.contains(name.lowercased())
        return known || text[colon...].hasPrefix("://") ? String(name) : nil
    }
}
