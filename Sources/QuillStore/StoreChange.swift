/// A kind of change one server process announces to the others sharing its store (replicas on one PostgreSQL
/// database), so they drop what they cached or wake what waits.
public enum StoreChange: String, Sendable, Hashable, CaseIterable {
    /// Users, organizations, memberships, API keys or dashboard sessions changed: drop cached credentials and
    /// memberships.
    case accounts
    /// A job was queued, cancelled or handed back: wake waiting workers.
    case jobs
    /// Changes may have been missed (a lost connection): refresh everything.
    case all
}

extension StoreBackend {
    /// No other process shares an embedded store: the stream finishes at once.
    public func externalChanges() -> AsyncStream<StoreChange> {
        AsyncStream { $0.finish() }
    }
}

/// Whether a store's database can be reached, for `/healthz`.
public struct StoreHealth: Sendable, Hashable {
    /// Whether the database answers.
    public var reachable: Bool
    /// Why it does not, in one line that says what to do.
    public var message: String?

    /// Creates a health report.
    public init(reachable: Bool, message: String? = nil) {
        self.reachable = reachable
        self.message = message
    }

    /// The database answers.
    public static let ok = StoreHealth(reachable: true)
}

extension StoreBackend {
    /// An embedded store is reachable for as long as its service runs.
    public func health() async -> StoreHealth { .ok }
}
