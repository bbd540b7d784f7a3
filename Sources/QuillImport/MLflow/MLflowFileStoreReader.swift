import Foundation
import QuillCore
import QuillStore

/// Reads an MLflow file store (`mlruns/`): experiments in folders named by id (deleted ones under `.trash/`), each
/// with `meta.yaml` and `tags/`; runs in folders named by run id with `meta.yaml`, `params/`, `tags/`,
/// `metrics/` (one file per key, `timestamp value step` a line, in logging order) and `artifacts/`, as
/// `mlflow/store/tracking/file_store.py` (MLflow 3) writes them. Keys with `/` are nested folders.
package struct MLflowFileStoreReader: ImportSource {
    /// The store's root folder.
    package let root: String

    /// Folders of an experiment that are not runs.
    private static let reserved: Set<String> = ["tags", "datasets", "traces", "models", ".trash"]

    /// A reader of the file store at `root`.
    ///
    /// - Throws: ``QuillError`` (`invalid_argument`) when `root` has no experiment folder with a `meta.yaml`.
    package init(root: String) throws {
        self.root = root
        guard Self.isFileStore(root) else {
            throw QuillError(
                .invalidArgument,
                "\(root) is not an MLflow file store (no experiment folder with a meta.yaml); pass the mlruns folder"
            )
        }
    }

    /// Whether `path` looks like a file store: a folder with an experiment folder holding `meta.yaml`.
    package static func isFileStore(_ path: String) -> Bool {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return entries.contains { entry in
            !reserved.contains(entry) && FileManager.default.fileExists(atPath: path + "/" + entry + "/meta.yaml")
        } || FileManager.default.fileExists(atPath: path + "/.trash")
    }

    package var location: String { root }

    /// Experiment folders: active ones, then the trash.
    private func experimentFolders() -> [String] {
        func folders(_ parent: String) -> [String] {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? []
            return entries.filter { !Self.reserved.contains($0) && !$0.hasPrefix(".") }.sorted().map {
                parent + "/" + $0
            }
            .filter { FileManager.default.fileExists(atPath: $0 + "/meta.yaml") }
        }
        return folders(root) + folders(root + "/.trash")
    }

    private static func meta(_ folder: String) -> MLflowYAML.Mapping? {
        guard let data = FileManager.default.contents(atPath: folder + "/meta.yaml") else { return nil }
        return MLflowYAML.parse(String(decoding: data, as: UTF8.self))
    }

    /// Files under `folder` (nested keys joined with `/`) with their contents.
    private static func values(_ folder: String) -> [String: String] {
        var values: [String: String] = [:]
        for file in MLflowMapping.files(under: folder) {
            guard let data = FileManager.default.contents(atPath: folder + "/" + file.path) else { continue }
            values[file.path] = String(decoding: data, as: UTF8.self)
        }
        return values
    }

    package func experiments() throws -> [ImportedExperiment] {
        experimentFolders().compactMap { folder in
            guard let meta = Self.meta(folder), let id = meta["experiment_id"] ?? nil, let name = meta["name"] ?? nil
            else { return nil }
            return ImportedExperiment(
                sourceID: id,
                name: name,
                tags: Self.values(folder + "/tags"),
                deleted: (meta["lifecycle_stage"] ?? nil) == "deleted"
            )
        }
    }

    package func runs() throws -> [ImportedRun] {
        var runs: [ImportedRun] = []
        for folder in experimentFolders() {
            guard let experiment = Self.meta(folder)?["experiment_id"] ?? nil else { continue }
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            for entry in entries.sorted() where !Self.reserved.contains(entry) {
                let directory = folder + "/" + entry
                guard let meta = Self.meta(directory), let id = (meta["run_id"] ?? nil).flatMap(RunID.init) else {
                    continue
                }
                var run = ImportedRun(id: id, experimentID: experiment)
                run.tags = Self.values(directory + "/tags")
                run.params = Self.values(directory + "/params").mapValues(JSONValue.string)
                run.name = MLflowMapping.runName(stored: meta["run_name"] ?? nil, tags: run.tags)
                run.status = MLflowMapping.status(meta["status"] ?? nil)
                run.startedAt = MLflowMapping.date(milliseconds: (meta["start_time"] ?? nil).flatMap { Int64($0) })
                run.endedAt = MLflowMapping.date(milliseconds: (meta["end_time"] ?? nil).flatMap { Int64($0) })
                run.user = meta["user_id"] ?? nil
                run.parent = MLflowMapping.parent(tags: run.tags)
                run.deleted = (meta["lifecycle_stage"] ?? nil) == "deleted"
                run.folder = directory
                run.artifactLocation = meta["artifact_uri"] ?? nil
                runs.append(run)
            }
        }
        return runs
    }

    package func metrics(of run: ImportedRun) throws -> [ImportedSeries] {
        guard let directory = run.folder else { return [] }
        let folder = directory + "/metrics"
        return try MLflowMapping.files(under: folder).map { file in
            guard let data = FileManager.default.contents(atPath: folder + "/" + file.path) else {
                throw QuillError(.io, "could not read \(folder)/\(file.path); check its permissions")
            }
            return ImportedSeries(
                key: file.path,
                points: try Self.points(data, key: file.path, file: folder + "/" + file.path)
            )
        }
    }

    /// The points of one metric file: `timestamp value [step [dataset digest]]` a line, numbered in file order.
    static func points(_ data: Data, key: String, file: String) throws -> [MetricValue] {
        var points: [MetricValue] = []
        var index = 0
        for line in data.split(separator: UInt8(ascii: "\n")) {
            let parts = line.split(separator: UInt8(ascii: " "))
            guard parts.count >= 2, let milliseconds = Int64(String(decoding: parts[0], as: UTF8.self)),
                let value = Double(String(decoding: parts[1], as: UTF8.self))
            else {
                if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") }) { continue }
                throw QuillError(
                    .malformed,
                    "line \(index + 1) of \(file) is not `timestamp value step`; fix or remove the line and import again"
                )
            }
            let step = parts.count >= 3 ? Int(String(decoding: parts[2], as: UTF8.self)) ?? 0 : 0
            points.append(
                MetricValue(
                    key: key,
                    value: value,
                    step: step,
                    timestamp: MLflowMapping.date(milliseconds: milliseconds) ?? Date(timeIntervalSince1970: 0),
                    index: index
                )
            )
            index += 1
        }
        return points
    }

    package func artifacts(of run: ImportedRun) throws -> ArtifactListing {
        // The URI MLflow recorded; a store moved since then still has the files in the run's own folder.
        MLflowMapping.listing(uri: run.artifactLocation, fallback: run.folder.map { $0 + "/artifacts" })
    }
}
