import Foundation
import QuillCore
import QuillSteps
import QuillTesting
import Testing

@Suite("StepDirectory: the step folder layout")
struct StepDirectoryTests {
    @Test("every path of a result folder is the one Docs/Steps.md documents")
    func layout() {
        let result = StepDirectory(root: "/s", namespace: "App.Train", hash: "3fa2", versionControlled: false)
        #expect(result.path == "/s/data/App.Train/3fa2")
        #expect(result.quill == "/s/data/App.Train/3fa2/.quill")
        #expect(result.metadata == "/s/data/App.Train/3fa2/.quill/metadata.json")
        #expect(result.state == "/s/data/App.Train/3fa2/.quill/state.json")
        #expect(result.log == "/s/data/App.Train/3fa2/.quill/log.txt")
        #expect(result.success == "/s/data/App.Train/3fa2/.quill/SUCCESS")
        #expect(result.lock == "/s/data/App.Train/3fa2/.quill/lock")
        #expect(result.guardFile == "/s/data/App.Train/3fa2/.quill/guard")
        #expect(result.parent == "/s/data/App.Train")
        #expect(result.removalFolder(hash: "3fa2", id: "x1") == "/s/data/App.Train/.removing-3fa2-x1")
        let committed = StepDirectory(root: "/s", namespace: ".a b/é", hash: "00", versionControlled: true)
        #expect(committed.path == "/s/git/%2Ea%20b%2F%C3%A9/00")
        #expect(StepDirectory.rawFolder(root: "/s") == "/s/raw")
        #expect(StepDirectory.folderName("") == "%00")
        #expect(StepDirectory.isResultFolderName("3fa2") && !StepDirectory.isResultFolderName(".removing-3fa2-x1"))
    }

    @Test("the public paths of a step and its options are the StepDirectory ones")
    func publicPathsAgree() throws {
        let temp = TemporaryDirectory("quill-steps")
        let options = StepOptions(root: temp.path)
        let step = Committed(name: "paths")
        let folder = StepDirectory(
            root: temp.path,
            namespace: Committed.namespace,
            hash: try step.hash,
            versionControlled: true
        )
        #expect(try step.directory(options: options) == folder.path)
        #expect(options.rawDirectory == StepDirectory.rawFolder(root: temp.path))
        #expect(StepOptions.folderName("a/b") == StepDirectory.folderName("a/b"))
    }
}
