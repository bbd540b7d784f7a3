import ArgumentParser
import Foundation
import QuillClient
import QuillCore

/// `quill artifacts get RUN PATH [-o FILE]`: downloads one artifact file.
struct ArtifactsGetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Download an artifact file from the server (or copy it from the local run directory).",
        discussion: """
            The file is written to -o FILE, or to its own file name in the current folder; -o - prints it. \
            An existing file is replaced only with --force.
            """
    )

    @OptionGroup var homeOptions: HomeOptions

    @Argument(help: "The run: id, unique id prefix, or name.")
    var run: String

    @Argument(help: "The artifact's path, as `quill artifacts RUN` lists it.")
    var path: String

    @Option(
        name: .shortAndLong,
        help: ArgumentHelp("Where to write the file ('-' for standard output).", valueName: "file")
    )
    var output: String?

    @Option(name: .shortAndLong, help: "The project, when several projects have a run of this name.")
    var project: String?

    @Flag(help: "Replace the output file when it exists.")
    var force = false

    @OptionGroup var serverOptions: ServerOptions

    /// Refuses a destination whose folder is missing, that is a folder, or that exists without --force,
    /// before anything is downloaded.
    func checkDestination(_ destination: String, name: String) throws {
        let url = URL(fileURLWithPath: destination)
        let folder = url.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw QuillError(
                .notFound,
                "the folder '\(folder)' for '\(destination)' does not exist; create it (mkdir -p) or pass another -o FILE"
            )
        }
        guard FileManager.default.fileExists(atPath: destination, isDirectory: &isDirectory) else { return }
        if isDirectory.boolValue {
            throw QuillError(
                .invalidArgument,
                "'\(destination)' is a folder; pass a file name, e.g. -o \(destination)/\(name)"
            )
        }
        guard force else {
            throw QuillError(
                .conflict,
                "'\(destination)' already exists; pass --force to replace it, or -o FILE to write elsewhere"
            )
        }
    }

    func run() async throws {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        let destination = output ?? name
        let toStandardOutput = destination == "-"
        let target = toStandardOutput ? NSTemporaryDirectory() + "/quill-get-\(UUID().uuidString)" : destination
        defer { if toStandardOutput { try? FileManager.default.removeItem(atPath: target) } }
        if !toStandardOutput { try checkDestination(destination, name: name) }
        let reader = serverOptions.reader(homeOptions)
        let found = try reader.run(run, project: project, metadataOnly: true)
        do {
            try reader.fetchArtifact(of: found, path: path, to: target)
        } catch let error as QuillError where error.code == .notFound {
            throw QuillError(.notFound, "\(error.message); list the run's artifacts with `quill artifacts \(run)`")
        }
        if toStandardOutput {
            guard let handle = FileHandle(forReadingAtPath: target) else {
                throw QuillError(.io, "could not read the downloaded file '\(target)'")
            }
            defer { try? handle.close() }
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                FileHandle.standardOutput.write(chunk)
            }
        } else {
            Console.printError("wrote \(destination)")
        }
    }
}
