package import Foundation
package import QuillCore
package import QuillStore

/// Where an import reads from: an MLflow file store, database or server, or whirr's runs.
///
/// A source only reads, synchronously (files, SQLite, blocking HTTP); ``Importer`` calls it off the cooperative
/// pool and writes what it returns. Everything a source cannot carry over is reported as an ``ImportSkip``
/// rather than thrown, so one unreadable artifact never stops an import.
package protocol ImportSource: Sendable {
    /// The source as messages name it (a path or URL).
    var location: String { get }

    /// Every experiment (project to be), deleted ones included.
    func experiments() throws -> [ImportedExperiment]

    /// Every run of every experiment, deleted ones included, in any order.
    func runs() throws -> [ImportedRun]

    /// Every metric point of a run, one series per key, each in the source's order.
    func metrics(of run: ImportedRun) throws -> [ImportedSeries]

    /// The artifact files of a run, and what could not be read.
    func artifacts(of run: ImportedRun) throws -> ArtifactListing

    /// The run's output lines (whirr's `output.log`); none for MLflow.
    func logLines(of run: ImportedRun) throws -> [LogLine]

    /// What the source skipped as a whole (runs it could not read, jobs without a run), found while listing.
    func skipped() -> [ImportSkip]
}

extension ImportSource {
    /// No output lines.
    package func logLines(of run: ImportedRun) throws -> [LogLine] { [] }

    /// Nothing skipped.
    package func skipped() -> [ImportSkip] { [] }
}

/// An experiment, as a Quill project to be.
package struct ImportedExperiment: Sendable, Hashable {
    /// The source's id of the experiment (MLflow's experiment id; whirr's project name).
    package var sourceID: String
    /// The project's display name.
    package var name: String
    /// Experiment tags.
    package var tags: [String: String] = [:]
    /// Whether it is in MLflow's trash.
    package var deleted = false

    /// An experiment.
    package init(sourceID: String, name: String, tags: [String: String] = [:], deleted: Bool = false) {
        self.sourceID = sourceID
        self.name = name
        self.tags = tags
        self.deleted = deleted
    }
}

/// A run as the source has it, with everything but its metrics and artifacts.
package struct ImportedRun: Sendable, Hashable {
    /// The run's id in Quill: MLflow's run id, whirr's run id.
    package var id: RunID
    /// The ``ImportedExperiment/sourceID`` of its experiment.
    package var experimentID: String
    /// Its name.
    package var name: String?
    /// Its status.
    package var status: RunStatus = .completed
    /// When it started.
    package var startedAt: Date?
    /// When it ended.
    package var endedAt: Date?
    /// Who ran it.
    package var user: String?
    /// Where it ran.
    package var host: String?
    /// The parent run.
    package var parent: RunID?
    /// Params (MLflow's are strings).
    package var params: [String: JSONValue] = [:]
    /// The config (whirr's `config.json`).
    package var config: [String: JSONValue] = [:]
    /// Tags.
    package var tags: [String: String] = [:]
    /// The summary (whirr's).
    package var summary: [String: JSONValue] = [:]
    /// The git state.
    package var git: JSONValue?
    /// Whether it is in MLflow's trash.
    package var deleted = false
    /// Where the source keeps the run's artifacts (MLflow's `artifact_uri`).
    package var artifactLocation: String?
    /// The run's folder, for sources made of folders (MLflow's file store, whirr).
    package var folder: String?
    /// The run's metric keys, for sources that list them with the run (an MLflow server).
    package var metricKeys: [String] = []

    /// A run of an experiment.
    package init(id: RunID, experimentID: String) {
        self.id = id
        self.experimentID = experimentID
    }
}

/// One metric of a run: its points in the source's order. The position in that order is the point's index in
/// Quill, so importing the same points again is ignored by the store.
package struct ImportedSeries: Sendable, Hashable {
    /// The metric name.
    package var key: String
    /// The points (``MetricValue/index`` set).
    package var points: [MetricValue]

    /// A series.
    package init(key: String, points: [MetricValue]) {
        self.key = key
        self.points = points
    }
}

/// One artifact file of a run.
package struct ImportedArtifact: Sendable {
    /// Its path among the run's artifacts (`/`-separated).
    package var path: String
    /// Its size, when the source says.
    package var size: Int64?
    /// Where its bytes are.
    package var content: Content

    /// Where an artifact's bytes are.
    package enum Content: Sendable {
        /// A file on this machine.
        case file(String)
        /// Bytes read on demand (a server's download).
        case download(@Sendable () throws -> Data)
    }

    /// An artifact.
    package init(path: String, size: Int64?, content: Content) {
        self.path = path
        self.size = size
        self.content = content
    }
}

/// A run's artifacts: the files to copy and what was left out.
package struct ArtifactListing: Sendable {
    /// The files.
    package var files: [ImportedArtifact] = []
    /// What could not be read, and why.
    package var skipped: [ImportSkip] = []

    /// A listing.
    package init(files: [ImportedArtifact] = [], skipped: [ImportSkip] = []) {
        self.files = files
        self.skipped = skipped
    }
}

/// Something an import left out: what (`"artifacts"`, `"runs"`, …), how many, and why.
package struct ImportSkip: Sendable, Hashable {
    /// What kind of thing was skipped, plural (`artifacts`).
    package var what: String
    /// How many.
    package var count: Int
    /// Why, as the user should read it (`s3:// URIs are not readable here`).
    package var reason: String

    /// A skip.
    package init(_ what: String, count: Int = 1, reason: String) {
        self.what = what
        self.count = count
        self.reason = reason
    }
}
