import Synchronization

/// Bytes that uploads in flight have claimed from their namespace's quota, so two concurrent uploads
/// cannot both fit in the same remaining space.
///
/// An upload that declares its length (`Content-Length`, as the SDK's uploads do) reserves it before the
/// first byte is read; one of unknown length reserves each chunk as it arrives. Either releases its
/// reservation when it ends, stored or not.
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

    /// A reservation that grows as an upload claims bytes and is given back once.
    final class Ticket: Sendable {
        private let reservations: QuotaReservations
        private let namespace: String
        private let available: Int64
        private let claimed = Mutex<Int64>(0)

        init(_ reservations: QuotaReservations, namespace: String, available: Int64) {
            self.reservations = reservations
            self.namespace = namespace
            self.available = available
        }

        /// Reserves `bytes` more; `false` when they do not fit.
        func claim(_ bytes: Int64) -> Bool {
            guard reservations.reserve(bytes, in: namespace, available: available) else { return false }
            claimed.withLock { $0 += bytes }
            return true
        }

        /// Gives back everything claimed.
        func release() {
            let bytes = claimed.withLock { total in
                defer { total = 0 }
                return total
            }
            if bytes > 0 { reservations.release(bytes, in: namespace) }
        }
    }

    /// A ticket for one upload into a namespace with `available` bytes left.
    func ticket(namespace: String, available: Int64) -> Ticket {
        Ticket(self, namespace: namespace, available: available)
    }
}
