import Foundation
import QuillCore

/// The dashboard's files (HTML, CSS, ES modules), read once at start-up and served from memory.
///
/// Every file is fingerprinted by one digest of the whole folder: `index.html` points at
/// `/assets/<digest>/…`, and the ES modules import each other relatively, so every file the page loads
/// lives under that prefix and can be cached for good (`immutable`); a new server version has a new digest.
/// `index.html` itself is never cached without revalidation (`no-cache` with an ETag).
struct DashboardAssets: Sendable {
    /// One file, with the headers it is served with.
    struct File: Sendable {
        let bytes: [UInt8]
        let contentType: String
        /// A strong ETag: the file's SHA-256, quoted.
        let etag: String
    }

    /// The digest of every file's path and bytes (16 hex digits), the `/assets/` path prefix.
    let digest: String
    /// The files by path relative to the folder (`js/app.js`).
    let files: [String: File]
    /// `index.html` with its asset URLs pointing under the digest.
    let index: File

    /// Reads the folder `root`; `nil` when it has no `index.html` (a server copied without its resources).
    init?(root: URL) {
        let fileManager = FileManager.default
        guard let enumerator = fileManager.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) else {
            return nil
        }
        var contents: [String: [UInt8]] = [:]
        let base = root.standardizedFileURL.path
        for case let url as URL in enumerator {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true,
                let data = fileManager.contents(atPath: url.path)
            else { continue }
            let path = String(url.standardizedFileURL.path.dropFirst(base.count).drop { $0 == "/" })
            contents[path] = Array(data)
        }
        guard let indexBytes = contents["index.html"] else { return nil }
        var hasher = SHA256()
        for path in contents.keys.sorted() {
            hasher.update(Array(path.utf8) + [0])
            hasher.update(contents[path] ?? [])
        }
        let digest = String(hasher.hexDigest().prefix(16))
        self.digest = digest
        var files: [String: File] = [:]
        for (path, bytes) in contents where path != "index.html" {
            files[path] = File(bytes: bytes, contentType: Self.contentType(of: path), etag: Self.etag(bytes))
        }
        self.files = files
        let html = String(decoding: indexBytes, as: UTF8.self)
            .replacingOccurrences(of: "\"/assets/", with: "\"/assets/\(digest)/")
        let indexOut = Array(html.utf8)
        index = File(bytes: indexOut, contentType: "text/html; charset=utf-8", etag: Self.etag(indexOut))
    }

    /// The folder the package ships (`Resources/Dashboard` of this module), when it is installed; or, for
    /// work on the dashboard itself, the folder named by `QUILL_DASHBOARD_DIR` (edits show on restart
    /// without a rebuild).
    static func bundled(environment: [String: String] = ProcessInfo.processInfo.environment) -> DashboardAssets? {
        if let folder = environment["QUILL_DASHBOARD_DIR"], !folder.isEmpty {
            return DashboardAssets(root: URL(fileURLWithPath: folder, isDirectory: true))
        }
        guard let url = Bundle.module.url(forResource: "Dashboard", withExtension: nil) else { return nil }
        return DashboardAssets(root: url)
    }

    static func contentType(of path: String) -> String {
        switch (path as NSString).pathExtension.lowercased() {
        case "html": "text/html; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "js", "mjs": "text/javascript; charset=utf-8"
        case "json": "application/json"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        case "ico": "image/x-icon"
        case "woff2": "font/woff2"
        case "txt": "text/plain; charset=utf-8"
        default: "application/octet-stream"
        }
    }

    private static func etag(_ bytes: [UInt8]) -> String {
        "\"" + String(SHA256.hex(of: bytes).prefix(32)) + "\""
    }
}
