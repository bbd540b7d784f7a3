import Foundation

/// What a run (the SDK) or a step result (QuillSteps) records about its environment: the git checkout, the
/// host and process, and the dependency snapshot.
///
/// Each call runs short helper commands (`git`, `pip`) through ``ProcessCapture``; a missing tool or a
/// folder outside a checkout gives `nil`, never an error.
package enum EnvironmentCapture {
    /// The uncommitted diff is cut at this many bytes.
    package static let diffLimit = 1 << 20

    /// The git state of the checkout holding `directory`, and the diff when it is dirty.
    package static func git(in directory: String) -> (info: GitInfo, diff: [UInt8]?)? {
        guard let lines = ProcessCapture.text("git", ["rev-parse", "HEAD", "--abbrev-ref", "HEAD"], in: directory)
        else {
            return nil
        }
        let parts = lines.split(separator: "\n").map(String.init)
        guard parts.count == 2 else { return nil }
        let status = ProcessCapture.text("git", ["status", "--porcelain", "--untracked-files=no"], in: directory)
        let dirty = status != nil
        let remote = ProcessCapture.text("git", ["config", "--get", "remote.origin.url"], in: directory)
        var diff: [UInt8]?
        var truncated = false
        if dirty, let (bytes, cut) = ProcessCapture.run("git", ["diff", "HEAD"], in: directory, limit: diffLimit) {
            diff = bytes
            truncated = cut
        }
        let info = GitInfo(
            commit: parts[0],
            branch: parts[1],
            dirty: dirty,
            remote: remote,
            diffFile: diff == nil ? nil : RunDirectory.gitDiffFileName,
            diffTruncated: truncated
        )
        return (info, diff)
    }

    /// This host and process.
    package static func host() -> HostInfo {
        let environment = ProcessInfo.processInfo.environment
        let pid = getpid()
        return HostInfo(
            hostname: ProcessLiveness.hostname(),
            user: environment["USER"] ?? environment["LOGNAME"] ?? userName(),
            pid: pid,
            processStartTicks: ProcessLiveness.startTicks(of: pid),
            os: operatingSystem(),
            swiftVersion: swiftVersion,
            executable: ProcessCapture.currentExecutable(),
            commandLine: CommandLine.arguments
        )
    }

    private static func userName() -> String {
        if let entry = getpwuid(getuid()), let name = entry.pointee.pw_name {
            return String(cString: name)
        }
        return String(getuid())
    }

    private static func operatingSystem() -> String {
        if let bytes = try? FileIO.read("/etc/os-release") {
            for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n")
            where line.hasPrefix("PRETTY_NAME=") {
                return line.dropFirst("PRETTY_NAME=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
        }
        return ProcessInfo.processInfo.operatingSystemVersionString
    }

    /// The Swift version Quill was compiled with.
    package static var swiftVersion: String {
        #if compiler(>=6.4)
        return "6.4 or later"
        #elseif compiler(>=6.3.1)
        return "6.3.1"
        #elseif compiler(>=6.3)
        return "6.3"
        #elseif compiler(>=6.2)
        return "6.2"
        #else
        return "6.1 or earlier"
        #endif
    }

    /// The dependency snapshot: `pip freeze` when a Python virtualenv is active, else the `Package.resolved`
    /// of the SwiftPM package enclosing the working directory.
    package static func dependencies(
        in directory: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> (fileName: String, bytes: [UInt8])? {
        if let venv = environment["VIRTUAL_ENV"], !venv.isEmpty {
            let python = venv + "/bin/python"
            if let (bytes, _) = ProcessCapture.run(python, ["-m", "pip", "freeze"]), !bytes.isEmpty {
                return (RunDirectory.requirementsFileName, bytes)
            }
        }
        var folder = directory
        for _ in 0..<32 {
            if FileIO.exists(folder + "/Package.swift") {
                if let bytes = try? FileIO.read(folder + "/Package.resolved") {
                    return (RunDirectory.packageResolvedFileName, bytes)
                }
                return nil
            }
            let parent = (folder as NSString).deletingLastPathComponent
            if parent == folder || parent.isEmpty { break }
            folder = parent
        }
        return nil
    }
}
