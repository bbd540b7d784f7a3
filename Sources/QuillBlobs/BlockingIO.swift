import Foundation

/// Runs blocking file calls on Dispatch threads, never on the cooperative pool, where a slow disk would stall
/// every task of the process.
enum BlockingIO {
    private static let queue = DispatchQueue(label: "quill.blobs.io", qos: .userInitiated, attributes: .concurrent)

    /// Runs `work` on a Dispatch thread and returns its result.
    static func run<Value: Sendable>(_ work: @escaping @Sendable () throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try work() }) }
        }
    }
}
