import QuillStore
import Synchronization

/// Hands each announced ``StoreChange`` to every current subscriber.
final class ChangeFanOut: Sendable {
    private let subscribers = Mutex<[Int: AsyncStream<StoreChange>.Continuation]>([:])
    private let nextID = Atomic<Int>(0)

    /// A stream of the changes yielded from now on; it ends when its iterating task is cancelled.
    func subscribe() -> AsyncStream<StoreChange> {
        let id = nextID.add(1, ordering: .relaxed).newValue
        let (stream, continuation) = AsyncStream.makeStream(of: StoreChange.self, bufferingPolicy: .bufferingNewest(64))
        continuation.onTermination = { [weak self] _ in
            _ = self?.subscribers.withLock { $0.removeValue(forKey: id) }
        }
        subscribers.withLock { $0[id] = continuation }
        return stream
    }

    /// Gives `change` to every subscriber.
    func yield(_ change: StoreChange) {
        let current = subscribers.withLock { Array($0.values) }
        for continuation in current { continuation.yield(change) }
    }
}
