/// The state of the git checkout a run started in.
public struct GitInfo: Sendable, Hashable {
    /// The full commit hash of `HEAD`.
    public var commit: String
    /// The branch name, or `HEAD` when detached.
    public var branch: String
    /// Whether tracked files had uncommitted changes.
    public var dirty: Bool
    /// The URL of the `origin` remote, when there is one.
    public var remote: String?
    /// The file in the run directory holding `git diff HEAD`, when the tree was dirty.
    public var diffFile: String?
    /// Whether the stored diff was cut at the size cap.
    public var diffTruncated: Bool

    /// Creates a record.
    public init(
        commit: String,
        branch: String,
        dirty: Bool,
        remote: String? = nil,
        diffFile: String? = nil,
        diffTruncated: Bool = false
    ) {
        self.commit = commit
        self.branch = branch
        self.dirty = dirty
        self.remote = remote
        self.diffFile = diffFile
        self.diffTruncated = diffTruncated
    }

    /// The first seven characters of the commit.
    public var shortHash: String { String(commit.prefix(7)) }

    /// The record as written in `meta.json` (whirr's `git` shape plus Quill's fields).
    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "commit": .string(commit), "short_hash": .string(shortHash), "branch": .string(branch),
            "dirty": .bool(dirty), "diff_truncated": .bool(diffTruncated),
        ]
        members["remote"] = remote.map(JSONValue.string) ?? .null
        if let diffFile { members["diff_file"] = .string(diffFile) }
        return .object(members)
    }

    /// Reads a record written by ``json``; `nil` when the commit is missing.
    public init?(json: JSONValue?) {
        guard let json, let commit = json["commit"]?.stringValue else { return nil }
        self.init(
            commit: commit,
            branch: json["branch"]?.stringValue ?? "HEAD",
            dirty: json["dirty"]?.boolValue ?? false,
            remote: json["remote"]?.stringValue,
            diffFile: json["diff_file"]?.stringValue,
            diffTruncated: json["diff_truncated"]?.boolValue ?? false
        )
    }
}

/// The machine and process a run was started from.
public struct HostInfo: Sendable, Hashable {
    /// The machine's host name.
    public var hostname: String
    /// The user name.
    public var user: String
    /// The process id.
    public var pid: Int32
    /// The process start time in clock ticks since boot (Linux `/proc/PID/stat` field 22), so a reused pid
    /// is not mistaken for the run's process.
    public var processStartTicks: UInt64?
    /// The operating system, e.g. `Debian GNU/Linux 12 (bookworm)`.
    public var os: String
    /// The Swift version the program was built with.
    public var swiftVersion: String
    /// The path of the executable.
    public var executable: String
    /// The command line, arguments included.
    public var commandLine: [String]

    /// Creates a record.
    public init(
        hostname: String,
        user: String,
        pid: Int32,
        processStartTicks: UInt64?,
        os: String,
        swiftVersion: String,
        executable: String,
        commandLine: [String]
    ) {
        self.hostname = hostname
        self.user = user
        self.pid = pid
        self.processStartTicks = processStartTicks
        self.os = os
        self.swiftVersion = swiftVersion
        self.executable = executable
        self.commandLine = commandLine
    }

    /// The record as written in `meta.json`.
    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "hostname": .string(hostname), "user": .string(user), "pid": .int(Int(pid)), "os": .string(os),
            "swift_version": .string(swiftVersion), "executable": .string(executable),
            "command_line": .array(commandLine.map(JSONValue.string)),
        ]
        if let processStartTicks { members["pid_start_ticks"] = .int(Int(truncatingIfNeeded: processStartTicks)) }
        return .object(members)
    }

    /// Reads a record written by ``json``; `nil` when the host name is missing.
    public init?(json: JSONValue?) {
        guard let json, let hostname = json["hostname"]?.stringValue else { return nil }
        self.init(
            hostname: hostname,
            user: json["user"]?.stringValue ?? "",
            pid: Int32(truncatingIfNeeded: json["pid"]?.intValue ?? 0),
            processStartTicks: json["pid_start_ticks"]?.intValue.map { UInt64(truncatingIfNeeded: $0) },
            os: json["os"]?.stringValue ?? "",
            swiftVersion: json["swift_version"]?.stringValue ?? "",
            executable: json["executable"]?.stringValue ?? "",
            commandLine: json["command_line"]?.arrayValue?.compactMap(\.stringValue) ?? []
        )
    }
}
