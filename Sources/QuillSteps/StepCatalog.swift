public import Foundation
public import QuillCore

/// Every step result under a steps root, read from the results' `.quill/` files: what `quill steps` lists,
/// shows, graphs and removes.
///
/// Reading never takes a lock and never changes a file. Removing takes the result's guard lock, checks the
/// compute lock, and moves the folder aside before deleting it, so a result is either all there or gone.
///
/// ```swift
/// let catalog = StepCatalog(options: .fromEnvironment())
/// for entry in try catalog.entries(matching: StepFilter(statuses: [.failed])) {
///     print(entry.reference, entry.sizeBytes)
/// }
/// ```
public struct StepCatalog: Sendable {
    /// The folder holding `data/` and `git/`.
    public var root: String
    /// Seconds since the last heartbeat after which a compute lock counts as abandoned.
    public var staleAfter: Double

    /// A catalog of the results under the options' root.
    public init(options: StepOptions) {
        root = options.root
        staleAfter = options.staleAfter
    }

    /// A catalog of the results under a root.
    public init(root: String, staleAfter: Double = 120) {
        self.root = root
        self.staleAfter = staleAfter
    }

    /// Every result under the root (folders with a `.quill/metadata.json`), sorted by namespace, then
    /// newest first.
    public func entries() -> [StepCatalogEntry] {
        var entries: [StepCatalogEntry] = []
        let manager = FileManager.default
        for versionControlled in [false, true] {
            let base = StepDirectory.kindFolder(root: root, versionControlled: versionControlled)
            for folder in (try? manager.contentsOfDirectory(atPath: base)) ?? []
            where StepDirectory.isNamespaceFolderName(folder) {
                let namespaceFolder = base + "/" + folder
                for hash in (try? manager.contentsOfDirectory(atPath: namespaceFolder)) ?? []
                where StepDirectory.isResultFolderName(hash) {
                    let directory = namespaceFolder + "/" + hash
                    guard let info = StepInfo.read(directory: directory) else { continue }
                    entries.append(
                        StepCatalogEntry(
                            info: info,
                            versionControlled: versionControlled,
                            sizeBytes: Self.size(of: directory),
                            lockHolder: lockHolder(directory)
                        )
                    )
                }
            }
        }
        return entries.sorted { lhs, rhs in
            if lhs.namespace != rhs.namespace { return lhs.namespace < rhs.namespace }
            return (lhs.started ?? .distantPast) > (rhs.started ?? .distantPast)
        }
    }

    /// The results a filter keeps.
    public func entries(matching filter: StepFilter) -> [StepCatalogEntry] {
        entries().filter(filter.matches)
    }

    /// Finds one result by `NAMESPACE/HASH`: the namespace as written in the metadata, as its folder name,
    /// or as its last component (`TrainModel`); the hash or a unique prefix of it (at least 4 digits).
    ///
    /// - Throws: ``QuillError`` `invalidArgument` for malformed text, `notFound` when nothing matches and
    ///   `ambiguous` when several results do.
    public func resolve(_ text: String, in all: [StepCatalogEntry]? = nil) throws -> StepCatalogEntry {
        guard let reference = StepReference(parsing: text) else {
            throw QuillError(
                .invalidArgument,
                "'\(text)' is not NAMESPACE/HASH; give it as `quill steps` lists it, such as MyPipeline.TrainModel/3fa2c1d"
            )
        }
        let candidates = (all ?? entries()).filter { entry in
            entry.matchesNamespace(reference.namespace) && entry.hash.hasPrefix(reference.hash)
        }
        if candidates.count == 1 { return candidates[0] }
        if candidates.isEmpty {
            throw QuillError(
                .notFound,
                "no step result \(text) under \(root); list the results with `quill steps --root \(root)`"
            )
        }
        let names = candidates.prefix(5).map { "\($0.namespace)/\($0.hash.prefix(12))" }.joined(separator: ", ")
        throw QuillError(
            .ambiguous,
            "\(text) matches \(candidates.count) results (\(names)); give more of the namespace or the hash"
        )
    }

    /// Who holds a result's compute lock (`host:pid`), when a live process holds it.
    func lockHolder(_ directory: String) -> String? {
        let lock = StepLock(StepDirectory(directory))
        guard FileIO.exists(lock.path) else { return nil }
        if let holder = lock.holder() {
            // A SLURM job's lock is held while the job may run again (queued or requeued), which only SLURM
            // knows: it counts as held.
            if holder.slurmJob != nil { return holder.owner }
            return holder.isStale(staleAfter: staleAfter) ? nil : holder.owner
        }
        // A lock file being written or left half-written: held until it is older than `staleAfter`.
        let modified = (try? FileManager.default.attributesOfItem(atPath: lock.path))?[.modificationDate] as? Date
        guard let modified, Date().timeIntervalSince(modified) <= staleAfter else { return nil }
        return "unknown holder"
    }

    /// The bytes of every regular file under a folder (not following symbolic links).
    public static func size(of directory: String) -> Int64 {
        files(in: directory).reduce(0) { $0 + $1.bytes }
    }

    /// Every regular file under a folder, as paths relative to it, sorted, with their sizes.
    public static func files(in directory: String) -> [StepFile] {
        let url = URL(fileURLWithPath: directory)
        guard
            let enumerator = FileManager.default.enumerator(
                at: url,
                includingPropertiesForKeys: [.isRegularFileKey, .fileSizeKey],
                options: []
            )
        else { return [] }
        var files: [StepFile] = []
        let prefix = url.standardizedFileURL.path + "/"
        for case let file as URL in enumerator {
            guard let values = try? file.resourceValues(forKeys: [.isRegularFileKey, .fileSizeKey]),
                values.isRegularFile == true
            else { continue }
            let path = file.standardizedFileURL.path
            let relative = path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : file.lastPathComponent
            files.append(StepFile(path: relative, bytes: Int64(values.fileSize ?? 0)))
        }
        return files.sorted { $0.path < $1.path }
    }
}

/// One file of a result.
public struct StepFile: Sendable, Hashable {
    /// The path relative to the result folder (`model.json`, `.quill/state.json`).
    public var path: String
    /// Its size in bytes.
    public var bytes: Int64
}

/// One result in a ``StepCatalog``.
public struct StepCatalogEntry: Sendable {
    /// The result's metadata and state.
    public var info: StepInfo
    /// Whether it lives under `git/`.
    public var versionControlled: Bool
    /// Bytes of all its files, `.quill/` included.
    public var sizeBytes: Int64
    /// `host:pid` of the live process holding its compute lock, if any.
    public var lockHolder: String?

    /// The namespace.
    public var namespace: String { info.namespace }
    /// The full hash.
    public var hash: String { info.hash }
    /// `NAMESPACE/HASH`.
    public var reference: StepReference { StepReference(namespace: namespace, hash: hash) }
    /// The result folder.
    public var directory: String { info.directory }
    /// The status (`success` only with the success marker).
    public var status: StepResultStatus { info.status }
    /// The step's type name (`TrainModel`).
    public var typeName: String {
        info.metadata["type"]?.stringValue ?? String(namespace.split(separator: ".").last ?? "")
    }
    /// The step as Swift source.
    public var swift: String { info.metadata["swift"]?.stringValue ?? "" }
    /// The configuration as JSON.
    public var config: JSONValue { info.metadata["config"] ?? .object([:]) }
    /// The host that last wrote the metadata.
    public var host: String { info.metadata["hostname"]?.stringValue ?? "" }
    /// The user that last wrote the metadata.
    public var user: String { info.metadata["user"]?.stringValue ?? "" }
    /// When the metadata was written.
    public var createdAt: Date? { info.metadata["created_at"]?.stringValue.flatMap(Timestamp.parse) }
    /// When the last attempt started (when the metadata was written, if none did).
    public var started: Date? { info.state.attempts.last?.startedAt ?? createdAt }
    /// When the result last changed: the last attempt's end, else its start, else the metadata's time.
    public var lastActivity: Date? {
        guard let last = info.state.attempts.last else { return createdAt }
        return max(last.endedAt ?? last.startedAt, last.heartbeatAt ?? last.startedAt)
    }
    /// The results this one depends on.
    public var dependencies: [StepReference] { info.dependencies }

    /// Whether a namespace as typed names this result: the namespace itself, its folder name, or its last
    /// dotted component.
    public func matchesNamespace(_ text: String) -> Bool {
        text == namespace || text == StepDirectory.folderName(namespace)
            || text == String(namespace.split(separator: ".").last ?? "")
    }

    /// The entry as JSON, as `quill steps --json` prints it.
    public var json: JSONValue {
        [
            "namespace": .string(namespace), "hash": .string(hash), "type": .string(typeName),
            "status": .string(status.rawValue), "swift": .string(swift), "config": config,
            "started": started.map { .string(Timestamp.string($0)) } ?? .null,
            "size_bytes": .int(Int(sizeBytes)), "host": .string(host), "user": .string(user),
            "dir": .string(directory), "version_controlled": .bool(versionControlled),
            "locked_by": lockHolder.map(JSONValue.string) ?? .null,
            "dependencies": .array(dependencies.map { .string($0.description) }),
        ]
    }
}

/// Which results to keep: every set condition must hold.
public struct StepFilter: Sendable {
    /// Statuses to keep (any of them); empty keeps all.
    public var statuses: Set<StepResultStatus> = []
    /// Results whose last attempt has one of these statuses (any when empty); a result without attempts
    /// has none.
    public var attemptStatuses: Set<StepAttemptStatus> = []
    /// Results whose namespace starts with this text (`Pipeline.` for every step of a module).
    public var namespacePrefix: String?
    /// Namespaces to keep (see ``StepCatalogEntry/matchesNamespace(_:)``); empty keeps all.
    public var namespaces: [String] = []
    /// The host that wrote the metadata.
    public var host: String?
    /// The user that wrote the metadata.
    public var user: String?
    /// Keep results whose last attempt started at or after this time.
    public var since: Date?
    /// Keep results whose last attempt started before this time.
    public var before: Date?
    /// Configuration conditions (`lr=0.001`).
    public var config: [StepConfigCondition] = []

    /// A filter that keeps everything.
    public init() {}

    /// A filter on statuses.
    public init(statuses: Set<StepResultStatus>) {
        self.statuses = statuses
    }

    /// Whether a result passes.
    public func matches(_ entry: StepCatalogEntry) -> Bool {
        if !statuses.isEmpty, !statuses.contains(entry.status) { return false }
        if !attemptStatuses.isEmpty {
            guard let last = entry.info.state.attempts.last, attemptStatuses.contains(last.status) else { return false }
        }
        if let namespacePrefix, !entry.namespace.hasPrefix(namespacePrefix) { return false }
        if !namespaces.isEmpty, !namespaces.contains(where: entry.matchesNamespace) { return false }
        if let host, entry.host != host { return false }
        if let user, entry.user != user { return false }
        if let since, (entry.started ?? .distantPast) < since { return false }
        if let before, (entry.started ?? .distantFuture) >= before { return false }
        return config.allSatisfy { $0.matches(entry.config) }
    }
}

/// `KEY=VALUE` on a result's configuration; the key is dotted (`dataset.samples=400`).
///
/// The two sides compare as numbers when both are numbers (`lr=0.0010` matches `0.001`), else as text;
/// `true`, `false` and `null` compare as those words.
public struct StepConfigCondition: Sendable, Hashable {
    /// The dotted key.
    public var key: String
    /// The wanted value, as typed.
    public var value: String

    /// Parses `KEY=VALUE`.
    ///
    /// - Throws: ``QuillError`` `invalidArgument` without `=` or with an empty key.
    public init(parsing text: String) throws {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
            throw QuillError(
                .invalidArgument,
                "'\(text)' is not KEY=VALUE; write a config condition such as lr=0.001 or dataset.samples=400"
            )
        }
        key = String(text[..<equals])
        value = String(text[text.index(after: equals)...])
    }

    /// Whether a configuration has the key with the value.
    public func matches(_ config: JSONValue) -> Bool {
        guard let actual = config.value(atPath: key) else { return false }
        if let number = actual.doubleValue, let wanted = Double(value) { return number == wanted }
        switch actual {
        case .string(let text): return text == value
        case .bool(let flag): return (flag ? "true" : "false") == value
        case .null: return value == "null" || value == "nil"
        case .int(let number): return String(number) == value
        case .double(let number): return number.description == value
        case .array, .object: return JSONWriter.string(actual) == value
        }
    }
}

extension StepCatalog {
    /// Parses a time for `--since`, `--before`: an ISO 8601 date or date-time (`2026-11-24`,
    /// `2026-11-24T10:00:00Z`), or an age before `now` (`30d`, `12h`, `90m`, `2w`).
    public static func parseTime(_ text: String, now: Date = Date()) -> Date? {
        if let age = parseAge(text) { return now.addingTimeInterval(-age) }
        return Timestamp.parse(text)
    }

    /// Parses an age in seconds: a number followed by `s`, `m`, `h`, `d` or `w` (`30d`).
    public static func parseAge(_ text: String) -> Double? {
        guard let unit = text.last, let number = Double(text.dropLast()), number >= 0, number.isFinite else {
            return nil
        }
        let seconds: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]
        return seconds[unit].map { $0 * number }
    }
}
