import Foundation
import QuillCore
import QuillJobs
import QuillTesting
import Testing

@Suite("What a worker shares for remote artifacts")
struct SharedDirectoriesTests {
    /// A shared folder with a file, a folder and links, and a private folder beside it.
    struct Layout {
        let temp = TemporaryDirectory("quill-shared")
        /// The folder's path as the worker reports paths: absolute, without `//` (TMPDIR may end with `/`).
        var root: String { SharedDirectories.fold(temp.path) }
        var shared: String { file("shared") }
        var privateFolder: String { file("private") }

        func file(_ name: String) -> String { root + "/" + name }

        init() throws {
            let manager = FileManager.default
            try manager.createDirectory(atPath: file("shared/sub"), withIntermediateDirectories: true)
            try manager.createDirectory(atPath: file("private"), withIntermediateDirectories: true)
            try manager.createDirectory(atPath: file("runs/run-a"), withIntermediateDirectories: true)
            try manager.createDirectory(atPath: file("runs/run-b"), withIntermediateDirectories: true)
            for name in ["shared/sub/model.bin", "private/key.txt", "runs/run-a/out.txt", "runs/run-b/out.txt"] {
                try Data(name.utf8).write(to: URL(fileURLWithPath: file(name)))
            }
            try manager.createSymbolicLink(
                atPath: file("shared/out"),
                withDestinationPath: file("private/key.txt")
            )
            try manager.createSymbolicLink(atPath: file("shared/in"), withDestinationPath: "sub/model.bin")
            try manager.createSymbolicLink(
                atPath: file("shared/dirlink"),
                withDestinationPath: file("private")
            )
            try manager.createSymbolicLink(atPath: file("alias"), withDestinationPath: file("shared"))
        }
    }

    func refusal(_ body: () throws -> String) -> QuillError? {
        do {
            let path = try body()
            Issue.record("expected a refusal, got \(path)")
            return nil
        } catch let error as QuillError {
            return error
        } catch {
            Issue.record("unexpected \(error)")
            return nil
        }
    }

    @Test("a regular file inside a shared folder is sent, also through a symlink that stays inside")
    func inside() throws {
        let layout = try Layout()
        let shares = SharedDirectories([layout.shared])
        #expect(try shares.file(layout.shared + "/sub/model.bin", device: "d") == layout.shared + "/sub/model.bin")
        #expect(
            try shares.file(layout.shared + "/./sub/../sub/model.bin", device: "d") == layout.shared + "/sub/model.bin"
        )
        #expect(try shares.file(layout.shared + "/in", device: "d") == layout.shared + "/sub/model.bin")
        // A share named through a symlink is the folder it leads to.
        let viaAlias = SharedDirectories([layout.file("alias")])
        #expect(
            try viaAlias.file(layout.file("alias/sub/model.bin"), device: "d") == layout.shared + "/sub/model.bin"
        )
        #expect(try viaAlias.file(layout.shared + "/sub/model.bin", device: "d") == layout.shared + "/sub/model.bin")
    }

    @Test("outside, escaping by .. or a symlink, missing, a directory: refused with one line that says why")
    func refusals() throws {
        let layout = try Layout()
        let shares = SharedDirectories([layout.shared])
        let outside = refusal { try shares.file(layout.privateFolder + "/key.txt", device: "gpu-1") }
        #expect(outside?.code == .forbidden)
        #expect(
            outside?.message
                == "device gpu-1 does not share \(layout.privateFolder); start its worker with --share \(layout.privateFolder)"
        )
        let dotdot = refusal { try shares.file(layout.shared + "/../private/key.txt", device: "gpu-1") }
        #expect(dotdot?.code == .forbidden)
        let link = refusal { try shares.file(layout.shared + "/out", device: "gpu-1") }
        #expect(link?.code == .forbidden)
        #expect(link?.message.contains("(\(layout.shared)/out leads to \(layout.privateFolder)/key.txt)") == true)
        let folderLink = refusal { try shares.file(layout.shared + "/dirlink/key.txt", device: "gpu-1") }
        #expect(folderLink?.code == .forbidden)
        let missing = refusal { try shares.file(layout.shared + "/nope.bin", device: "gpu-1") }
        #expect(missing?.code == .notFound)
        #expect(missing?.message == "there is no file \(layout.shared)/nope.bin on device gpu-1")
        let folder = refusal { try shares.file(layout.shared + "/sub", device: "gpu-1") }
        #expect(folder?.code == .invalidArgument)
        #expect(folder?.message.hasPrefix("\(layout.shared)/sub on device gpu-1 is a directory") == true)
        let relative = refusal { try shares.file("sub/model.bin", device: "gpu-1") }
        #expect(relative?.code == .invalidArgument)
        // Nothing is shared by default; a share's name as a prefix of a sibling is not inside it.
        #expect(
            refusal { try SharedDirectories([]).file(layout.shared + "/sub/model.bin", device: "d") }?.code
                == .forbidden
        )
        try FileManager.default.createDirectory(atPath: layout.shared + "2", withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: layout.shared + "2/x"))
        #expect(refusal { try shares.file(layout.shared + "2/x", device: "d") }?.code == .forbidden)
        for message in [outside, dotdot, link, missing, folder].compactMap({ $0?.message }) {
            #expect(!message.contains("\n"))
        }
    }

    @Test("of the worker's runs folder a run sees only its own run directory")
    func ownRunDirectory() throws {
        let layout = try Layout()
        let runs = layout.file("runs")
        let shares = SharedDirectories([], runsDirectory: runs)
        #expect(try shares.file(runs + "/run-a/out.txt", device: "d", run: "run-a") == runs + "/run-a/out.txt")
        #expect(refusal { try shares.file(runs + "/run-b/out.txt", device: "d", run: "run-a") }?.code == .forbidden)
        #expect(
            refusal { try shares.file(runs + "/run-a/../run-b/out.txt", device: "d", run: "run-a") }?.code == .forbidden
        )
        #expect(refusal { try shares.file(runs + "/run-a/out.txt", device: "d") }?.code == .forbidden)
    }

    @Test(
        "folding . and .. as written",
        arguments: [
            ("/a/b/../c", "/a/c"), ("/a/./b//c/", "/a/b/c"), ("/../a", "/a"), ("/", "/"), ("/a/..", "/"),
        ]
    )
    func fold(_ example: (String, String)) {
        #expect(SharedDirectories.fold(example.0) == example.1)
    }
}
