package import Foundation
import GRDB
import QuillCore
package import QuillStore

/// Registered workers (`devices`, migration "v13: jobs").
extension SQLiteTrackingStore {
    package func registerDevice(_ device: NewDevice, lease: Duration, now: Date) async throws -> Device {
        try device.validate()
        let time = Timestamp.microseconds(now)
        let record = DeviceRecord(
            device,
            registeredAt: time,
            lastSeen: time,
            leaseExpiresAt: lease.expiry(from: time)
        )
        return try await write { db in
            try record.insert(db, onConflict: .replace)
            let running = try Self.runningJobs(db, worker: device.name)
            return record.stored(now: time, runningJobs: running)
        }
    }

    package func deviceHeartbeat(_ name: String, lease: Duration, now: Date) async throws -> Device {
        let time = Timestamp.microseconds(now)
        return try await write { db in
            guard var record = try DeviceRecord.fetchOne(db, key: name) else { throw try Self.missingDevice(db, name) }
            record.lastSeen = time
            record.leaseExpiresAt = lease.expiry(from: time)
            record.online = true
            try record.update(db)
            let running = try Self.runningJobs(db, worker: name)
            return record.stored(now: time, runningJobs: running)
        }
    }

    package func unregisterDevice(_ name: String, now: Date) async throws {
        let time = Timestamp.microseconds(now)
        try await write { db in
            guard var record = try DeviceRecord.fetchOne(db, key: name) else { throw try Self.missingDevice(db, name) }
            // Kept, offline: `quill devices` and whirr's worker list show a stopped worker with its last sighting.
            record.online = false
            record.lastSeen = time
            try record.update(db)
            let held =
                try JobAttemptRecord
                .filter(JobAttemptRecord.Columns.worker == name && JobAttemptRecord.Columns.outcome == nil)
                .fetchAll(db)
            for attempt in held {
                _ = try Self.lose(db, attempt, reason: JobStoreText.unregistered(worker: name), now: time)
            }
        }
    }

    package func devices(now: Date) async throws -> [Device] {
        let time = Timestamp.microseconds(now)
        return try await read { db in
            let running = try Row.fetchAll(
                db,
                sql: "SELECT worker, job_id FROM job_attempts WHERE outcome IS NULL ORDER BY job_id"
            )
            let byWorker = Dictionary(grouping: running, by: { $0[0] as String }).mapValues {
                $0.map { $0[1] as Int64 }
            }
            return try DeviceRecord.order(DeviceRecord.Columns.name).fetchAll(db).map { record in
                record.stored(now: time, runningJobs: byWorker[record.spec.name] ?? [])
            }
        }
    }

    private static func runningJobs(_ db: Database, worker: String) throws -> [Int64] {
        try Int64.fetchAll(
            db,
            sql: "SELECT job_id FROM job_attempts WHERE outcome IS NULL AND worker = ? ORDER BY job_id",
            arguments: [worker]
        )
    }

    /// An unknown device's error, naming the known ones.
    private static func missingDevice(_ db: Database, _ name: String) throws -> QuillError {
        let known = try String.fetchAll(db, sql: "SELECT name FROM devices ORDER BY name")
        return JobStoreText.missingDevice(name, known: known)
    }
}
