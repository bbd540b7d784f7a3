import ArgumentParser
import Foundation
import QuillCore
import QuillServer
import QuillStoreSQLite

/// `quill artifacts gc`: removes stored artifact bytes that no run references any more.
struct ArtifactsGCCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Remove stored artifact bytes no run references (on the server's machine).",
        discussion: """
            Deleting a run removes its artifact records, but the bytes stay, since other runs may share \
            them. This command removes the bytes no record names, keeping anything changed within the grace \
            period. Released bytes count against their namespace's quota until they are gone from disk; \
            this command stops counting those it removed. It opens the server's data folder directly (--data, \
            default $QUILL_HOME/server) and can run while `quill serve` runs.
            """
    )

    @Option(help: ArgumentHelp("The server's data folder (default: $QUILL_HOME/server).", valueName: "dir"))
    var data: String?

    @Option(help: ArgumentHelp("Keep bytes changed within this many minutes.", valueName: "minutes"))
    var graceMinutes: Double = 60

    @Flag(help: "Show what would be removed without removing it.")
    var dryRun = false

    @Flag(help: "Print JSON.")
    var json = false

    @OptionGroup var homeOptions: HomeOptions

    func validate() throws {
        guard graceMinutes >= 0 else { throw ValidationError("--grace-minutes must not be negative") }
    }

    func run() async throws {
        let folder = data ?? homeOptions.quillHome.path + "/server"
        guard FileManager.default.fileExists(atPath: folder + "/quill.db") else {
            throw QuillError(.notFound, "no server data in \(folder); pass the folder `quill serve --data` uses")
        }
        let store = try SQLiteTrackingStore(path: folder + "/quill.db")
        let report = try await BlobGarbageCollector.sweep(
            root: folder + "/artifacts",
            grace: graceMinutes * 60,
            dryRun: dryRun
        ) { try await store.referencedContentHashes() }
        if !dryRun {
            // Released bytes stop counting against a quota once they are gone, or a record holds them again.
            let root = folder + "/artifacts"
            for hash in try await store.releasedContent(namespace: nil) {
                let gone = !FileManager.default.fileExists(atPath: BlobStore.path(root: root, sha256: hash))
                if try await gone ? true : store.storesContent(sha256: hash) {
                    try await store.forgetReleasedContent(sha256: hash)
                }
            }
        }
        if json {
            return Console.printJSON([
                "removed": .array(report.removed.map(JSONValue.string)), "bytes": .int(Int(report.bytes)),
                "kept": .int(report.kept), "dry_run": .bool(dryRun),
            ])
        }
        let verb = dryRun ? "would remove" : "removed"
        Console.print(
            "\(verb) \(report.removed.count) unreferenced blob(s), \(Formatting.bytes(report.bytes)); kept \(report.kept)"
        )
    }
}
