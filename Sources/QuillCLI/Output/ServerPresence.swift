import Foundation
import QuillCore
import Synchronization

/// The `server.json` file a running `quill serve` keeps in its data folder (pid, address, database), so
/// commands that open that database directly (`quill users create`) can tell whether a live server uses it.
///
/// The file is written once the server listens and removed when the process exits; a file left by a killed
/// server names a pid that is gone, and readers treat it as absent.
enum ServerPresence {
    /// The file's name in the data folder.
    static let fileName = "server.json"

    /// A server that announced itself in a data folder.
    struct Announcement: Equatable {
        var pid: Int32
        var url: String
        var database: String
    }

    /// The path of the file this process wrote, removed at exit.
    private static let written = Mutex<String?>(nil)

    /// Records that this process serves `database` (with the data folder `folder`) on `host:port`; the file
    /// is removed when the process exits. Failing to write it only costs the warning it exists for, so errors
    /// are ignored.
    static func announce(folder: String, database: String, host: String, port: Int) {
        let path = folder + "/" + fileName
        let shownHost = host.contains(":") ? "[\(host)]" : host
        let json: JSONValue = [
            "pid": .int(Int(getpid())), "url": .string("http://\(shownHost):\(port)"),
            "database": .string(database),
        ]
        // Readable by the server's user only, as the rest of the data folder.
        do {
            try FileIO.replaceAtomically(path, with: JSONWriter.pretty(json), permissions: 0o600)
        } catch {
            return
        }
        let first = written.withLock { current in
            defer { current = path }
            return current == nil
        }
        if first { atexit { ServerPresence.remove() } }
    }

    /// Removes the file this process wrote, if it still names this process.
    static func remove() {
        guard let path = written.withLock({ $0 }) else { return }
        if read(path)?.pid == getpid() { unlink(path) }
    }

    /// The live server that announced itself in `folder`, or `nil` when none did or its process is gone.
    static func live(in folder: String) -> Announcement? {
        guard let found = read(folder + "/" + fileName) else { return nil }
        guard kill(found.pid, 0) == 0 || errno == EPERM else { return nil }
        return found
    }

    private static func read(_ path: String) -> Announcement? {
        guard let data = FileManager.default.contents(atPath: path), let json = try? JSONParser.parse(Array(data)),
            let pid = json["pid"]?.intValue, let pid32 = Int32(exactly: pid), pid32 > 0,
            let url = json["url"]?.stringValue, let database = json["database"]?.stringValue
        else { return nil }
        return Announcement(pid: pid32, url: url, database: database)
    }
}
