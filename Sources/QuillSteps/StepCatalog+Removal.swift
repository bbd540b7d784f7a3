public import Foundation
public import QuillCore

/// What removing one result did (or, on a dry run, would do).
public struct StepRemoval: Sendable {
    /// The result.
    public var reference: StepReference
    /// Its folder.
    public var directory: String
    /// Its status when it was removed.
    public var status: StepResultStatus
    /// The bytes its files took.
    public var bytes: Int64
    /// Whether the folder is gone (`false` on a dry run).
    public var removed: Bool

    /// The removal as JSON.
    public var json: JSONValue {
        [
            "namespace": .string(reference.namespace), "hash": .string(reference.hash),
            "status": .string(status.rawValue), "dir": .string(directory), "bytes": .int(Int(bytes)),
            "removed": .bool(removed),
        ]
    }
}

/// Which results `gc` removes: those matching any set criterion.
public struct StepGCCriteria: Sendable {
    /// Results whose last computation failed.
    public var failed = false
    /// Results started and never finished (their process died, or was stopped).
    public var incomplete = false
    /// Results with no activity for this many seconds (any status).
    public var olderThan: Double?

    /// No criterion: `gc` refuses to run with it.
    public init(failed: Bool = false, incomplete: Bool = false, olderThan: Double? = nil) {
        self.failed = failed
        self.incomplete = incomplete
        self.olderThan = olderThan
    }

    /// Whether no criterion is set.
    public var isEmpty: Bool { !failed && !incomplete && olderThan == nil }

    /// Whether a result matches a criterion.
    public func matches(_ entry: StepCatalogEntry, now: Date = Date()) -> Bool {
        if failed, entry.status == .failed { return true }
        if incomplete, entry.status == .incomplete { return true }
        if let olderThan, let last = entry.lastActivity, now.timeIntervalSince(last) > olderThan { return true }
        return false
    }
}

/// What `gc` did: the results it removed (or would remove) and those it left because they are locked.
public struct StepGCReport: Sendable {
    /// Removed results (on a dry run, those that would be).
    public var removals: [StepRemoval] = []
    /// Matching results left alone, with the reason.
    public var skipped: [(entry: StepCatalogEntry, reason: String)] = []
    /// Bytes freed (or that would be).
    public var bytes: Int64 { removals.reduce(0) { $0 + $1.bytes } }
}

extension StepCatalog {
    /// Removes one result's folder.
    ///
    /// Takes the result's guard lock, checks its compute lock again and moves the folder aside
    /// (`.removing-<hash>-<id>` next to it) before deleting it, so no reader sees half a result and a
    /// process that starts computing it afterwards starts from an empty folder.
    ///
    /// - Parameters:
    ///   - entry: The result.
    ///   - force: Remove it even while a live process holds its compute lock.
    ///   - dryRun: Only report what would be removed.
    /// - Throws: ``QuillError`` `conflict` when a live process holds the lock and `force` is not set;
    ///   `io` when the folder cannot be removed.
    public func remove(_ entry: StepCatalogEntry, force: Bool = false, dryRun: Bool = false) throws -> StepRemoval {
        let directory = entry.directory
        var removal = StepRemoval(
            reference: entry.reference,
            directory: directory,
            status: entry.status,
            bytes: Self.size(of: directory),
            removed: false
        )
        let folder = StepDirectory(directory)
        let parent = folder.parent
        let aside = folder.removalFolder(hash: entry.hash, id: StepEngine.newAttemptID())
        try FileIO.withLock(folder.guardFile) {
            if !force, let holder = lockHolder(directory) {
                throw QuillError(
                    .conflict,
                    "\(entry.namespace)/\(entry.hash.prefix(7)) is being computed by \(holder); wait for it to finish, or pass --force to remove it anyway"
                )
            }
            if dryRun { return }
            guard rename(directory, aside) == 0 else {
                throw QuillError.posix("moving aside", path: directory, errno: errno)
            }
        }
        if dryRun { return removal }
        do {
            try FileManager.default.removeItem(atPath: aside)
        } catch {
            throw QuillError(
                .io,
                "could not delete \(aside) (moved aside from \(directory)); delete it by hand",
                underlying: error
            )
        }
        // Drop the namespace folder when this was its last result; fails harmlessly otherwise.
        rmdir(parent)
        removal.removed = true
        return removal
    }

    /// Removes every result matching the criteria, leaving those a live process holds the lock of.
    ///
    /// - Throws: ``QuillError`` `invalidArgument` when no criterion is set.
    public func collectGarbage(
        _ criteria: StepGCCriteria,
        dryRun: Bool = false,
        now: Date = Date()
    ) throws
        -> StepGCReport
    {
        guard !criteria.isEmpty else {
            throw QuillError(
                .invalidArgument,
                "gc needs at least one criterion: --failed, --incomplete or --older-than AGE (such as 30d); add --dry-run to see what it would remove"
            )
        }
        var report = StepGCReport()
        for entry in entries() where criteria.matches(entry, now: now) {
            if let holder = entry.lockHolder {
                report.skipped.append((entry, "locked by \(holder)"))
                continue
            }
            do {
                report.removals.append(try remove(entry, dryRun: dryRun))
            } catch let error as QuillError where error.code == .conflict {
                report.skipped.append((entry, "locked"))
            }
        }
        return report
    }
}
