public import Foundation

/// A run as a reader sees it: its directory and metadata, with the status corrected for dead processes.
public struct LocalRun: Sendable, Hashable {
    /// The run's folder.
    public var directory: RunDirectory
    /// The metadata; ``RunMeta/status`` is the effective status (a dead `running` run reads `crashed`).
    public var meta: RunMeta
}

/// Reads the runs under a Quill home: lists them, finds one by id, id prefix or name, and reports a run
/// whose process died without closing it as crashed.
///
/// A run is crashed when its `meta.json` says `running` but its process is gone: on the same host, the pid
/// no longer exists or belongs to a newer process; on another host, no heartbeat came for
/// ``staleAfter`` seconds. With `repair`, the first reader to see that writes it into `meta.json`.
public struct LocalRunStore: Sendable {
    /// The home the runs live in.
    public var home: QuillHome
    /// How long without a heartbeat before a run started on another host counts as crashed.
    public var staleAfter: TimeInterval = 600

    /// Creates a store over a home.
    public init(home: QuillHome) {
        self.home = home
    }

    /// Lists every run, newest first. Folders without a readable `meta.json` are skipped and counted.
    ///
    /// - Parameter repair: Write `crashed` into the metadata of runs found dead.
    public func list(repair: Bool = true) -> (runs: [LocalRun], unreadable: [String]) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: home.runsPath)) ?? []
        var runs: [LocalRun] = []
        var unreadable: [String] = []
        for name in names where !name.hasPrefix(".") {
            let directory = RunDirectory(path: home.runsPath + "/" + name)
            guard directory.exists else { continue }
            do {
                runs.append(try load(directory, repair: repair))
            } catch {
                unreadable.append("\(name): \(error)")
            }
        }
        runs.sort { ($0.meta.startedAt, $0.meta.id) > ($1.meta.startedAt, $1.meta.id) }
        return (runs, unreadable)
    }

    /// Loads one run directory and corrects its status.
    public func load(_ directory: RunDirectory, repair: Bool = true) throws -> LocalRun {
        var meta = try directory.readMeta()
        if meta.status == .running, !isAlive(meta) {
            let lastSign = lastActivity(directory, meta: meta)
            meta.status = .crashed
            meta.finishedAt = lastSign
            if meta.error == nil { meta.error = "the run's process ended without closing the run" }
            if repair {
                let fixed = meta
                // Re-check under the lock: the run may have closed itself meanwhile.
                _ = try? directory.updateMeta { current in
                    guard current.status == .running else { return }
                    current.status = .crashed
                    current.finishedAt = fixed.finishedAt
                    current.error = fixed.error
                    current.updatedAt = Date()
                }
                let event = RunEvent(kind: .status, fields: ["status": "crashed", "detected_by": "reader"])
                try? FileIO.append(directory.eventsPath, event.line)
            }
        }
        return LocalRun(directory: directory, meta: meta)
    }

    /// Whether a running run's process is alive.
    public func isAlive(_ meta: RunMeta) -> Bool {
        guard let host = meta.host else {
            return heartbeatFresh(meta)
        }
        if host.hostname == ProcessLiveness.hostname() {
            return ProcessLiveness.isAlive(pid: host.pid, startTicks: host.processStartTicks)
        }
        return heartbeatFresh(meta)
    }

    private func heartbeatFresh(_ meta: RunMeta) -> Bool {
        let last = meta.heartbeatAt ?? meta.updatedAt ?? meta.startedAt
        return Date().timeIntervalSince(last) < staleAfter
    }

    private func lastActivity(_ directory: RunDirectory, meta: RunMeta) -> Date {
        var latest = meta.heartbeatAt ?? meta.updatedAt ?? meta.startedAt
        for path in [directory.metricsPath, directory.logPath, directory.eventsPath, directory.systemPath] {
            var info = stat()
            if stat(path, &info) == 0 {
                latest = max(latest, Platform.modificationDate(of: info))
            }
        }
        return latest
    }

    /// Finds a run by id, unique id prefix or name (newest run of that name when several projects share it).
    ///
    /// - Throws: ``QuillError`` with ``QuillError/Code/notFound`` or ``QuillError/Code/ambiguous``, saying
    ///   how to list the runs.
    public func resolve(_ reference: String, project: String? = nil, repair: Bool = true) throws -> LocalRun {
        if let id = RunID(reference) {
            let directory = home.runDirectory(id)
            if directory.exists { return try load(directory, repair: repair) }
        }
        var runs = list(repair: repair).runs
        if let project {
            let slug = Project.slug(for: project)
            runs = runs.filter { $0.meta.projectSlug == slug }
        }
        let byName = runs.filter { $0.meta.name == reference }
        if byName.count == 1 { return byName[0] }
        let byPrefix = runs.filter { $0.meta.id.rawValue.hasPrefix(reference) }
        if byPrefix.count == 1, !reference.isEmpty { return byPrefix[0] }
        if byName.count > 1 {
            let where_ = byName.map { "\($0.meta.id) (\($0.meta.project))" }.joined(separator: ", ")
            throw QuillError(
                .ambiguous,
                "run name '\(reference)' is used in several projects: \(where_); pass --project or an id"
            )
        }
        if byPrefix.count > 1 {
            let ids = byPrefix.prefix(5).map(\.meta.id.rawValue).joined(separator: ", ")
            throw QuillError(.ambiguous, "'\(reference)' is a prefix of several run ids (\(ids)); type more of the id")
        }
        throw QuillError(
            .notFound,
            "run '\(reference)' not found in \(home.runsPath); list runs with `quill runs` or set QUILL_HOME"
        )
    }
}
