import Foundation
import QuillCore
import QuillStore
import ServiceLifecycle

/// The SQLite backend of ``StoreURL/sqlite(path:)``: its records and its lifecycle.
extension SQLiteTrackingStore: StoreBackend {
    /// Runs the store as a service of `quill serve`: watches that its database file is still the one it opened,
    /// and closes the database after a graceful shutdown.
    ///
    /// A database file that is deleted or replaced under a running server would swallow every later write
    /// (they would go to a file no name points to), so the service fails instead, and the server exits with
    /// an error for its supervisor to restart it.
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/io`` when the database file was removed or replaced.
    package func run() async throws {
        let opened = Self.fileIdentity(path)
        do {
            try await cancelWhenGracefulShutdown {
                while true {
                    try await Task.sleep(for: .seconds(1))
                    if Self.fileIdentity(self.path) != opened {
                        throw QuillError(
                            .io,
                            "the database file '\(self.path)' was removed or replaced while the server ran, so later writes would be lost; restore it and restart `quill serve`"
                        )
                    }
                }
            }
        } catch is CancellationError {
            // A graceful shutdown (or the group's cancellation): close the database below.
        }
        try await close()
    }

    /// The file system's identity of a file (device and inode), or `nil` when it does not exist.
    private static func fileIdentity(_ path: String) -> [Int]? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let device = (attributes[.systemNumber] as? NSNumber)?.intValue,
            let inode = (attributes[.systemFileNumber] as? NSNumber)?.intValue
        else { return nil }
        return [device, inode]
    }
}
