import Foundation
import GRDB
import QuillCore
import QuillStore

/// A row of `devices`: one registered worker, by name.
struct DeviceRecord: FetchableRecord, PersistableRecord, Sendable {
    static let databaseTableName = "devices"

    /// The table's columns.
    enum Columns {
        static let name = Column("name")
        static let host = Column("host")
        static let cpus = Column("cpus")
        static let memoryBytes = Column("memory_bytes")
        static let gpus = Column("gpus")
        static let labels = Column("labels")
        static let slots = Column("slots")
        static let registeredAt = Column("registered_at")
        static let lastSeen = Column("last_seen")
        static let leaseExpiresAt = Column("lease_expires_at")
        static let online = Column("online")
    }

    var spec: NewDevice
    /// Times in microseconds since the epoch.
    var registeredAt: Int64
    var lastSeen: Int64
    var leaseExpiresAt: Int64
    var online: Bool

    init(_ spec: NewDevice, registeredAt: Int64, lastSeen: Int64, leaseExpiresAt: Int64) {
        self.spec = spec
        self.registeredAt = registeredAt
        self.lastSeen = lastSeen
        self.leaseExpiresAt = leaseExpiresAt
        online = true
    }

    init(row: Row) {
        spec = NewDevice(
            name: row[Columns.name],
            host: row[Columns.host],
            cpus: row[Columns.cpus],
            memoryBytes: row[Columns.memoryBytes],
            gpus: JSONColumn.gpus(row[Columns.gpus]),
            labels: JSONColumn.strings(row[Columns.labels]),
            slots: row[Columns.slots]
        )
        registeredAt = row[Columns.registeredAt]
        lastSeen = row[Columns.lastSeen]
        leaseExpiresAt = row[Columns.leaseExpiresAt]
        online = row[Columns.online]
    }

    func encode(to container: inout PersistenceContainer) {
        container[Columns.name] = spec.name
        container[Columns.host] = spec.host
        container[Columns.cpus] = spec.cpus
        container[Columns.memoryBytes] = spec.memoryBytes
        container[Columns.gpus] = JSONColumn.text(spec.gpus)
        container[Columns.labels] = JSONColumn.text(spec.labels)
        container[Columns.slots] = spec.slots
        container[Columns.registeredAt] = registeredAt
        container[Columns.lastSeen] = lastSeen
        container[Columns.leaseExpiresAt] = leaseExpiresAt
        container[Columns.online] = online
    }

    /// The device with its status at `now` and the jobs it runs.
    func stored(now: Int64, runningJobs: [Int64]) -> Device {
        Device(
            spec: spec,
            status: DeviceStatus(
                online: online,
                leaseExpiresAt: leaseExpiresAt,
                runningJobs: runningJobs.count,
                now: now
            ),
            registeredAt: Timestamp.date(microseconds: registeredAt),
            lastSeen: Timestamp.date(microseconds: lastSeen),
            runningJobs: runningJobs
        )
    }
}
