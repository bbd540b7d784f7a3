import Foundation
import Hummingbird
import QuillAPI
import QuillCore
import QuillJobs
import QuillStore

/// `/api/v1/devices`: workers register, heartbeat and unregister; anyone signed in lists them.
struct DeviceRoutes {
    let api: APIContext
    let queue: JobQueue

    func register(_ group: RouterGroup<QuillRequestContext>) {
        group.get { _, context in
            try api.authorization.readDevices(context.caller)
            let devices = try await queue.jobs.devices(now: Date())
            return try JSONResponse.make(APIDeviceList(devices: devices.map(DTO.device)))
        }
        group.get(":name") { _, context in
            try api.authorization.readDevices(context.caller)
            let name = try context.parameters.require("name")
            let devices = try await queue.jobs.devices(now: Date())
            guard let device = devices.first(where: { $0.spec.name == name }) else {
                let known = devices.map(\.spec.name)
                throw QuillError(
                    .notFound,
                    "device '\(name)' not found; "
                        + (known.isEmpty
                            ? "no device is registered" : "known devices: \(known.joined(separator: ", "))")
                )
            }
            return try JSONResponse.make(DTO.device(device))
        }
        group.put(":name") { request, context in
            try api.authorization.runWorker(context.caller)
            let name = try context.parameters.require("name")
            let body = try await api.body(APIDeviceRegister.self, request)
            guard (1...1024).contains(body.slots) else {
                throw QuillError(.invalidArgument, "body.slots must be 1 to 1024")
            }
            guard (0...1_000_000).contains(body.cpus), body.memoryBytes >= 0 else {
                throw QuillError(.invalidArgument, "body.cpus must be 0 to 1000000 and body.memory_bytes not negative")
            }
            guard body.gpus.allSatisfy({ (0...1024).contains($0.index) && ($0.memoryBytes ?? 0) >= 0 }) else {
                throw QuillError(.invalidArgument, "body.gpus must have indices from 0 to 1024 and memory not negative")
            }
            for label in body.labels { try RequestRules.checkKey(label, "a label of body.labels") }
            let lease = try JobRoutes.duration(body.leaseSeconds, JobRoutes.leaseRange, "body.lease_seconds")
            let device = NewDevice(
                name: name,
                host: body.host,
                cpus: body.cpus,
                memoryBytes: body.memoryBytes,
                gpus: body.gpus.map { DeviceGPU(index: $0.index, name: $0.name, memoryBytes: $0.memoryBytes) },
                labels: body.labels,
                slots: body.slots
            )
            let registered = try await queue.jobs.registerDevice(device, lease: lease, now: Date())
            return try JSONResponse.make(DTO.device(registered))
        }
        group.post(":name/heartbeat") { request, context in
            try api.authorization.runWorker(context.caller)
            let name = try context.parameters.require("name")
            let body = try await api.body(APIJobLeaseRequest.self, request)
            let lease = try JobRoutes.duration(body.leaseSeconds, JobRoutes.leaseRange, "body.lease_seconds")
            return try JSONResponse.make(
                DTO.device(try await queue.jobs.deviceHeartbeat(name, lease: lease, now: Date()))
            )
        }
        group.post(":name/unregister") { _, context in
            try api.authorization.runWorker(context.caller)
            let name = try context.parameters.require("name")
            let now = Date()
            try await queue.jobs.unregisterDevice(name, now: now)
            queue.signal.changed()
            guard let device = try await queue.jobs.device(name, now: now) else {
                throw QuillError(.notFound, "device '\(name)' not found; list the devices with `quill devices`")
            }
            return try JSONResponse.make(DTO.device(device))
        }
    }
}
