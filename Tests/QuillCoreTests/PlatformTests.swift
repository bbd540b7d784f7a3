import Foundation
import QuillCore
import QuillTesting
import Testing

@Suite("Platform (the C-library shim)")
struct PlatformTests {
    @Test("modificationTime/modificationDate read the file's mtime to the nanosecond")
    func modificationTime() throws {
        let temp = TemporaryDirectory("quill-platform")
        let path = try temp.write("f.txt", "x")
        let wanted = timespec(tv_sec: 1_700_000_000, tv_nsec: 123_456_789)
        var times = [wanted, wanted]
        #expect(utimensat(AT_FDCWD, path, &times, 0) == 0)
        var info = stat()
        #expect(stat(path, &info) == 0)
        let time = Platform.modificationTime(of: info)
        #expect(time.tv_sec == 1_700_000_000)
        #expect(time.tv_nsec == 123_456_789)
        let date = Platform.modificationDate(of: info)
        #expect(abs(date.timeIntervalSince1970 - 1_700_000_000.123_456_789) < 1e-6)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        let foundation = try #require(attributes[.modificationDate] as? Date)
        #expect(abs(foundation.timeIntervalSince(date)) < 1e-3)
    }

    @Test("open, read and close move bytes; open reports a missing file with -1 and ENOENT")
    func openReadClose() throws {
        let temp = TemporaryDirectory("quill-platform")
        let path = try temp.write("f.txt", "hello")
        let fd = Platform.open(path, O_RDONLY | O_CLOEXEC)
        #expect(fd >= 0)
        var buffer = [UInt8](repeating: 0, count: 16)
        let count = buffer.withUnsafeMutableBytes { Platform.read(fd, $0.baseAddress, $0.count) }
        #expect(count == 5)
        #expect(Array(buffer.prefix(5)) == Array("hello".utf8))
        #expect(Platform.close(fd) == 0)

        let created = Platform.open(temp.file("new.txt"), O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        #expect(created >= 0)
        var info = stat()
        #expect(fstat(created, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        Platform.close(created)

        let missing = Platform.open(temp.file("missing"), O_RDONLY)
        let code = errno
        #expect(missing == -1)
        #expect(code == ENOENT)
    }

    @Test("send to a socket whose peer is gone fails with EPIPE instead of killing the process with SIGPIPE")
    func sendWithoutSIGPIPE() {
        var pair: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Platform.streamSocketType, 0, &pair) == 0)
        defer { Platform.close(pair[0]) }
        Platform.close(pair[1])
        let bytes: [UInt8] = [1, 2, 3]
        let sent = bytes.withUnsafeBytes { Platform.send(pair[0], $0.baseAddress, $0.count) }
        let code = errno
        #expect(sent == -1)
        #expect(code == EPIPE)
    }

    @Test("a TCP socket opens with streamSocketType; kill with signal 0 finds this process")
    func socketAndKill() {
        let fd = socket(AF_INET, Platform.streamSocketType, 0)
        #expect(fd >= 0)
        Platform.close(fd)
        #expect(Platform.kill(getpid(), 0) == 0)
    }

    @Test("isIgnored tells SIG_IGN from the default action")
    func ignoredSignal() {
        // SIGURG is only raised by out-of-band socket data, which nothing in the tests sends.
        var current = sigaction()
        #expect(sigaction(SIGURG, nil, &current) == 0)
        #expect(!Platform.isIgnored(current))
        let previous = signal(SIGURG, SIG_IGN)
        defer { signal(SIGURG, previous) }
        var ignored = sigaction()
        #expect(sigaction(SIGURG, nil, &ignored) == 0)
        #expect(Platform.isIgnored(ignored))
    }

    @Test("the default dlsym handle finds C library functions")
    func defaultSymbolHandle() {
        #expect(dlsym(Platform.defaultSymbolHandle, "getpid") != nil)
        #expect(dlsym(Platform.defaultSymbolHandle, "quill_no_such_symbol") == nil)
    }

    @Test("spawn file actions and attributes from Platform initialize and spawn a child")
    func spawnTypes() {
        var actions = Platform.spawnFileActions()
        #expect(posix_spawn_file_actions_init(&actions) == 0)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attributes = Platform.spawnAttributes()
        #expect(posix_spawnattr_init(&attributes) == 0)
        defer { posix_spawnattr_destroy(&attributes) }
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("true"), nil]
        defer { for pointer in argv { free(pointer) } }
        let envp: [UnsafeMutablePointer<CChar>?] = [nil]
        #expect(posix_spawnp(&pid, "true", &actions, &attributes, argv, envp) == 0)
        var status: Int32 = 0
        #expect(waitpid(pid, &status, 0) == pid)
        #expect(status == 0)
    }
}
