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
        group.delete(":name") { _, context in
            try api.authorization.runWorker(context.caller)
            let name = try context.parameters.require("name")
            try await queue.jobs.unregisterDevice(name, now: Date())
            queue.signal.changed()
            return Response(status: .noContent)
        }
    }
}
