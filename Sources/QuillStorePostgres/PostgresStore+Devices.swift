package import Foundation
import PostgresNIO
import QuillCore
package import QuillStore

/// Registered workers (`devices`) on PostgreSQL.
extension PostgresStore {
    package func registerDevice(_ device: NewDevice, lease: Duration, now: Date) async throws -> Device {
        try device.validate()
        let time = Timestamp.microseconds(now)
        let expires = lease.expiry(from: time)
        return try await transaction { connection in
            // Registering a name again replaces its record, first registration included.
            let rows = try await connection.query(
                """
                INSERT INTO devices (
                    name, host, cpus, memory_bytes, gpus, labels, slots, registered_at, last_seen, lease_expires_at,
                    online
                ) VALUES (
                    \(device.name), \(device.host), \(device.cpus), \(device.memoryBytes), \(JSONColumn.text(device.gpus)),
                    \(JSONColumn.text(device.labels)), \(device.slots), \(time), \(time), \(expires), TRUE
                )
                ON CONFLICT (name) DO UPDATE SET
                    host = EXCLUDED.host, cpus = EXCLUDED.cpus, memory_bytes = EXCLUDED.memory_bytes,
                    gpus = EXCLUDED.gpus, labels = EXCLUDED.labels, slots = EXCLUDED.slots,
                    registered_at = EXCLUDED.registered_at, last_seen = EXCLUDED.last_seen,
                    lease_expires_at = EXCLUDED.lease_expires_at, online = EXCLUDED.online
                RETURNING \(unescaped: PostgresJobRows.deviceColumns)
                """,
                logger: logger
            ).collect()
            return try await storedDevice(rows, name: device.name, now: time, on: connection)
        }
    }

    package func deviceHeartbeat(_ name: String, lease: Duration, now: Date) async throws -> Device {
        let time = Timestamp.microseconds(now)
        let expires = lease.expiry(from: time)
        return try await transaction { connection in
            let rows = try await connection.query(
                """
                UPDATE devices SET last_seen = \(time), lease_expires_at = \(expires), online = TRUE
                WHERE name = \(name)
                RETURNING \(unescaped: PostgresJobRows.deviceColumns)
                """,
                logger: logger
            ).collect()
            return try await storedDevice(rows, name: name, now: time, on: connection)
        }
    }

    package func unregisterDevice(_ name: String, now: Date) async throws {
        let time = Timestamp.microseconds(now)
        try await transaction { connection in
            // Kept, offline: `quill devices` and whirr's worker list show a stopped worker with its last sighting.
            let rows = try await connection.query(
                "UPDATE devices SET online = FALSE, last_seen = \(time) WHERE name = \(name) RETURNING name",
                logger: logger
            ).collect()
            guard !rows.isEmpty else { throw try await missingDevice(name, on: connection) }
            let held = try await runningJobs(worker: name, on: connection)
            for id in held {
                // Locked first, then read again: it may have ended meanwhile.
                guard let job = try await lockedJob(id, on: connection),
                    let attempt = try await runningAttempt(of: id, on: connection), attempt.worker == name
                else { continue }
                let reason = JobStoreText.unregistered(worker: name)
                _ = try await lose(job, attempt: attempt.number, reason: reason, now: time, on: connection)
            }
        }
    }

    package func devices(now: Date) async throws -> [Device] {
        let time = Timestamp.microseconds(now)
        return try await withConnection { connection in
            var byWorker: [String: [Int64]] = [:]
            for try await (worker, job) in try await connection.query(
                "SELECT worker, job_id FROM job_attempts WHERE outcome IS NULL ORDER BY job_id",
                logger: logger
            ).decode((String, Int64).self) {
                byWorker[worker, default: []].append(job)
            }
            let rows = try await connection.query(
                "SELECT \(unescaped: PostgresJobRows.deviceColumns) FROM devices ORDER BY name",
                logger: logger
            ).collect()
            return try rows.map { row in
                let name = try row.makeRandomAccess()["name"].decode(String.self)
                return try PostgresJobRows.device(row, now: time, runningJobs: byWorker[name] ?? [])
            }
        }
    }

    /// The device of a `RETURNING` row with the jobs it runs, or the unknown device's error.
    private func storedDevice(
        _ rows: [PostgresRow],
        name: String,
        now: Int64,
        on connection: PostgresConnection
    ) async throws -> Device {
        guard let row = rows.first else { throw try await missingDevice(name, on: connection) }
        let running = try await runningJobs(worker: name, on: connection)
        return try PostgresJobRows.device(row, now: now, runningJobs: running)
    }

    /// The jobs a worker runs now, by id.
    private func runningJobs(worker: String, on connection: PostgresConnection) async throws -> [Int64] {
        var ids: [Int64] = []
        for try await id in try await connection.query(
            "SELECT job_id FROM job_attempts WHERE outcome IS NULL AND worker = \(worker) ORDER BY job_id",
            logger: logger
        ).decode(Int64.self) {
            ids.append(id)
        }
        return ids
    }

    /// An unknown device's error, naming the known ones.
    private func missingDevice(_ name: String, on connection: PostgresConnection) async throws -> QuillError {
        var known: [String] = []
        for try await name in try await connection.query("SELECT name FROM devices ORDER BY name", logger: logger)
            .decode(String.self)
        {
            known.append(name)
        }
        return JobStoreText.missingDevice(name, known: known)
    }
}
