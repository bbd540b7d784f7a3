import ArgumentParser
import Foundation
import QuillCore
import QuillImport
import QuillStore

/// `quill import mlflow|whirr`: copies MLflow's or whirr's experiments into a server's store.
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Copy MLflow or whirr runs into a server's store.",
        discussion: """
            Opens the server's store as `quill users` does (--store, default quill.db in --data, default \
            $QUILL_HOME/server; artifact bytes in --data/artifacts), so it works while `quill serve` runs. \
            Experiments become projects of --namespace, runs keep their ids, every metric point keeps its step and \
            time. Importing again duplicates nothing: runs by id, points by their position in the source, \
            artifacts by path and content.
            """,
        subcommands: [MLflow.self, Whirr.self]
    )

    /// What both sources take.
    struct Options: ParsableArguments {
        @OptionGroup var data: UsersCommand.DataOptions

        @Option(help: ArgumentHelp("The namespace that receives the projects.", valueName: "name"))
        var namespace = "local"

        @Flag(help: "Read and count everything, write nothing.")
        var dryRun = false
    }

    struct MLflow: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "mlflow",
            abstract: "Import an MLflow file store (mlruns/), SQLite database or running server.",
            discussion: """
                SOURCE is an mlruns folder (or file:///…/mlruns), a SQLite database (sqlite:///path.db or a .db \
                file) or a tracking server (http://host:5000; MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME \
                and MLFLOW_TRACKING_PASSWORD, as MLflow's client reads them).
                """
        )

        @Argument(help: ArgumentHelp("The mlruns folder, database or server URL.", valueName: "source"))
        var source: String

        @OptionGroup var options: Options

        func run() async throws {
            try await ImportCommand.run(try ImportSources.mlflow(source), options)
        }
    }

    struct Whirr: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "whirr",
            abstract: "Import whirr run folders and whirr's index (whirr.db).",
            discussion: """
                DIR is whirr's data folder (.whirr, or the --data-dir of `whirr server`), a folder holding .whirr, \
                a folder of run folders, or one run folder.
                """
        )

        @Argument(help: ArgumentHelp("whirr's data folder, a folder of runs or a run folder.", valueName: "dir"))
        var directory: String

        @Option(help: ArgumentHelp("The project of runs whose meta.json names none.", valueName: "name"))
        var project = "whirr"

        @OptionGroup var options: Options

        func run() async throws {
            guard FileManager.default.fileExists(atPath: directory) else {
                throw QuillError(
                    .invalidArgument,
                    "no such folder: \(directory); pass whirr's data folder (.whirr) or a run folder"
                )
            }
            try await ImportCommand.run(try WhirrReader(directory: directory, project: project), options)
        }
    }

    /// Imports (or counts) with a progress line, then prints the final line or the JSON report.
    static func run(_ source: any ImportSource, _ options: Options) async throws {
        let json = options.data.json
        let line = ProgressLine(enabled: !json)
        let progress: @Sendable (ImportProgress) -> Void = { state in
            line.update(
                done: state.runsDone,
                total: state.runsTotal,
                "runs, \(state.points) points",
                force: state.runsDone == state.runsTotal
            )
        }
        let report: ImportReport
        if options.dryRun {
            report = try await Importer(source: source, destination: nil).run(progress: progress)
        } else {
            let stores = try options.data.stores()
            report = try await stores.whileRunning {
                let destination = ImportDestination(
                    runs: stores.backend,
                    artifacts: stores.backend,
                    blobs: stores.blobs,
                    namespace: options.namespace
                )
                return try await Importer(source: source, destination: destination).run(progress: progress)
            }
        }
        line.finish()
        if json { return Console.printJSON(report.json) }
        Console.print(report.summary)
    }
}

/// Which reader a SOURCE argument means.
enum ImportSources {
    /// An MLflow file store, database or server.
    static func mlflow(_ source: String) throws -> any ImportSource {
        if source.hasPrefix("http://") || source.hasPrefix("https://") {
            return try MLflowServerReader(url: source, environment: ProcessInfo.processInfo.environment)
        }
        if source.hasPrefix("sqlite:") { return try MLflowDatabaseReader(path: source) }
        var path = source
        if source.hasPrefix("file:") {
            guard let local = URL(string: source)?.path, !local.isEmpty else {
                throw QuillError(
                    .invalidArgument,
                    "\(source) is not a file: URI MLflow writes; pass file:///abs/mlruns"
                )
            }
            path = local
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw QuillError(
                .invalidArgument,
                "no such file or folder: \(path); pass an mlruns folder, a .db file or a server URL"
            )
        }
        if isDirectory.boolValue { return try MLflowFileStoreReader(root: path) }
        guard MLflowDatabaseReader.isDatabase(path) else {
            throw QuillError(
                .invalidArgument,
                "\(path) is neither an MLflow file store nor an MLflow SQLite database; pass an mlruns folder, a .db file or a server URL"
            )
        }
        return try MLflowDatabaseReader(path: path)
    }
}
