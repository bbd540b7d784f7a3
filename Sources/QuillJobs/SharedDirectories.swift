import Foundation
import QuillCore

/// The folders a worker shares (`quill worker --share DIR`): the only places a run may ask it for a file.
///
/// A run's writers can ask any device for any path, so the worker, not the server, decides: a path is sent only
/// when, after resolving `..` and every symlink, it names a regular file inside a shared folder (itself resolved).
/// A symlink inside a shared folder that leads out of it is refused like a path outside. The path is first checked
/// as written (with `..` folded), so nothing outside the shared folders is even looked at. Of the worker's own runs
/// folder, a run sees only its own run directory (`<runs>/<run id>`), never another run's.
package struct SharedDirectories: Sendable {
    /// The shared folders as given (`..` folded) and as resolved (symlinks followed).
    private let roots: [(given: String, resolved: String)]
    /// The folder of the worker's job run directories, of which each run may read its own.
    private let runsDirectory: String?

    /// The folders; a folder that does not exist (yet) is kept as given.
    package init(_ paths: [String], runsDirectory: String? = nil) {
        roots = paths.map(Self.root)
        self.runsDirectory = runsDirectory
    }

    /// The shared folders, resolved.
    package var paths: [String] { roots.map(\.resolved) }

    private static func root(_ path: String) -> (given: String, resolved: String) {
        let given = fold(path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path)
        return (given, realPath(given) ?? given)
    }

    /// The resolved path of the regular file `path` names, when a shared folder holds it.
    ///
    /// - Throws: ``QuillError`` with a one-line message for the run to see: `forbidden` for a path outside the
    ///   shared folders (saying which `--share` would allow it), `notFound` for a missing file,
    ///   `invalidArgument` for a folder or anything else that is not a regular file.
    package func file(_ path: String, device: String, run: String? = nil) throws -> String {
        var roots = roots
        if let runsDirectory, let run, !run.isEmpty, !run.contains("/"), run != ".", run != ".." {
            roots.append(Self.root(runsDirectory + "/" + run))
        }
        guard path.hasPrefix("/") else {
            throw QuillError(
                .invalidArgument,
                "'\(path)' is not an absolute path; give the file's full path on \(device)"
            )
        }
        let folded = Self.fold(path)
        guard roots.contains(where: { Self.isInside(folded, $0.given) || Self.isInside(folded, $0.resolved) }) else {
            throw notShared(folded, device: device)
        }
        guard let resolved = Self.realPath(folded) else {
            throw QuillError(.notFound, "there is no file \(folded) on device \(device)")
        }
        guard roots.contains(where: { Self.isInside(resolved, $0.resolved) }) else {
            throw notShared(resolved, device: device, via: folded)
        }
        var info = stat()
        guard stat(resolved, &info) == 0 else {
            throw QuillError(.notFound, "there is no file \(folded) on device \(device)")
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG:
            guard access(resolved, R_OK) == 0 else {
                throw QuillError(.forbidden, "\(folded) on device \(device) cannot be read by its worker")
            }
            return resolved
        case S_IFDIR:
            throw QuillError(
                .invalidArgument,
                "\(folded) on device \(device) is a directory, not a regular file; archive it and ask for the archive"
            )
        default:
            throw QuillError(.invalidArgument, "\(folded) on device \(device) is not a regular file")
        }
    }

    private func notShared(_ path: String, device: String, via link: String? = nil) -> QuillError {
        let folder = (path as NSString).deletingLastPathComponent
        let shown = folder.isEmpty ? "/" : folder
        let how = link.map { " (\($0) leads to \(path))" } ?? ""
        return QuillError(
            .forbidden,
            "device \(device) does not share \(shown)\(how); start its worker with --share \(shown)"
        )
    }

    /// Whether `path` is `root` or inside it (both absolute, without `.`, `..` or repeated slashes).
    static func isInside(_ path: String, _ root: String) -> Bool {
        root == "/" || path == root || path.hasPrefix(root + "/")
    }

    /// An absolute path with `.`, `..` and empty components folded away, as written (symlinks not followed).
    package static func fold(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." {
                _ = parts.popLast()
                continue
            }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// The path with every symlink resolved, or `nil` when it does not exist.
    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
