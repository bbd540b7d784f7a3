import Logging
import QuillStore
import ServiceLifecycle

/// `quill serve --gc-interval-minutes`: runs `quill artifacts gc` (``QuillStore/BlobStore/collectGarbage(records:grace:dryRun:now:)``)
/// in the server's `ServiceGroup` every interval, until the graceful shutdown.
///
/// A failed sweep is logged and tried again at the next interval; it never stops the server.
struct BlobCollectionService: Service {
    let stores: OpenedStores
    let interval: Duration
    /// Blobs changed more recently are kept, as `quill artifacts gc --grace-minutes` (default an hour).
    var grace: Duration = .seconds(3600)
    let logger: Logger

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { [interval] in try await Task.sleep(for: interval) }
            } catch {
                return  // cancelled or shutting down
            }
            do {
                let report = try await stores.blobs.collectGarbage(records: stores.backend, grace: grace, dryRun: false)
                logger.info(
                    "artifact gc removed \(report.removed.count) unreferenced blob(s), \(report.bytes) bytes; kept \(report.kept)"
                )
            } catch {
                logger.warning("artifact gc failed: \(error); trying again in \(interval)")
            }
        }
    }
}
