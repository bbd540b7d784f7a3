import QuillCore

/// Where a store lives, as given on the command line: `sqlite:///path/to/quill.db` or a plain path.
public enum StoreURL: Sendable, Hashable {
    /// An embedded SQLite database file.
    case sqlite(path: String)

    /// Parses a store URL.
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/invalidArgument`` for an unknown scheme.
    public init(parsing text: String) throws {
        if text.hasPrefix("sqlite://") {
            let path = String(text.dropFirst("sqlite://".count))
            guard !path.isEmpty else {
                throw QuillError(.invalidArgument, "'\(text)' names no file; write sqlite:///absolute/path/quill.db")
            }
            self = .sqlite(path: path)
        } else if !text.contains("://") {
            self = .sqlite(path: text)
        } else {
            let scheme = text.prefix { $0 != ":" }
            throw QuillError(
                .invalidArgument,
                "unknown store '\(scheme)://'; use sqlite:///path/quill.db (PostgreSQL is not supported yet)"
            )
        }
    }
}
