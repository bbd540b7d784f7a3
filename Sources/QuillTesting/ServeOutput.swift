public import Foundation
import QuillCore

/// Reading what `quill serve` prints when it starts, for tests that run it as a real process.
public enum ServeOutput: Sendable {
    /// Reads the server's standard output until its `listening on http://HOST:PORT` line and returns the port.
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/process`` with everything the server printed when
    ///   it ends its output without that line (it failed to start).
    public static func listeningPort(from handle: FileHandle) throws -> Int {
        var collected = ""
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            collected += String(decoding: chunk, as: UTF8.self)
            if let match = collected.firstMatch(of: #/listening on http://[^ ]+:([0-9]+) /#), let port = Int(match.1) {
                return port
            }
        }
        throw QuillError(.process, "quill serve did not report a port: \(collected)")
    }
}
