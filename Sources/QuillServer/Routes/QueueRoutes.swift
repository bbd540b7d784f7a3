import Foundation
import Hummingbird
import QuillAPI
import QuillCore
import QuillJobs
import QuillStore

/// `GET /api/v1/queue`: the queue at a glance (its depth, running jobs, counts by status, workers), for the
/// SDK's client and `quill jobs`; one count query and one device list, whatever the queue's length.
struct QueueRoutes {
    let api: APIContext
    let queue: JobQueue

    func register(_ group: RouterGroup<QuillRequestContext>) {
        group.get { _, context in
            try api.authorization.readDevices(context.caller)
            let projects = try await api.authorization.readableJobProjects(context.caller)
            let counts = try await queue.jobs.jobCounts(projectIDs: projects)
            let devices = try await queue.jobs.devices(now: Date())
            let live = devices.filter { $0.status != .offline }
            let workers = APIQueueWorkers(
                online: devices.count { $0.status == .online },
                busy: devices.count { $0.status == .busy },
                offline: devices.count { $0.status == .offline },
                total: devices.count,
                slots: live.reduce(0) { $0 + $1.spec.slots }  // at most 1,024 slots per device
            )
            return try JSONResponse.make(
                APIQueueStatus(
                    queued: counts[.queued] ?? 0,
                    running: counts[.running] ?? 0,
                    counts: Dictionary(uniqueKeysWithValues: JobStatus.allCases.map { ($0.rawValue, counts[$0] ?? 0) }),
                    workers: workers
                )
            )
        }
    }
}
