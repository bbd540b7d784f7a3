import Synchronization

/// Bytes that uploads in flight have claimed from their namespace's quota, so two concurrent uploads
/// cannot both fit in the same remaining space.
///
/// An upload that declares its length (`Content-Length`, as the SDK's uploads do) reserves it before the
/// first byte is read and releases it when it ends, stored or not. An upload of unknown length is checked
/// against what is left when it starts, less the reservations of the others.
final class QuotaReservations: Sendable {
    private let reserved = Mutex([String: Int64]())

    /// The bytes uploads in flight have reserved in a namespace.
    func inFlight(_ namespace: String) -> Int64 {
        reserved.withLock { $0[namespace] ?? 0 }
    }

    /// Reserves `bytes` when they fit in `available` beyond what is already reserved; returns whether it did.
    func reserve(_ bytes: Int64, in namespace: String, available: Int64) -> Bool {
        reserved.withLock { state in
            let current = state[namespace] ?? 0
            guard current + bytes <= available else { return false }
            state[namespace] = current + bytes
            return true
        }
    }

    /// Gives back a reservation.
    func release(_ bytes: Int64, in namespace: String) {
        reserved.withLock { state in
            let left = (state[namespace] ?? 0) - bytes
            state[namespace] = left > 0 ? left : nil
        }
    }
}
