import Foundation

/// A pthread mutex with two condition variables: one the writer waits on for work, one producers wait on
/// for room or progress.
///
/// `Synchronization.Mutex` has no condition wait, and the log call must not hop to an actor, so the run
/// writer uses this directly.
// @unchecked Sendable: the pthread objects are allocated once in init, freed once in deinit, and only
// touched through pthread calls, which are thread-safe by contract.
final class ConditionLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let work: UnsafeMutablePointer<pthread_cond_t>
    private let progress: UnsafeMutablePointer<pthread_cond_t>

    init() {
        mutex = .allocate(capacity: 1)
        work = .allocate(capacity: 1)
        progress = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(work, nil)
        pthread_cond_init(progress, nil)
    }

    deinit {
        pthread_cond_destroy(progress)
        pthread_cond_destroy(work)
        pthread_mutex_destroy(mutex)
        progress.deallocate()
        work.deallocate()
        mutex.deallocate()
    }

    @inline(__always)
    func lock() { pthread_mutex_lock(mutex) }

    @inline(__always)
    func unlock() { pthread_mutex_unlock(mutex) }

    /// Wakes the writer.
    @inline(__always)
    func signalWork() { pthread_cond_signal(work) }

    /// Wakes every producer waiting for room or for a flush to complete.
    func broadcastProgress() { pthread_cond_broadcast(progress) }

    /// Waits (lock held) until the writer is signalled or the deadline, in microseconds since the epoch, passes.
    func waitForWork(untilMicroseconds deadline: Int64) {
        var spec = timespec()
        spec.tv_sec = Int(deadline / 1_000_000)
        spec.tv_nsec = Int(deadline % 1_000_000) * 1000
        pthread_cond_timedwait(work, mutex, &spec)
    }

    /// Waits (lock held) until the writer reports progress.
    func waitForProgress() {
        pthread_cond_wait(progress, mutex)
    }
}
