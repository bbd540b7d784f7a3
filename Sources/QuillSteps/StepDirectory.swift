import Foundation

/// The folder of one step result and every path in it: the one place that knows the layout of a steps root
/// (`data/` and `git/` by namespace and hash, `raw/`) and of a result's `.quill/` folder.
///
/// Docs/Steps.md is the contract this type writes:
///
/// ```
/// <root>/data/<namespace folder>/<hash>/      the files create() wrote, and .quill/
/// <root>/git/<namespace folder>/<hash>/       version-controlled results
/// <root>/raw/                                 a shared folder for large files
/// <result>/.quill/metadata.json, state.json, log.txt, SUCCESS, lock, guard, slurm.log, slurm-job.sh
/// ```
///
/// ```swift
/// let result = StepDirectory(root: options.root, namespace: "MyPipeline.TrainModel", hash: hash,
///                            versionControlled: false)
/// if FileIO.exists(result.success) { … }
/// ```
package struct StepDirectory: Sendable, Hashable {
    /// The result folder: `<root>/data/<namespace folder>/<hash>`.
    package let path: String

    /// A result folder given by its path.
    package init(_ path: String) {
        self.path = path
    }

    /// The folder of the result with a namespace and hash under a steps root.
    package init(root: String, namespace: String, hash: String, versionControlled: Bool) {
        let namespaceFolder = Self.namespaceFolder(
            root: root,
            namespace: namespace,
            versionControlled: versionControlled
        )
        self.init(namespaceFolder + "/" + hash)
    }

    /// The name of the folder inside a result that holds Quill's files.
    package static let quillFolderName = ".quill"

    /// `.quill/`: Quill's files, next to the files `create` wrote.
    package var quill: String { path + "/" + Self.quillFolderName }
    /// `.quill/metadata.json`: the configuration, git, host and dependencies.
    package var metadata: String { quill + "/metadata.json" }
    /// `.quill/state.json`: the status and every attempt.
    package var state: String { quill + "/state.json" }
    /// `.quill/log.txt`: what `create` logged.
    package var log: String { quill + "/log.txt" }
    /// `.quill/SUCCESS`: the success marker; a result is valid only when it exists.
    package var success: String { quill + "/SUCCESS" }
    /// `.quill/lock`: the compute lock.
    package var lock: String { quill + "/lock" }
    /// `.quill/guard`: the `flock` that serialises changes to the lock and the state.
    package var guardFile: String { quill + "/guard" }
    /// `.quill/slurm.log`: the output of the SLURM jobs that computed the result (every run, appended).
    package var slurmOutput: String { quill + "/slurm.log" }
    /// `.quill/slurm-job.sh`: the batch script of the last SLURM job submitted to compute the result.
    package var slurmScript: String { quill + "/slurm-job.sh" }

    /// The namespace folder holding the result.
    package var parent: String { (path as NSString).deletingLastPathComponent }

    /// A folder next to the result that it is renamed to before it is deleted: `.removing-<hash>-<id>`.
    package func removalFolder(hash: String, id: String) -> String {
        parent + "/.removing-\(hash)-\(id)"
    }

    // MARK: - The steps root

    /// The folder of a kind of results: `<root>/data`, or `<root>/git` for version-controlled steps.
    package static func kindFolder(root: String, versionControlled: Bool) -> String {
        root + "/" + (versionControlled ? "git" : "data")
    }

    /// The folder of a namespace's results: `<root>/data/<namespace folder>`.
    package static func namespaceFolder(root: String, namespace: String, versionControlled: Bool) -> String {
        kindFolder(root: root, versionControlled: versionControlled) + "/" + folderName(namespace)
    }

    /// The shared folder for large files: `<root>/raw`.
    package static func rawFolder(root: String) -> String { root + "/raw" }

    /// Whether a name in a namespace folder can be a result folder: a non-empty run of hex digits.
    package static func isResultFolderName(_ name: String) -> Bool {
        !name.isEmpty && name.allSatisfy(\.isHexDigit)
    }

    /// Whether a name in a kind folder can be a namespace folder (not a hidden folder such as a removal).
    package static func isNamespaceFolderName(_ name: String) -> Bool {
        !name.hasPrefix(".")
    }

    /// A namespace as a folder name: letters, digits, `.`, `_` and `-` kept, every other byte as `%XX`, and
    /// a leading `.` as `%2E`, so no namespace leaves its kind folder.
    package static func folderName(_ namespace: String) -> String {
        var out = ""
        for byte in namespace.utf8 {
            let scalar = Unicode.Scalar(byte)
            if (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
            {
                out.unicodeScalars.append(scalar)
            } else {
                out += String(format: "%%%02X", byte)
            }
        }
        if out.hasPrefix(".") { out = "%2E" + out.dropFirst() }
        return out.isEmpty ? "%00" : out
    }
}
