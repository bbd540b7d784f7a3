import Foundation
import QuillCore
import Synchronization

/// Keeps the files of a `quill run` run Quill's while its command runs, and writes its heartbeat.
///
/// A tool inside the command may write its own `meta.json` and `config.json` into the run directory:
/// whirr does when `WHIRR_RUN_DIR` names it, replacing both without Quill's lock. What such a writer adds
/// is kept (summary, tags, params, links, config keys, git when Quill had none), but the fields the run's
/// owner decides stay Quill's: id, name, project, kind, host, start time and status. The check runs with
/// each heartbeat and once more after the command ended, before the run is finished.
struct RunFileGuard {
    let directory: RunDirectory
    private var meta: RunMeta
    private var config: [String: JSONValue]

    /// Takes the run's files as they are now as Quill's.
    init(directory: RunDirectory) throws {
        self.directory = directory
        meta = try directory.readMeta()
        config = try directory.readConfig().objectValue ?? [:]
    }

    /// Repairs `meta.json` and `config.json` when something else rewrote them, and records a heartbeat.
    ///
    /// - Parameter final: The command has ended: a file left unreadable is written back from what quill
    ///   knows instead of being retried later.
    mutating func check(heartbeat: Date?, final: Bool = false) {
        var known = meta
        _ = try? FileIO.withLock(directory.lockPath) {
            let current = try? directory.readMeta()
            guard current != nil || final else { return }
            var merged = current.map { Self.merge($0, into: known) } ?? known
            if let heartbeat, merged.status == .running {
                merged.heartbeatAt = max(merged.heartbeatAt ?? heartbeat, heartbeat)
                merged.updatedAt = heartbeat
            }
            if merged != current { try directory.writeMeta(merged) }
            known = merged
        }
        meta = known
        checkConfig(final: final)
    }

    private mutating func checkConfig(final: Bool) {
        var known = config
        _ = try? FileIO.withLock(directory.lockPath) {
            let current = try? directory.readConfig().objectValue
            guard current != nil || final else { return }
            let merged = known.merging(current ?? [:]) { _, new in new }
            if merged != current {
                try FileIO.replaceAtomically(directory.configPath, with: JSONWriter.pretty(.object(merged)))
            }
            known = merged
        }
        config = known
    }

    /// The metadata with Quill's fields from `known` and what others added from `current`.
    static func merge(_ current: RunMeta, into known: RunMeta) -> RunMeta {
        var merged = known
        for rendered in current.tags {
            let key = String(rendered.split(separator: ":", maxSplits: 1).first ?? "")
            let value = current.tagValues[key] ?? ""
            if merged.tagValues[key] != value { merged.setTag(key, value) }
        }
        for (key, value) in current.tagValues where merged.tagValues[key] != value { merged.setTag(key, value) }
        merged.params.merge(current.params) { _, new in new }
        merged.summary.merge(current.summary) { _, new in new }
        for link in current.links where !merged.links.contains(link) { merged.links.append(link) }
        merged.git = known.git ?? current.git
        merged.dependencyFile = known.dependencyFile ?? current.dependencyFile
        merged.description = current.description ?? known.description
        merged.extra = known.extra.merging(current.extra) { old, _ in old }
        merged.heartbeatAt = [known.heartbeatAt, current.heartbeatAt].compactMap { $0 }.max()
        merged.updatedAt = [known.updatedAt, current.updatedAt].compactMap { $0 }.max()
        return merged
    }
}

extension RunFileGuard {
    /// A guard that `quill run`'s heartbeat thread and its main thread (the final check) share.
    final class Shared: Sendable {
        private let files: Mutex<RunFileGuard>

        init(_ files: RunFileGuard) {
            self.files = Mutex(files)
        }

        /// ``RunFileGuard/check(heartbeat:final:)``, one caller at a time.
        func check(heartbeat: Date?, final: Bool = false) {
            files.withLock { $0.check(heartbeat: heartbeat, final: final) }
        }
    }
}
