import Foundation
import QuillCore

extension SQLiteTrackingStore {
    /// Makes a database private to its owner before SQLite opens it: the folder holding it `0700`, the file
    /// `0600` (created with that mode when missing), and an existing `-wal`, `-shm` or `-journal` file
    /// `0600`. SQLite gives the files it creates later the database file's mode.
    ///
    /// Existing files and folders are changed too, so a data folder made by an older version is closed as
    /// well. A folder shared by design is left as it is: the root, the home folder, and any folder with the
    /// sticky bit (`/tmp`), where `--store sqlite:///tmp/x.db` must not make `/tmp` private.
    static func restrictFileAccess(databasePath path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty, isOwnFolder(folder) { chmod(folder, 0o700) }
        if !FileManager.default.fileExists(atPath: path) {
            let fd = Platform.open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw QuillError.posix("creating", path: path, errno: errno) }
            _ = Platform.close(fd)
        }
        for suffix in ["", "-wal", "-shm", "-journal"] where FileManager.default.fileExists(atPath: path + suffix) {
            chmod(path + suffix, 0o600)
        }
    }

    /// Whether a database's folder may be made private: not `/`, not the home folder, not sticky.
    static func isOwnFolder(_ folder: String) -> Bool {
        let resolved = (folder as NSString).standardizingPath
        if resolved == "/" || resolved == (NSHomeDirectory() as NSString).standardizingPath { return false }
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: resolved),
            let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue
        else { return false }
        return mode & 0o1000 == 0
    }
}
