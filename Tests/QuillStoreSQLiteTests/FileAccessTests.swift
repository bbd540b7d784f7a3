import Foundation
import QuillCore
import QuillStore
import QuillStoreSQLite
import QuillTesting
import Testing

@Suite("SQLite: file access")
struct FileAccessTests {
    @Test("a store makes its own folder private but leaves a shared (sticky) folder such as /tmp as it is")
    func sharedFoldersStayShared() async throws {
        let temp = TemporaryDirectory("quill-file-access")
        let shared = temp.file("shared")
        let own = temp.file("own")
        for folder in [shared, own] {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o1777], ofItemAtPath: shared)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: own)
        _ = try SQLiteTrackingStore(path: shared + "/quill.db")
        _ = try SQLiteTrackingStore(path: own + "/quill.db")
        func mode(_ path: String) throws -> Int {
            try #require(
                (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue
            )
        }
        #expect(try mode(shared) == 0o1777, "a sticky folder is shared by design")
        #expect(try mode(own) == 0o700)
        #expect(try mode(shared + "/quill.db") == 0o600, "the database itself is private either way")
    }
}
