import QuillJobs
import QuillStore
import ServiceLifecycle

/// Applies what other processes sharing the store announce (``StoreBackend/externalChanges()``): replicas of
/// `quill serve` on one PostgreSQL database.
///
/// - ``StoreChange/accounts``: the credential cache and the cached projects are dropped, so a key revoked or a
///   membership removed through another replica is refused here at the next request;
/// - ``StoreChange/jobs``: waiting workers long-polling this replica wake and claim;
/// - ``StoreChange/all`` (announcements may have been missed): both.
///
/// An embedded store announces nothing (its stream ends at once); the service then waits for shutdown.
struct StoreChangeListener: Service {
    let backend: any StoreBackend
    let authorization: Authorization
    let queue: JobQueue?

    func run() async throws {
        await cancelWhenGracefulShutdown {
            for await change in backend.externalChanges() {
                apply(change)
            }
        }
        // An embedded store's stream ends at once: stay up like the other services until shutdown.
        try? await gracefulShutdown()
    }

    /// Drops caches or wakes waiters for one change.
    func apply(_ change: StoreChange) {
        switch change {
        case .accounts:
            authorization.forgetCachedAccess()
        case .jobs:
            queue?.signal.changed()
            queue?.remoteArtifactSignal.changed()
        case .all:
            authorization.forgetCachedAccess()
            queue?.signal.changed()
            queue?.remoteArtifactSignal.changed()
        }
    }
}
