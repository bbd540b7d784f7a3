import Foundation
import QuillCore

/// How MLflow's values map onto Quill's (Docs/MLflow.md; the same rules as the MLflow routes).
enum MLflowMapping {
    /// MLflow's status name (`FINISHED`) or its number in the file store's `meta.yaml` (3).
    static func status(_ text: String?) -> RunStatus {
        switch text?.uppercased() {
        case "RUNNING", "1": .running
        case "SCHEDULED", "2": .queued
        case "FINISHED", "3": .completed
        case "FAILED", "4": .failed
        case "KILLED", "5": .killed
        default: .running
        }
    }

    /// Milliseconds since 1970 as a date (`nil` stays `nil`).
    static func date(milliseconds: Int64?) -> Date? {
        milliseconds.map { Date(timeIntervalSince1970: Double($0) / 1000) }
    }

    /// The run's name: MLflow's `mlflow.runName` tag wins over the stored name, as MLflow's own reader does.
    static func runName(stored: String?, tags: [String: String]) -> String? {
        let name = tags["mlflow.runName"] ?? stored
        return name?.isEmpty == true ? nil : name
    }

    /// The parent from the `mlflow.parentRunId` tag.
    static func parent(tags: [String: String]) -> RunID? {
        tags["mlflow.parentRunId"].flatMap(RunID.init)
    }

    /// A local path for an artifact URI MLflow wrote (`file:///abs`, `file:/abs`, `/abs`), or `nil` for one this
    /// machine cannot read (`s3://`, `mlflow-artifacts:`, …).
    static func localPath(_ uri: String) -> String? {
        if uri.hasPrefix("/") { return uri }
        guard uri.hasPrefix("file:") else { return nil }
        if let url = URL(string: uri), url.isFileURL, !url.path.isEmpty { return url.path }
        let rest = uri.dropFirst("file:".count)
        return rest.hasPrefix("/") ? String(rest).removingPercentEncoding : nil
    }

    /// Why artifacts at `uri` are skipped (`s3:// URIs are not readable here`).
    static func unreadable(_ uri: String) -> String {
        let scheme = uri.split(separator: ":", maxSplits: 1).first.map(String.init) ?? uri
        return "\(scheme):// URIs are not readable here"
    }

    /// Every regular file under `root`, as `/`-separated paths relative to it, sorted.
    static func files(under root: String) -> [(path: String, size: Int64)] {
        FileIO.regularFiles(under: root)
    }

    /// A local artifact folder as a listing (a missing folder is no artifacts).
    static func listing(_ folder: String) -> ArtifactListing {
        ArtifactListing(
            files: files(under: folder).map {
                ImportedArtifact(path: $0.path, size: $0.size, content: .file(folder + "/" + $0.path))
            }
        )
    }

    /// The artifacts of a run whose `artifact_uri` is `uri`: read when it is local; otherwise one skip naming why.
    static func listing(uri: String?, fallback: String?) -> ArtifactListing {
        if let uri, let path = localPath(uri) {
            if FileManager.default.fileExists(atPath: path) || fallback == nil { return listing(path) }
        } else if let uri, !uri.isEmpty {
            return ArtifactListing(skipped: [ImportSkip("artifact folders", reason: unreadable(uri))])
        }
        return fallback.map(listing) ?? ArtifactListing()
    }
}
