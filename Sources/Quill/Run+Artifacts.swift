import Foundation
public import QuillCore

extension Run {
    /// Copies a file or folder into the run's `artifacts/` folder and records it.
    ///
    /// The copy is made before the call returns (the source may change right after, as checkpoints do), and
    /// the source is never modified. A relative source path inside a folder keeps its layout
    /// (`checkpoints/epoch1/model.bin` is stored as `artifacts/checkpoints/epoch1/model.bin`); an absolute
    /// one is stored by its file name. A folder is copied whole.
    ///
    /// ```swift
    /// try run.logArtifact("checkpoints/best.ckpt")
    /// try run.logArtifact("/tmp/report.html", name: "reports", fileName: "eval.html")
    /// ```
    ///
    /// - Parameters:
    ///   - path: The file or folder to store.
    ///   - name: The folder inside `artifacts/` to store it in, which is also its recorded name.
    ///   - fileName: The stored file's name, instead of the source's.
    /// - Returns: The stored artifact.
    /// - Throws: ``QuillError`` with ``QuillError/Code/notFound`` when the source is missing,
    ///   ``QuillError/Code/invalidArgument`` for a name that would leave `artifacts/` (`..`, an absolute
    ///   path, a NUL byte), or ``QuillError/Code/runFinished`` after the run ended.
    @discardableResult
    public func logArtifact(_ path: String, name: String? = nil, fileName: String? = nil) throws -> ArtifactRecord {
        try logArtifact(path, name: name, fileName: fileName, workingDirectory: nil)
    }

    /// Stores an artifact, resolving a relative source path against `workingDirectory` (the process's
    /// working directory when `nil`).
    @discardableResult
    package func logArtifact(
        _ relativeOrAbsolute: String,
        name: String?,
        fileName: String?,
        workingDirectory: String?
    ) throws -> ArtifactRecord {
        let base = workingDirectory ?? FileManager.default.currentDirectoryPath
        let source = relativeOrAbsolute.hasPrefix("/") ? relativeOrAbsolute : base + "/" + relativeOrAbsolute
        let path = relativeOrAbsolute
        if isFinished {
            throw QuillError(.runFinished, "run '\(self.name)' (\(id)) has finished; log artifacts before finish()")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) else {
            throw QuillError(
                .notFound,
                "artifact source '\(path)' does not exist; check the path (relative paths start at \(base))"
            )
        }
        let sourceName = (path as NSString).lastPathComponent
        let storedName = fileName ?? sourceName
        try ArtifactPath.validateComponent(storedName, what: "file name")
        var folder: String
        if let name {
            folder = try ArtifactPath.normalize(name, what: "artifact name")
        } else if !path.hasPrefix("/") {
            let parent = (path as NSString).deletingLastPathComponent
            folder = (try? ArtifactPath.normalize(parent, what: "path")) ?? ""
        } else {
            folder = ""
        }
        if folder == "." { folder = "" }
        let relative = folder.isEmpty ? storedName : folder + "/" + storedName
        let destination = directory.artifactsPath + "/" + relative
        try FileIO.makeDirectory((destination as NSString).deletingLastPathComponent)
        let temporary = destination + ".quill-tmp-\(getpid())"
        do {
            try? FileManager.default.removeItem(atPath: temporary)
            try FileManager.default.copyItem(atPath: source, toPath: temporary)
            if FileManager.default.fileExists(atPath: destination) {
                try FileManager.default.removeItem(atPath: destination)
            }
            try FileManager.default.moveItem(atPath: temporary, toPath: destination)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw QuillError(
                .io,
                "could not copy artifact '\(path)' to '\(destination)'; check free space and permissions",
                underlying: error
            )
        }
        let size = ArtifactPath.size(of: destination)
        let record = ArtifactRecord(name: name ?? relative, path: relative, size: size, timestamp: Date())
        let line = RunEvent(
            kind: .artifact,
            timestamp: record.timestamp,
            fields: ["name": .string(record.name), "path": .string(relative), "size": .int(Int(size))]
        ).line
        try writer.enqueue(.events, line)
        return record
    }
}

/// Checks on names used inside `artifacts/`.
package enum ArtifactPath {
    /// Normalizes a relative folder path: `a/./b` → `a/b`; refuses `..`, absolute paths and NUL bytes.
    package static func normalize(_ path: String, what: String) throws -> String {
        if path.hasPrefix("/") {
            throw QuillError(
                .invalidArgument,
                "\(what) '\(path)' is absolute; give a path relative to the artifacts folder"
            )
        }
        var parts: [String] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) where part != "." {
            try validateComponent(String(part), what: what)
            parts.append(String(part))
        }
        return parts.joined(separator: "/")
    }

    /// Refuses a single path component that is empty, `.`, `..`, or holds `/` or a NUL byte.
    package static func validateComponent(_ component: String, what: String) throws {
        if component.isEmpty || component == "." || component == ".." || component.contains("/")
            || component.utf8.contains(0)
        {
            throw QuillError(
                .invalidArgument,
                "\(what) '\(component.replacingOccurrences(of: "\0", with: "\\0"))' is not allowed: it must not be empty, '.', '..', or contain '/' or NUL"
            )
        }
    }

    /// The size of a file, or the total size of the files in a folder.
    package static func size(of path: String) -> Int64 {
        var info = stat()
        guard stat(path, &info) == 0 else { return 0 }
        if (info.st_mode & S_IFMT) != S_IFDIR { return Int64(info.st_size) }
        var total: Int64 = 0
        let enumerator = FileManager.default.enumerator(atPath: path)
        while let relative = enumerator?.nextObject() as? String {
            var child = stat()
            if stat(path + "/" + relative, &child) == 0, (child.st_mode & S_IFMT) == S_IFREG {
                total += Int64(child.st_size)
            }
        }
        return total
    }
}
