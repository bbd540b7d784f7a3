import Foundation
import QuillCore

/// The compute lock of one step: `.quill/lock`, created exclusively, holding a lease its holder renews.
///
/// Taking a free lock is one `open(O_CREAT|O_EXCL)`, which exactly one process wins, also across machines
/// sharing the folder. Every other change to the lock (renewing, releasing, taking over a dead holder's)
/// happens while holding an exclusive `flock` on `.quill/guard` and re-reading the lock's token first, so a
/// holder that was taken over can never overwrite or remove its successor's lock.
struct StepLock {
    /// What the lock file holds.
    struct Holder: Sendable {
        var token: String
        var host: String
        var pid: Int32
        var pidStart: UInt64?
        var heartbeatAt: Date
        var lease: Double
        /// The SLURM job the lock belongs to (`slurm_job_id`): the job that computes the step, whether its
        /// process runs now (`pid` is the runner's) or not (`pid` 0: queued, or requeued after a preemption).
        var slurmJob: String?

        /// Whether no process holds the lock: it belongs to a SLURM job that is not running its runner now.
        var isJobHeld: Bool { pid == 0 && slurmJob != nil }

        var owner: String {
            guard let slurmJob else { return "\(host):\(pid)" }
            return isJobHeld ? "SLURM job \(slurmJob)" : "\(host):\(pid) (SLURM job \(slurmJob))"
        }

        var json: JSONValue {
            var object: [String: JSONValue] = [
                "token": .string(token), "host": .string(host), "pid": .int(Int(pid)),
                "pid_start": pidStart.map { .int(Int($0)) } ?? .null,
                "heartbeat_at": .string(Timestamp.string(heartbeatAt)), "lease_seconds": .double(lease),
            ]
            if let slurmJob { object["slurm_job_id"] = .string(slurmJob) }
            return .object(object)
        }

        /// This process, holding the lock (inside a SLURM job when `slurmJob` is given).
        init(token: String, lease: Double, slurmJob: String? = nil) {
            self.token = token
            host = ProcessLiveness.hostname()
            pid = getpid()
            pidStart = ProcessLiveness.startTicks(of: pid)
            heartbeatAt = Date()
            self.lease = lease
            self.slurmJob = slurmJob
        }

        /// A SLURM job holding the lock while no process of it runs (queued, or requeued after a preemption).
        static func job(_ slurmJob: String, token: String, lease: Double) -> Holder {
            var holder = Holder(token: token, lease: lease, slurmJob: slurmJob)
            holder.host = ""
            holder.pid = 0
            holder.pidStart = nil
            return holder
        }

        init?(bytes: [UInt8]) {
            guard let json = try? JSONParser.parse(bytes), let token = json["token"]?.stringValue,
                let time = json["heartbeat_at"]?.stringValue.flatMap(Timestamp.parse)
            else { return nil }
            self.token = token
            host = json["host"]?.stringValue ?? ""
            pid = Int32(json["pid"]?.intValue ?? 0)
            pidStart = json["pid_start"]?.intValue.map(UInt64.init)
            heartbeatAt = time
            lease = json["lease_seconds"]?.doubleValue ?? 120
            slurmJob = json["slurm_job_id"]?.stringValue
        }

        /// Whether the holder is gone: its process died (same host), or it has not renewed in `staleAfter`.
        /// For a lock that belongs to a SLURM job SLURM's answer decides instead, when SLURM can be asked
        /// (``StepEngine``); this is the answer when it cannot.
        func isStale(staleAfter: Double, now: Date = Date()) -> Bool {
            if pid != 0, host == ProcessLiveness.hostname(),
                !ProcessLiveness.isAlive(pid: pid, startTicks: pidStart)
            {
                return true
            }
            return now.timeIntervalSince(heartbeatAt) > staleAfter
        }
    }

    let path: String
    let guardPath: String

    init(_ directory: StepDirectory) {
        path = directory.lock
        guardPath = directory.guardFile
    }

    /// Tries to take a free lock; `false` when someone holds it.
    func tryAcquire(_ holder: Holder) throws -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if fd < 0 {
            if errno == EEXIST { return false }
            throw StepLockError(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        do {
            // Not synced: a lock lost to a power cut is a lock nobody holds, which is what it should be.
            try FileIO.writeAll(fd, JSONWriter.bytes(holder.json), path: path)
        } catch {
            unlink(path)
            throw StepLockError(path: path, reason: "\(error)")
        }
        return true
    }

    /// The current holder, when the lock is held and readable.
    func holder() -> Holder? {
        (try? FileIO.read(path)).flatMap { $0 }.flatMap(Holder.init(bytes:))
    }

    /// Renews the heartbeat; `false` when the lock is no longer ours (it was taken over).
    func renew(_ holder: inout Holder) throws -> Bool {
        try FileIO.withLock(guardPath) {
            guard self.holder()?.token == holder.token else { return false }
            holder.heartbeatAt = Date()
            try FileIO.replaceAtomically(path, with: JSONWriter.bytes(holder.json), durable: false)
            return true
        }
    }

    /// Releases the lock when it is still ours.
    func release(_ holder: Holder) {
        _ = try? FileIO.withLock(guardPath) {
            if self.holder()?.token == holder.token { unlink(path) }
        }
    }

    /// Replaces our lock with another holder (a SLURM job's, or its runner's) when it is still ours;
    /// `false` when it is not.
    func replace(_ holder: Holder, with next: Holder) throws -> Bool {
        try FileIO.withLock(guardPath) {
            guard self.holder()?.token == holder.token else { return false }
            try FileIO.replaceAtomically(path, with: JSONWriter.bytes(next.json), durable: false)
            return true
        }
    }

    /// Takes over the lock for the runner of a SLURM job, when it belongs to that job (or to the submission
    /// `token` that started it): the holder `make` builds from the current one becomes the lock's. `nil`
    /// when the lock is free or someone else's.
    func adopt(job: String, token: String?, _ make: (Holder) -> Holder) throws -> Holder? {
        try FileIO.withLock(guardPath) {
            guard let current = self.holder(), current.slurmJob == job || (token != nil && current.token == token)
            else { return nil }
            let next = make(current)
            try FileIO.replaceAtomically(path, with: JSONWriter.bytes(next.json), durable: false)
            return next
        }
    }

    /// Removes a stale lock (dead holder or expired lease) and returns the holder it removed, so its
    /// attempt can be recorded as crashed. A lock file that cannot be read is stale once it is older than
    /// `staleAfter` (a holder killed while writing it).
    func breakIfStale(staleAfter: Double, _ body: (Holder?) throws -> Void) throws -> Bool {
        try breakIfStale(staleAfter: staleAfter, isStale: { $0.isStale(staleAfter: staleAfter) }, body)
    }

    /// Removes the lock when `isStale` says its holder is gone (asked under the guard, with the holder read
    /// there), and calls `body` with the removed holder.
    func breakIfStale(
        staleAfter: Double,
        isStale: (Holder) -> Bool,
        _ body: (Holder?) throws -> Void
    ) throws -> Bool {
        try FileIO.withLock(guardPath) {
            guard FileIO.exists(path) else { return false }
            if let current = holder() {
                guard isStale(current) else { return false }
                unlink(path)
                try body(current)
                return true
            }
            let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
            guard let modified, Date().timeIntervalSince(modified) > staleAfter else { return false }
            unlink(path)
            try body(nil)
            return true
        }
    }
}
