public import Foundation
import QuillCore

/// API keys saved by `quill login`, one per server, in a file only its owner can read.
///
/// The file is `$QUILL_CREDENTIALS` when set, else `~/.quill/credentials.json`:
///
/// ```json
/// {"servers": {"http://127.0.0.1:8080": {"api_key": "qk_…", "user": "ada", "saved_at": "2026-11-25T10:00:00.000000Z"}}}
/// ```
///
/// ``apiKey(server:environment:)`` is how the SDK and the CLI find the key for a server:
/// `QUILL_API_KEY` first, then this file.
public struct Credentials: Sendable, Hashable {
    /// One saved login.
    public struct Entry: Sendable, Hashable {
        /// The key.
        public var apiKey: String
        /// The user the server said the key belongs to.
        public var user: String?

        /// Creates an entry.
        public init(apiKey: String, user: String?) {
            self.apiKey = apiKey
            self.user = user
        }
    }

    /// Saved logins by server URL (without a trailing slash).
    public var servers: [String: Entry] = [:]

    /// No saved logins.
    public init() {}

    /// The credentials file's path for an environment.
    public static func path(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let path = environment["QUILL_CREDENTIALS"], !path.isEmpty { return path }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + "/.quill/credentials.json"
    }

    /// A server URL as it is saved: without trailing slashes.
    public static func normalize(_ server: String) -> String {
        var url = server.trimmingWhitespace()
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }

    /// Reads a credentials file; a missing file is empty.
    ///
    /// - Throws: ``QuillError`` with ``QuillError/Code/malformed`` when the file is not valid JSON.
    public static func load(path: String) throws -> Credentials {
        guard FileManager.default.fileExists(atPath: path) else { return Credentials() }
        let json: JSONValue
        do {
            json = try JSONParser.parse(try FileIO.read(path) ?? [])
        } catch {
            throw QuillError(
                .malformed,
                "the credentials file '\(path)' is not valid JSON; delete it and run `quill login` again",
                underlying: error
            )
        }
        var credentials = Credentials()
        for (server, entry) in json["servers"]?.objectValue ?? [:] {
            guard let key = entry["api_key"]?.stringValue else { continue }
            credentials.servers[normalize(server)] = Entry(apiKey: key, user: entry["user"]?.stringValue)
        }
        return credentials
    }

    /// Writes the file atomically, readable and writable by its owner only.
    public func save(path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            try FileManager.default.createDirectory(
                atPath: folder,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
        }
        var servers: [String: JSONValue] = [:]
        for (server, entry) in self.servers {
            servers[server] = [
                "api_key": .string(entry.apiKey), "user": entry.user.map(JSONValue.string) ?? .null,
                "saved_at": .string(Timestamp.string(Date())),
            ]
        }
        try FileIO.replaceAtomically(path, with: JSONWriter.pretty(["servers": .object(servers)]), permissions: 0o600)
    }

    /// The API key to send to a server: `QUILL_API_KEY` when set, else the key `quill login` saved for it.
    public static func apiKey(
        server: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> String? {
        if let key = environment["QUILL_API_KEY"], !key.isEmpty { return key }
        return (try? load(path: path(environment: environment)))?.servers[normalize(server)]?.apiKey
    }
}
