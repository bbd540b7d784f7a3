import Foundation
import QuillCore
import QuillStore
import QuillStoreSQLite
import QuillTesting
import Testing

@Suite("SQLite remote artifact requests")
struct RemoteArtifactStoreTests {
    @Test("conforms to the RemoteArtifactStore contract", arguments: RemoteArtifactStoreConformance.allCases)
    func conformance(check: RemoteArtifactStoreConformance) async throws {
        let temp = TemporaryDirectory("quill-remote-artifacts")
        let store = try SQLiteTrackingStore(path: temp.file("quill.db"))
        let project = try await store.project(namespace: "ada", displayName: "remote")
        let fixture = RemoteArtifactStoreFixture(
            jobs: store,
            makeRun: { try await store.createRun(NewRun(projectID: project.id)).id },
            deleteRun: { try await store.deleteRun($0) }
        )
        try await check.check(fixture)
    }

    @Test("a database made before v14 gets the table, and its runs can ask for remote files")
    func migratesFromV13() async throws {
        let temp = TemporaryDirectory("quill-remote-artifacts")
        let path = temp.file("quill.db")
        try SQLiteTrackingStore.createDatabase(path: path, migratedUpTo: "v13: jobs")
        let store = try SQLiteTrackingStore(path: path)
        let project = try await store.project(namespace: "ada", displayName: "remote")
        let run = try await store.createRun(NewRun(projectID: project.id)).id
        let request = try await store.requestRemoteArtifact(
            NewRemoteArtifact(run: run, device: "box", sourcePath: "/x", artifactPath: "remote_box__x"),
            now: Date()
        )
        #expect(try await store.remoteArtifacts(run) == [request])
    }
}
