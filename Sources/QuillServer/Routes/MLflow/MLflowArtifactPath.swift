import Foundation
import QuillAPI
import QuillCore
import QuillStore

/// A path of MLflow's proxied-artifact API, relative to its artifact root: a run's artifacts are under
/// `<experiment_id>/<run_id>/artifacts/` (the run's `artifact_uri` is `mlflow-artifacts:/<experiment_id>/<run_id>/
/// artifacts`), and Quill keeps no other files there.
struct MLflowArtifactPath: Sendable, Equatable {
    /// The components, percent-decoded, without empty or `.` components.
    let components: [String]

    /// The folder every run's artifacts are in, after the experiment and run components.
    static let artifactsFolder = "artifacts"

    /// Reads a path, refusing what MLflow's `validate_path_is_safe` refuses (`Invalid path`): a `..`
    /// component, an absolute path, a backslash or a `#`.
    init(_ decoded: String) throws {
        let invalid = MLflowHTTPError(.invalidParameterValue, "Invalid path")
        if decoded.contains("#") || decoded.contains("\\") || decoded.hasPrefix("/") { throw invalid }
        let parts = decoded.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        if parts.contains("..") { throw invalid }
        components = parts.filter { $0 != "." }
    }

    /// Reads the path part of a request URL after `prefix` (percent-encoded, as sent).
    init(rawPath: String, after prefix: String) throws {
        var tail = Substring(rawPath)
        if let range = tail.range(of: prefix) { tail = tail[range.upperBound...] }
        guard let decoded = String(tail).removingPercentEncoding else {
            throw MLflowHTTPError(.invalidParameterValue, "Invalid path")
        }
        try self.init(decoded)
    }

    /// The whole path, as MLflow names it in messages.
    var text: String { components.joined(separator: "/") }

    /// The experiment component, when there is one.
    var experimentID: String? { components.first }

    /// The run component, when there is one.
    var runText: String? { components.count > 1 ? components[1] : nil }

    /// Whether the path is in a run's `artifacts` folder (or is that folder).
    var isInRunArtifacts: Bool { components.count >= 3 && components[2] == Self.artifactsFolder }

    /// The path inside the run's artifacts (`""` for the folder itself), when ``isInRunArtifacts``.
    var artifactPath: String? {
        isInRunArtifacts ? components.dropFirst(3).joined(separator: "/") : nil
    }
}

/// One level of a run's artifacts, as MLflow lists a folder: files with their sizes and folders, by name.
enum MLflowArtifactFolder {
    /// The entries directly in `folder` (`""` for the run's root) among `artifacts`: the name (last component)
    /// of each, whether it is a folder, and a file's size. Only files whose bytes are stored count; the result
    /// is ordered by name as MLflow's file store lists it (code point order), and is empty when `folder` is a
    /// file or has nothing in it.
    static func entries(_ artifacts: [StoredArtifact], in folder: String) -> [(name: String, isDir: Bool, size: Int64?)]
    {
        let prefix = folder.isEmpty ? "" : folder + "/"
        var files: [String: Int64] = [:]
        var folders: Set<String> = []
        for artifact in artifacts where artifact.status == .uploaded && artifact.path.hasPrefix(prefix) {
            let rest = artifact.path.dropFirst(prefix.count)
            guard !rest.isEmpty else { continue }
            if let slash = rest.firstIndex(of: "/") {
                folders.insert(String(rest[..<slash]))
            } else {
                files[String(rest)] = artifact.size ?? 0
            }
        }
        var entries = folders.map { (name: $0, isDir: true, size: Int64?.none) }
        // A name that is both a file and a folder (possible only in Quill's records) shows once, as the folder.
        entries += files.filter { !folders.contains($0.key) }.map {
            (name: $0.key, isDir: false, size: Int64?($0.value))
        }
        return entries.sorted { $0.name.unicodeScalars.lexicographicallyPrecedes($1.name.unicodeScalars) }
    }

    /// Whether `path` is a folder of the run's artifacts (some stored file is under it).
    static func isFolder(_ artifacts: [StoredArtifact], _ path: String) -> Bool {
        let prefix = path + "/"
        return artifacts.contains { $0.status == .uploaded && $0.path.hasPrefix(prefix) }
    }
}

/// The content type MLflow's server gives a download (`mlflow/utils/mime_type_utils.py`): `text/plain` for
/// the text extensions MLflow knows (and `MLmodel`, `MLproject`), the usual type of other common extensions,
/// else `application/octet-stream`.
enum MLflowMimeType {
    static let textExtensions: Set<String> = [
        "txt", "log", "err", "cfg", "conf", "cnf", "cf", "ini", "properties", "prop", "hocon", "toml", "yaml",
        "yml", "xml", "json", "js", "py", "py3", "csv", "tsv", "md", "rst", "ipynb", "MLmodel", "MLproject",
    ]

    /// The types of Python's `mimetypes` for common artifact extensions (lowercase).
    static let known: [String: String] = [
        "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "bmp": "image/bmp",
        "svg": "image/svg+xml", "webp": "image/webp", "tif": "image/tiff", "tiff": "image/tiff",
        "ico": "image/vnd.microsoft.icon", "html": "text/html", "htm": "text/html", "css": "text/css",
        "pdf": "application/pdf", "zip": "application/zip", "gz": "application/gzip", "tar": "application/x-tar",
        "mp4": "video/mp4", "mp3": "audio/mpeg", "wav": "audio/x-wav", "webm": "video/webm",
        "pkl": "application/octet-stream", "bin": "application/octet-stream",
    ]

    /// The content type for a file name.
    static func type(for fileName: String) -> String {
        var name = Substring(fileName)
        if let slash = name.lastIndex(of: "/") { name = name[name.index(after: slash)...] }
        // Python's splitext: a leading dot is part of the name, not an extension.
        let stem = name.drop { $0 == "." }
        var ext = ""
        if let dot = stem.lastIndex(of: ".") { ext = String(stem[stem.index(after: dot)...]) }
        if ext.isEmpty { ext = String(name) }
        if textExtensions.contains(ext) { return "text/plain" }
        return known[ext.lowercased()] ?? "application/octet-stream"
    }
}
