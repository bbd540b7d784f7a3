public import Foundation

/// A point where a run was reopened, and the step it declared it resumes from.
///
/// Rows written before the resume (index below ``atIndex``) whose step is at or after ``fromStep`` are
/// superseded: readers drop them and show the curve the resumed process logged instead.
public struct ResumePoint: Sendable, Hashable {
    /// The index of the first row the resumed process wrote.
    public var atIndex: Int
    /// The first step the resumed process logs again, when it declared one.
    public var fromStep: Int?
    /// When the run was resumed.
    public var timestamp: Date

    /// Creates a resume point.
    public init(atIndex: Int, fromStep: Int?, timestamp: Date) {
        self.atIndex = atIndex
        self.fromStep = fromStep
        self.timestamp = timestamp
    }

    /// Whether this resume supersedes a row.
    public func supersedes(index: Int, step: Int?) -> Bool {
        guard let fromStep, let step, index < atIndex else { return false }
        return step >= fromStep
    }
}

/// The contents of a run's `meta.json`.
///
/// The file keeps the names and fields the whirr format uses (`run_id`, `name`, `status`, `started_at`,
/// `finished_at`, `duration_seconds`, `tags`, `config_file`, `summary`, `git_info`) and adds Quill's own.
/// Fields this version does not know are kept in ``extra`` and written back unchanged.
public struct RunMeta: Sendable, Hashable {
    /// The run's id.
    public var id: RunID
    /// The run's name, unique within its project.
    public var name: String
    /// The project's display name.
    public var project: String
    /// The project's slug.
    public var projectSlug: String
    /// The run's kind.
    public var kind: RunKind
    /// The parent run's id, for nested runs.
    public var parent: RunID?
    /// The status as last written. A reader should use ``LocalRunStore`` to learn whether a `running` run
    /// is really still alive.
    public var status: RunStatus
    /// When the run started.
    public var startedAt: Date
    /// When the run ended.
    public var finishedAt: Date?
    /// When the metadata was last written.
    public var updatedAt: Date?
    /// The last sign of life from the run's process (written at least every minute while it runs).
    public var heartbeatAt: Date?
    /// Label tags (`baseline`) and key-value tags written `key:value`, in the order they were added.
    public var tags: [String]
    /// Key-value tags; label tags have an empty value.
    public var tagValues: [String: String]
    /// Params logged after start with ``Run/logParam(_:_:)`` (config lives in `config.json`).
    public var params: [String: JSONValue]
    /// The summary: final metrics and other values, merged over the run.
    public var summary: [String: JSONValue]
    /// External links.
    public var links: [RunLink]
    /// The git state at start.
    public var git: GitInfo?
    /// The host and process at start.
    public var host: HostInfo?
    /// The dependency snapshot file in the run directory (`requirements.txt` or `Package.resolved`).
    public var dependencyFile: String?
    /// Times the run was reopened.
    public var resumes: [ResumePoint]
    /// A free-text description.
    public var description: String?
    /// The exit code of the command, for runs started by `quill run`.
    public var exitCode: Int32?
    /// The signal that ended the run's process, when one did.
    public var signal: Int32?
    /// Why the run failed or crashed, when known.
    public var error: String?
    /// Fields written by other tools or newer versions, kept as they are.
    public var extra: [String: JSONValue]

    /// Creates metadata for a new running run.
    public init(id: RunID, name: String, project: Project, kind: RunKind, parent: RunID?, startedAt: Date) {
        self.id = id
        self.name = name
        self.project = project.displayName
        self.projectSlug = project.slug
        self.kind = kind
        self.parent = parent
        self.status = .running
        self.startedAt = startedAt
        self.finishedAt = nil
        self.updatedAt = startedAt
        self.heartbeatAt = startedAt
        self.tags = []
        self.tagValues = [:]
        self.params = [:]
        self.summary = [:]
        self.links = []
        self.git = nil
        self.host = nil
        self.dependencyFile = nil
        self.resumes = []
        self.description = nil
        self.exitCode = nil
        self.signal = nil
        self.error = nil
        self.extra = [:]
    }

    /// The run's duration: end minus start, or `nil` while it runs.
    public var durationSeconds: Double? {
        finishedAt.map { $0.timeIntervalSince(startedAt) }
    }

    /// Adds or replaces a tag. A label tag has an empty value.
    public mutating func setTag(_ key: String, _ value: String) {
        let rendered = value.isEmpty ? key : "\(key):\(value)"
        if let old = tagValues[key] {
            let oldRendered = old.isEmpty ? key : "\(key):\(old)"
            tags.removeAll { $0 == oldRendered }
        }
        tagValues[key] = value
        tags.append(rendered)
    }

    /// Adds tags written as text: a plain word is a label tag, `key=value` a key-value tag (as on the
    /// command line); the older `key:value` is read the same way. A key contains neither `=` nor `:`.
    public mutating func addTags(_ tags: [String]) {
        for tag in tags {
            // The first `=` or `:` separates: a key contains neither, a value may contain both.
            if let separator = tag.firstIndex(where: { $0 == "=" || $0 == ":" }) {
                setTag(String(tag[..<separator]), String(tag[tag.index(after: separator)...]))
            } else {
                setTag(tag, "")
            }
        }
    }

    /// Whether a row is superseded by a later resume.
    public func isSuperseded(index: Int, step: Int?) -> Bool {
        resumes.contains { $0.supersedes(index: index, step: step) }
    }
}

extension RunMeta {
    private static let knownKeys: Set<String> = [
        "id", "run_id", "name", "project", "project_slug", "kind", "parent", "status", "started_at",
        "finished_at", "updated_at", "heartbeat_at", "duration_seconds", "tags", "tag_values", "params",
        "summary", "links", "git", "git_info", "host", "requirements_file", "dependency_file", "resumes",
        "description", "exit_code", "signal", "error", "config_file", "metrics_file", "artifacts_dir",
        "system_file", "events_file", "log_file", "format",
    ]

    /// The metadata as written to `meta.json`.
    public var json: JSONValue {
        var members = extra
        members["format"] = "quill/1"
        members["id"] = .string(id.rawValue)
        members["run_id"] = .string(id.rawValue)
        members["name"] = .string(name)
        members["project"] = .string(project)
        members["project_slug"] = .string(projectSlug)
        members["kind"] = .string(kind.label)
        members["parent"] = parent.map { .string($0.rawValue) } ?? .null
        members["status"] = .string(status.rawValue)
        members["started_at"] = .string(Timestamp.string(startedAt))
        members["finished_at"] = finishedAt.map { .string(Timestamp.string($0)) } ?? .null
        members["updated_at"] = updatedAt.map { .string(Timestamp.string($0)) } ?? .null
        members["heartbeat_at"] = heartbeatAt.map { .string(Timestamp.string($0)) } ?? .null
        members["duration_seconds"] = durationSeconds.map(JSONValue.double) ?? .null
        members["tags"] = .array(tags.map(JSONValue.string))
        members["tag_values"] = .object(tagValues.mapValues(JSONValue.string))
        members["params"] = .object(params)
        members["summary"] = .object(summary)
        members["links"] = .array(
            links.map { link in
                [
                    "label": .string(link.label), "url": .string(link.url),
                    "timestamp": .string(Timestamp.string(link.timestamp)),
                ]
            }
        )
        members["git_info"] = git?.json ?? .null
        members["git"] = git?.json ?? .null
        members["host"] = host?.json ?? .null
        members["dependency_file"] = dependencyFile.map(JSONValue.string) ?? .null
        members["requirements_file"] =
            dependencyFile == RunDirectory.requirementsFileName ? .string(RunDirectory.requirementsFileName) : .null
        members["resumes"] = .array(
            resumes.map { point in
                [
                    "at_idx": .int(point.atIndex), "from_step": point.fromStep.map(JSONValue.int) ?? .null,
                    "timestamp": .string(Timestamp.string(point.timestamp)),
                ]
            }
        )
        members["description"] = description.map(JSONValue.string) ?? .null
        members["exit_code"] = exitCode.map { .int(Int($0)) } ?? .null
        members["signal"] = signal.map { .int(Int($0)) } ?? .null
        members["error"] = error.map(JSONValue.string) ?? .null
        members["config_file"] = .string(RunDirectory.configFileName)
        members["metrics_file"] = .string(RunDirectory.metricsFileName)
        members["artifacts_dir"] = .string(RunDirectory.artifactsDirectoryName)
        members["system_file"] = .string(RunDirectory.systemFileName)
        members["events_file"] = .string(RunDirectory.eventsFileName)
        members["log_file"] = .string(RunDirectory.logFileName)
        return .object(members)
    }

    /// Reads metadata from `meta.json`'s parsed contents, tolerating whirr's fields and missing ones.
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/malformed`` when the id or start time is missing.
    public init(json: JSONValue, directoryName: String) throws {
        guard case .object(let members) = json else {
            throw QuillError(.malformed, "meta.json is not a JSON object")
        }
        let idText = members["run_id"]?.stringValue ?? members["id"]?.stringValue ?? directoryName
        guard let id = RunID(idText) else {
            throw QuillError(.malformed, "meta.json has an invalid run id '\(idText)'")
        }
        let startedAt = members["started_at"]?.stringValue.flatMap(Timestamp.parse)
        guard let startedAt else {
            throw QuillError(.malformed, "meta.json of run \(idText) has no valid started_at")
        }
        let projectName = members["project"]?.stringValue ?? Project.defaultName
        let project = Project(displayName: projectName)
        self.init(
            id: id,
            name: members["name"]?.stringValue ?? idText,
            project: project,
            kind: RunKind(members["kind"]?.stringValue ?? "training"),
            parent: members["parent"]?.stringValue.flatMap(RunID.init),
            startedAt: startedAt
        )
        projectSlug = members["project_slug"]?.stringValue ?? project.slug
        status = members["status"]?.stringValue.flatMap(RunStatus.init(rawValue:)) ?? .running
        finishedAt = members["finished_at"]?.stringValue.flatMap(Timestamp.parse)
        updatedAt = members["updated_at"]?.stringValue.flatMap(Timestamp.parse)
        heartbeatAt = members["heartbeat_at"]?.stringValue.flatMap(Timestamp.parse)
        tags = members["tags"]?.arrayValue?.compactMap(\.stringValue) ?? []
        if let values = members["tag_values"]?.objectValue {
            tagValues = values.compactMapValues(\.stringValue)
        } else {
            for tag in tags {
                let parts = tag.split(separator: ":", maxSplits: 1)
                tagValues[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
            }
        }
        params = members["params"]?.objectValue ?? [:]
        summary = members["summary"]?.objectValue ?? [:]
        links = (members["links"]?.arrayValue ?? []).compactMap { item in
            guard let label = item["label"]?.stringValue, let url = item["url"]?.stringValue else { return nil }
            let time = item["timestamp"]?.stringValue.flatMap(Timestamp.parse) ?? startedAt
            return RunLink(label: label, url: url, timestamp: time)
        }
        git = GitInfo(json: members["git_info"]) ?? GitInfo(json: members["git"])
        host = HostInfo(json: members["host"])
        dependencyFile = members["dependency_file"]?.stringValue ?? members["requirements_file"]?.stringValue
        resumes = (members["resumes"]?.arrayValue ?? []).compactMap { item in
            guard let atIndex = item["at_idx"]?.intValue else { return nil }
            let time = item["timestamp"]?.stringValue.flatMap(Timestamp.parse) ?? startedAt
            return ResumePoint(atIndex: atIndex, fromStep: item["from_step"]?.intValue, timestamp: time)
        }
        description = members["description"]?.stringValue
        exitCode = members["exit_code"]?.intValue.map { Int32(truncatingIfNeeded: $0) }
        signal = members["signal"]?.intValue.map { Int32(truncatingIfNeeded: $0) }
        error = members["error"]?.stringValue
        extra = members.filter { !Self.knownKeys.contains($0.key) }
    }
}
