import ArgumentParser
import Foundation
import QuillCore
import QuillStore

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
            default $QUILL_HOME/server) and its store (--store, default quill.db in the data folder), and can run \
            while `quill serve` runs (which can also do this itself: `quill serve --gc-interval-minutes`). On \
            PostgreSQL it holds a database lock for the sweep, so replicas sharing the folder record no upload \
            meanwhile.
            """
    )

    @Option(help: ArgumentHelp("The server's data folder (default: $QUILL_HOME/server).", valueName: "dir"))
    var data: String?

    @Option(
        help: ArgumentHelp(
            "The folder of artifact bytes, as given to quill serve --artifacts (default: <data>/artifacts).",
            valueName: "dir"
        )
    )
    var artifacts: String?

    @Option(help: ArgumentHelp("Keep bytes changed within this many minutes.", valueName: "minutes"))
    var graceMinutes: Double = 60

    @Flag(help: "Show what would be removed without removing it.")
    var dryRun = false

    @Flag(help: "Print JSON.")
    var json = false

    @OptionGroup var storeOptions: StoreOptions

    @OptionGroup var homeOptions: HomeOptions

    func validate() throws {
        guard graceMinutes >= 0, graceMinutes <= 5_256_000 else {
            throw ValidationError("--grace-minutes must be between 0 and 5256000 (ten years)")
        }
    }

    func run() async throws {
        let folder = data ?? homeOptions.quillHome.path + "/server"
        let url = try StoreFactory.url(storeOptions.store, data: folder)
        let stores = try StoreFactory.open(
            url,
            data: folder,
            artifacts: artifacts,
            blobs: .sharing,
            existence: .mustExist
        )
        let report = try await stores.whileRunning {
            try await stores.blobs.collectGarbage(
                records: stores.backend,
                grace: .seconds(graceMinutes * 60),
                dryRun: dryRun
            )
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
