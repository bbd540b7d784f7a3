#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's limit on open files, which bounds how many connections the server can hold.
package enum FileDescriptorLimit {
    /// Raises the soft limit on open files to the hard limit and returns the soft limit now in force.
    ///
    /// Each connection holds a file descriptor, and so do the database and artifact files; the soft limit is
    /// often 1,024 while the hard limit is far higher.
    @discardableResult
    package static func raiseToHardLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Self.resource, &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Self.resource, &raised) == 0 { limit = raised }
        }
        return limit.rlim_cur >= rlim_t(Int.max) ? Int.max : Int(limit.rlim_cur)
    }

    /// The default connection limit for a soft limit on open files: half of what remains after 128 descriptors
    /// kept for the database, artifact files and logs (an upload holds a connection and a file), at least 32
    /// and at most 4,096.
    package static func defaultConnectionLimit(openFiles: Int) -> Int {
        min(4096, max(32, (min(openFiles, 1 << 20) - 128) / 2))
    }

    #if canImport(Glibc)
    private static let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    private static let resource = RLIMIT_NOFILE
    #endif
}
