// The one file in Quill that imports the C library by name (`scripts/check-imports.sh` enforces it). Every
// other file reaches the POSIX calls that are the same everywhere through Foundation, which re-exports the C
// library on Linux and on Apple platforms, and goes through ``Platform`` for what differs between them.
package import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#else
#error("Quill supports Linux (glibc) and Apple platforms")
#endif

/// The C library calls whose names or types differ between Linux (glibc) and Apple platforms (Darwin).
///
/// Use these instead of `Glibc.…`/`Darwin.…` or `#if canImport(Glibc)` at a call site. The functions named
/// like a C function (`exit`, `open`, `close`, `read`, `send`, `kill`) exist so that code inside a type
/// with a member of the same name (an `ArgumentParser` command's `exit`, `FileIO.read`,
/// `PseudoTerminal.open`) can still call the C function without naming the platform's module.
package enum Platform {
    /// Ends the process with a status, running `atexit` handlers (C `exit`).
    package static func exit(_ status: Int32) -> Never {
        #if canImport(Glibc)
        Glibc.exit(status)
        #else
        Darwin.exit(status)
        #endif
    }

    /// Opens a file (C `open`); a descriptor, or -1 with `errno` set.
    package static func open(_ path: String, _ flags: Int32, _ mode: mode_t = 0) -> Int32 {
        #if canImport(Glibc)
        Glibc.open(path, flags, mode)
        #else
        Darwin.open(path, flags, mode)
        #endif
    }

    /// Raises the soft limit on open files to the hard limit (`setrlimit(RLIMIT_NOFILE)`) and returns the
    /// soft limit now in force, or `nil` when it cannot be read.
    package static func raiseOpenFileLimit() -> Int? {
        #if canImport(Glibc)
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        #else
        let resource = RLIMIT_NOFILE
        #endif
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return nil }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(resource, &raised) == 0 { limit = raised }
        }
        return limit.rlim_cur >= rlim_t(Int.max) ? Int.max : Int(limit.rlim_cur)
    }

    /// Closes a descriptor (C `close`); 0, or -1 with `errno` set.
    @discardableResult
    package static func close(_ descriptor: Int32) -> Int32 {
        #if canImport(Glibc)
        Glibc.close(descriptor)
        #else
        Darwin.close(descriptor)
        #endif
    }

    /// Reads up to `count` bytes (C `read`); the number read, 0 at the end, or -1 with `errno` set.
    package static func read(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
        #if canImport(Glibc)
        Glibc.read(descriptor, buffer, count)
        #else
        Darwin.read(descriptor, buffer, count)
        #endif
    }

    /// Sends bytes on a socket without raising SIGPIPE when the peer is gone (C `send` with `MSG_NOSIGNAL` on
    /// Linux; Darwin has no such flag and reports `EPIPE` on sockets with `SO_NOSIGPIPE`).
    package static func send(_ socket: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
        #if canImport(Glibc)
        Glibc.send(socket, buffer, count, Int32(MSG_NOSIGNAL))
        #else
        Darwin.send(socket, buffer, count, 0)
        #endif
    }

    /// Sends a signal to a process or, with a negative pid, a process group (C `kill`).
    @discardableResult
    package static func kill(_ process: pid_t, _ signal: Int32) -> Int32 {
        #if canImport(Glibc)
        Glibc.kill(process, signal)
        #else
        Darwin.kill(process, signal)
        #endif
    }

    /// The flag that makes `socket` create a descriptor closed on `exec` (`SOCK_CLOEXEC` on Linux); 0 where
    /// `socket` has no such flag (Darwin).
    package static var socketCloseOnExecFlag: Int32 {
        #if canImport(Glibc)
        Int32(SOCK_CLOEXEC.rawValue)
        #else
        0
        #endif
    }

    /// The socket type of a TCP socket, for `socket` and `addrinfo.ai_socktype` (glibc imports
    /// `SOCK_STREAM` as an enum case, Darwin as an `Int32`).
    package static var streamSocketType: Int32 {
        #if canImport(Glibc)
        Int32(SOCK_STREAM.rawValue)
        #else
        SOCK_STREAM
        #endif
    }

    /// The last modification time of a file from its `stat` (`st_mtim` on Linux, `st_mtimespec` on Darwin).
    package static func modificationTime(of info: stat) -> timespec {
        #if canImport(Glibc)
        info.st_mtim
        #else
        info.st_mtimespec
        #endif
    }

    /// The last modification time of a file from its `stat`, as a date (to the nanosecond the system keeps).
    package static func modificationDate(of info: stat) -> Date {
        let time = modificationTime(of: info)
        return Date(timeIntervalSince1970: Double(time.tv_sec) + Double(time.tv_nsec) / 1e9)
    }

    /// Whether a signal action is "ignore" (`SIG_IGN`); the handler field is named differently on each system.
    package static func isIgnored(_ action: sigaction) -> Bool {
        #if canImport(Glibc)
        let handler = action.__sigaction_handler.sa_handler
        #else
        let handler = action.__sigaction_u.__sa_handler
        #endif
        return unsafeBitCast(handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self)
    }

    /// The `dlsym` handle that searches every loaded image (`RTLD_DEFAULT`: 0 on Linux, -2 on Darwin, where
    /// the C macro does not reach Swift).
    package static var defaultSymbolHandle: UnsafeMutableRawPointer? {
        #if canImport(Glibc)
        UnsafeMutableRawPointer(bitPattern: 0)
        #else
        UnsafeMutableRawPointer(bitPattern: -2)
        #endif
    }

    /// A zeroed `posix_spawn_file_actions_t` for `posix_spawn_file_actions_init` (a struct on Linux, an
    /// optional pointer on Darwin).
    package static func spawnFileActions() -> posix_spawn_file_actions_t {
        #if canImport(Glibc)
        posix_spawn_file_actions_t()
        #else
        nil
        #endif
    }

    /// A zeroed `posix_spawnattr_t` for `posix_spawnattr_init` (a struct on Linux, an optional pointer on
    /// Darwin).
    package static func spawnAttributes() -> posix_spawnattr_t {
        #if canImport(Glibc)
        posix_spawnattr_t()
        #else
        nil
        #endif
    }
}
