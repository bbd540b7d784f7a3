public import ServiceLifecycle

/// The record stores one backend opens for a ``StoreURL`` (runs, accounts, artifact records, dashboard
/// sessions, activity counts, the job queue and its devices), with its lifecycle.
///
/// A backend is a `Service`: `quill serve` runs it in its `ServiceGroup` beside the server, and one-shot
/// commands run it in a task group around their work. `run()` keeps what the backend needs alive (a
/// connection pool, a watch on its database file) and returns after a graceful shutdown or cancellation,
/// having closed the backend; it throws when the backend fails, which ends the group. SQLite
/// (`SQLiteTrackingStore`) is the first; a PostgreSQL backend conforms the same way, and the server sees only
/// these protocols.
public protocol StoreBackend: TrackingStore, AccountStore, ArtifactStore, SessionStore, ActivityStore, JobStore, Service
{
    /// The changes announced by every process sharing this store, for as long as the caller iterates (the
    /// stream ends when the iterating task is cancelled).
    ///
    /// A server drops its credential caches on ``StoreChange/accounts`` and wakes waiting workers on
    /// ``StoreChange/jobs``. An embedded store has no other process: its stream finishes at once. PostgreSQL
    /// delivers what replicas announce with `NOTIFY`.
    func externalChanges() -> AsyncStream<StoreChange>

    /// Whether the database can be reached now (`/healthz` answers 503 when it cannot). An embedded store always
    /// can; a PostgreSQL store reports what its last check of the server found (checked every second).
    func health() async -> StoreHealth
}
