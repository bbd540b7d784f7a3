import QuillCore

/// The process's limit on open files, which bounds how many connections the server can hold.
package enum FileDescriptorLimit {
    /// Raises the soft limit on open files to the hard limit and returns the soft limit now in force.
    ///
    /// Each connection holds a file descriptor, and so do the database and artifact files; the soft limit is
    /// often 1,024 while the hard limit is far higher.
    @discardableResult
    package static func raiseToHardLimit() -> Int {
        Platform.raiseOpenFileLimit() ?? 1024
    }

    /// The default connection limit for a soft limit on open files: half of what remains after 128 descriptors
    /// kept for the database, artifact files and logs (an upload holds a connection and a file), at least 32
    /// and at most 4,096.
    package static func defaultConnectionLimit(openFiles: Int) -> Int {
        min(4096, max(32, (min(openFiles, 1 << 20) - 128) / 2))
    }
}
