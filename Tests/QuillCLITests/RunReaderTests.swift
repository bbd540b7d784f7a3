import Foundation
import QuillClient
import QuillCore
import QuillTesting
import Testing

@testable import QuillCLI

@Suite("The CLI's two RunReaders read a synced run alike")
struct RunReaderTests {
    @Test(
        "local run directories and the server give the same metadata, config, statistics, rows, log lines and artifacts"
    )
    func readersAgree() throws {
        let quill = QuillBinary()
        try quill.run("demo", "--steps", "12", "--delay-ms", "0", "--name", "trained")
        let chatty = try quill.run("run", "--name", "chatty", "--", "sh", "-c", "echo first line; echo second line")
        #expect(chatty.status == 0, "\(chatty.stderr)")
        let server = try CLIServer(data: quill.home.file("server"), home: quill.home.path)
        defer { server.stop() }
        let synced = try quill.run("sync", "--all", "--server", server.url)
        #expect(synced.status == 0, "\(synced.stderr)")

        let local = LocalRunReader(home: QuillHome(path: quill.home.path))
        let remote = RemoteRunReader(client: BlockingHTTPClient(baseURL: server.url, apiKey: nil))
        #expect(local.source == .local(runsFolder: quill.home.path + "/runs"))
        let localNames = try local.runs(RunListQuery()).runs.map(\.meta.name)
        let remoteNames = try remote.runs(RunListQuery()).runs.map(\.meta.name)
        #expect(Set(localNames) == ["trained", "chatty"])
        #expect(Set(remoteNames) == Set(localNames))

        for name in ["trained", "chatty"] {
            let mine = try local.run(name, project: nil)
            let theirs = try remote.run(name, project: nil)
            #expect(mine.meta.id == theirs.meta.id)
            #expect(mine.meta.project == theirs.meta.project)
            #expect(mine.meta.status == theirs.meta.status)
            #expect(mine.meta.params == theirs.meta.params)
            #expect(mine.meta.summary == theirs.meta.summary)
            #expect(mine.meta.tagValues == theirs.meta.tagValues)
            #expect(mine.config == theirs.config)
            #expect(mine.statistics == theirs.statistics)

            let localRows = try local.metricRows(of: mine, keys: [], maxPoints: nil)
            let remoteRows = try remote.metricRows(of: theirs, keys: [], maxPoints: nil)
            #expect(localRows.map(\.index) == remoteRows.map(\.index))
            #expect(localRows.map(\.step) == remoteRows.map(\.step))
            #expect(localRows.map(\.values) == remoteRows.map(\.values))

            let localLines = try local.logLines(of: mine, limit: 100).map(\.message)
            #expect(localLines == (try remote.logLines(of: theirs, limit: 100).map(\.message)))
            let localFiles = try local.artifacts(of: mine)
            let remoteFiles = try remote.artifacts(of: theirs)
            #expect(localFiles.map(\.path) == remoteFiles.map(\.path))
            #expect(localFiles.map(\.size) == remoteFiles.map(\.size))
        }
        let lines = try local.logLines(of: try local.run("chatty", project: nil), limit: 100).map(\.message)
        #expect(lines.contains("first line") && lines.contains("second line"), "\(lines)")
        #expect(try local.artifacts(of: try local.run("trained", project: nil)).map(\.path) == ["model-card.md"])
    }
}
