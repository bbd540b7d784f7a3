import Foundation
import Hummingbird
import Synchronization

/// A few dedicated threads for requests with large bodies, so decoding them never occupies Swift's cooperative
/// thread pool (as many threads as cores), which every other request needs.
///
/// A 100,000-point batch is a few megabytes of JSON to parse: on the cooperative pool, two of them at once
/// would leave no thread for `/healthz` or a small read until they are done. On these threads the operating
/// system shares the cores between them and the pool, so small requests still run within milliseconds. Jobs
/// beyond the thread count wait in order.
final class BulkExecutor: TaskExecutor, Sendable {
    /// The server's bulk threads (four; started on first use, never stopped).
    static let shared = BulkExecutor(threads: 4)

    private let jobs = Mutex<[UnownedJob]>([])
    private let available = DispatchSemaphore(value: 0)

    private init(threads: Int) {
        for index in 0..<threads {
            let thread = Thread { [self] in self.work() }
            thread.name = "quill-bulk-\(index)"
            thread.start()
        }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        jobs.withLock { $0.append(job) }
        available.signal()
    }

    private func work() {
        while true {
            available.wait()
            guard let job = jobs.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { continue }
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}

/// Runs requests with large bodies (64 KiB or more, or of unknown length) on ``BulkExecutor`` rather than on
/// the cooperative thread pool.
struct BulkRequestMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The body size from which a request counts as bulk.
    static var threshold: Int { 64 << 10 }

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard Self.isBulk(request) else { return try await next(request, context) }
        return try await withTaskExecutorPreference(BulkExecutor.shared) { try await next(request, context) }
    }

    static func isBulk(_ request: Request) -> Bool {
        switch request.method {
        case .post, .put, .patch:
            guard let length = request.headers[.contentLength].flatMap({ Int($0) }) else {
                return request.headers[.transferEncoding] != nil
            }
            return length >= threshold
        default:
            return false
        }
    }
}
