import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import QuillAPI
import QuillCore

/// The files of a whirr run folder (`<data dir>/runs/job-<id>`), read as whirr's server reads them.
struct WhirrRunFiles {
    let directory: String

    /// Whether the folder exists (a whirr worker ran the job).
    var exists: Bool { FileManager.default.fileExists(atPath: directory) }

    /// Whether the folder has a `metrics.jsonl` (a whirr worker wrote it).
    var hasMetrics: Bool { FileManager.default.fileExists(atPath: directory + "/metrics.jsonl") }

    /// The rows of `metrics.jsonl`, in file order; lines that are not JSON objects (a partial last line) are
    /// skipped.
    func metricRows() -> [[String: JSONValue]] {
        guard let data = FileManager.default.contents(atPath: directory + "/metrics.jsonl") else { return [] }
        var rows: [[String: JSONValue]] = []
        for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
            if let object = (try? JSONParser.parse(Array(line)))?.objectValue { rows.append(object) }
        }
        return rows
    }

    /// Every file under the folder, recursively, by path.
    func files() -> [WhirrArtifact] {
        let root = URL(fileURLWithPath: directory).standardizedFileURL
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else { return [] }
        var found: [WhirrArtifact] = []
        for case let url as URL in walker {
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: url.path),
                attributes[.type] as? FileAttributeType == .typeRegular
            else { continue }
            let relative = String(url.standardizedFileURL.path.dropFirst(root.path.count + 1))
            let size = (attributes[.size] as? NSNumber)?.int64Value ?? 0
            let modified = (attributes[.modificationDate] as? Date) ?? Date(timeIntervalSince1970: 0)
            found.append(WhirrArtifact(path: relative, size: size, modified: Self.modified(modified)))
        }
        return found.sorted { $0.path < $1.path }
    }

    /// A file's bytes, as whirr serves them: 403 for a path leaving the folder, 404 for a missing file, 400
    /// for a directory.
    func download(_ path: String) throws -> Response {
        let root = URL(fileURLWithPath: directory).standardizedFileURL.resolvingSymlinksInPath()
        let file = root.appendingPathComponent(path).standardizedFileURL.resolvingSymlinksInPath()
        guard file.path.hasPrefix(root.path + "/") else {
            throw WhirrHTTPError(.forbidden, "Access denied: path traversal not allowed")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file.path, isDirectory: &isDirectory) else {
            throw WhirrHTTPError(.notFound, "Artifact not found: \(path)")
        }
        guard !isDirectory.boolValue else { throw WhirrHTTPError(.badRequest, "Not a file: \(path)") }
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw WhirrHTTPError(.internalServerError, "Error reading artifact: \(path)")
        }
        let name = file.lastPathComponent.replacingOccurrences(of: "\"", with: "")
        return Response(
            status: .ok,
            headers: [
                .contentType: Self.contentType(name),
                .contentDisposition: "attachment; filename=\"\(name)\"",
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data))
        )
    }

    /// `2026-11-30T00:59:11.968061+00:00`, as Python's `datetime.isoformat()` writes a UTC time.
    static func modified(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        let micros = Int(((date.timeIntervalSince1970 - seconds) * 1_000_000).rounded(.down))
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        let base = formatter.string(from: Date(timeIntervalSince1970: seconds))
        let fraction = micros == 0 ? "" : "." + String(String(micros + 1_000_000).dropFirst())
        return base + fraction + "+00:00"
    }

    /// The type Python's `mimetypes` guesses for common names; `application/octet-stream` otherwise.
    static func contentType(_ name: String) -> String {
        switch (name as NSString).pathExtension.lowercased() {
        case "txt", "log": "text/plain; charset=utf-8"
        case "json": "application/json"
        case "csv": "text/csv; charset=utf-8"
        case "html", "htm": "text/html; charset=utf-8"
        case "png": "image/png"
        case "jpg", "jpeg": "image/jpeg"
        case "gif": "image/gif"
        case "svg": "image/svg+xml"
        case "pdf": "application/pdf"
        case "yaml", "yml": "application/yaml"
        case "gz": "application/gzip"
        case "zip": "application/zip"
        case "tar": "application/x-tar"
        default: "application/octet-stream"
        }
    }
}
