import QuillCore

/// A gate that store methods wait at until the service has brought the schema up to date.
actor Readiness {
    private enum State {
        case waiting([CheckedContinuation<Void, any Error>])
        case open
        case failed(any Error)
    }

    private var state = State.waiting([])

    /// Returns once the gate is open; throws the reason it failed.
    func wait() async throws {
        switch state {
        case .open: return
        case .failed(let error): throw error
        case .waiting(var waiters):
            try await withCheckedThrowingContinuation { continuation in
                waiters.append(continuation)
                state = .waiting(waiters)
            }
        }
    }

    /// Opens the gate: every waiter and every later caller goes on.
    func open() {
        if case .waiting(let waiters) = state {
            state = .open
            for waiter in waiters { waiter.resume() }
        }
    }

    /// Fails the gate: every waiter and every later caller gets `error`.
    func fail(_ error: any Error) {
        if case .waiting(let waiters) = state {
            for waiter in waiters { waiter.resume(throwing: error) }
        }
        state = .failed(error)
    }
}
