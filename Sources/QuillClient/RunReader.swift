package import Foundation
package import QuillCore

/// Reads runs for the CLI, from local run directories (the CLI's `LocalRunReader`) or from a Quill server
/// (``RemoteRunReader``), so that each read command (`runs`, `show`, `compare`, `metrics`, `artifacts`) is
/// written once.
///
/// Every call blocks the calling thread until the files are read or the server answered. Errors are
/// ``QuillError``s whose message says what to do: ``QuillError/Code/notFound`` and
/// ``QuillError/Code/ambiguous`` when a reference names no run or several, ``QuillError/Code/io`` when the
/// server cannot be reached.
package protocol RunReader: Sendable {
    /// Where the runs come from, for the messages that name it.
    var source: RunSource { get }

    /// One page of the runs that match a query, in the source's order (newest first unless sorted).
    func runs(_ query: RunListQuery) throws -> RunListing

    /// The run a reference names (an id, a unique id prefix where the source supports it, or a name), with
    /// its config, metadata (params, tags, links with their own times) and metric statistics.
    ///
    /// - Parameters:
    ///   - reference: What the user typed.
    ///   - project: When several projects have a run of that name, the one to pick.
    ///   - metadataOnly: Only resolve the reference and read the metadata: the config and statistics stay
    ///     empty where that saves reading files (a local run's metrics); a server sends them anyway.
    func run(_ reference: String, project: String?, metadataOnly: Bool) throws -> RunDetails

    /// A run's metric rows by index, oldest first (a local run leaves out the rows a resume superseded).
    ///
    /// - Parameters:
    ///   - run: A run this reader returned.
    ///   - keys: The metrics wanted; empty means all. Rows may hold other keys too.
    ///   - maxPoints: A hint: the source may downsample each key to about this many points.
    func metricRows(of run: RunDetails, keys: [String], maxPoints: Int?) throws -> [MetricRow]

    /// A run's text log, oldest line first, at most `limit` lines.
    func logLines(of run: RunDetails, limit: Int) throws -> [LogLine]

    /// A run's artifact files, sorted by path.
    func artifacts(of run: RunDetails) throws -> [ArtifactEntry]

    /// Writes one artifact file's bytes to `destination`, replacing it.
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/notFound`` when the run has no such file.
    func fetchArtifact(of run: RunDetails, path: String, to destination: String) throws
}

extension RunReader {
    /// The run a reference names, with its config and metric statistics.
    package func run(_ reference: String, project: String?) throws -> RunDetails {
        try run(reference, project: project, metadataOnly: false)
    }
}

/// Where a ``RunReader`` reads runs from.
package enum RunSource: Sendable, Hashable {
    /// The run directories in a Quill home's runs folder.
    case local(runsFolder: String)
    /// A Quill server, by its base URL.
    case server(url: String)
}

/// What ``RunReader/runs(_:)`` lists: filters that all apply, an order and a page size.
package struct RunListQuery: Sendable, Hashable {
    /// Only runs of this project (display name, slug, or `namespace/slug` on a server).
    package var project: String?
    /// Only runs with one of these statuses (any status when empty).
    package var statuses: [RunStatus] = []
    /// Only runs with every one of these tags.
    package var tags: [TagFilter] = []
    /// A query in Quill's query language (``RunQuery``).
    package var query: String?
    /// An order (``RunSort``); newest first when `nil`.
    package var sort: String?
    /// The most runs to return.
    package var limit: Int = 50
    /// Where the previous page of a server's listing ended (``RunListing/nextCursor``).
    package var cursor: String?

    /// A query that lists the newest runs.
    package init(limit: Int = 50) {
        self.limit = limit
    }
}

/// A tag filter: a label (`baseline`) or `key=value`.
package struct TagFilter: Sendable, Hashable {
    /// The tag's key, or the label.
    package var key: String
    /// The value; `nil` for a label, which matches any value.
    package var value: String?

    /// A filter.
    package init(key: String, value: String?) {
        self.key = key
        self.value = value
    }

    /// Whether a run's key-value tags match: the key is present and, for `key=value`, has that value.
    package func matches(_ tagValues: [String: String]) -> Bool {
        guard let present = tagValues[key] else { return false }
        return value.map { $0 == present } ?? true
    }
}

/// One page of runs.
package struct RunListing: Sendable {
    /// The runs, in order.
    package var runs: [RunEntry]
    /// A server's cursor for the next page; `nil` on the last page and for local runs.
    package var nextCursor: String?
    /// For local runs: how many more runs matched beyond the limit.
    package var more = 0
    /// For local runs: how many runs the folder holds before filtering.
    package var scanned: Int?
    /// Things the reader skipped or noticed (an unreadable run directory, a listing limited to public
    /// projects), one line each, to show as warnings.
    package var warnings: [String] = []

    /// A listing.
    package init(runs: [RunEntry], nextCursor: String? = nil) {
        self.runs = runs
        self.nextCursor = nextCursor
    }
}

/// A run as ``RunReader/runs(_:)`` lists it.
package struct RunEntry: Sendable {
    /// Its metadata.
    package var meta: RunMeta
    /// The run as its source writes it, for `--json`: the run directory's metadata with its folder (`dir`),
    /// or the server's JSON object.
    package var json: JSONValue

    /// An entry.
    package init(meta: RunMeta, json: JSONValue) {
        self.meta = meta
        self.json = json
    }
}

/// One run with everything `quill show` prints.
package struct RunDetails: Sendable {
    /// Metadata: name, project, status, times, params, summary, tags, links (each with its own time), git
    /// and host.
    package var meta: RunMeta
    /// The run's config.
    package var config: JSONValue
    /// Per-metric statistics.
    package var statistics: [String: MetricStatistics]
    /// The run's folder, or its URL on the server.
    package var location: String
    /// The run as its source writes it, for `quill show --json`.
    package var json: JSONValue
    /// Problems met while reading (a damaged metrics line), one line each, to show as warnings.
    package var warnings: [String] = []
    /// The metric rows a reader already read to compute ``statistics`` (local runs), kept so that
    /// ``RunReader/metricRows(of:keys:maxPoints:)`` reads the file once.
    package var cachedRows: [MetricRow]?

    /// Details.
    package init(
        meta: RunMeta,
        config: JSONValue,
        statistics: [String: MetricStatistics],
        location: String,
        json: JSONValue
    ) {
        self.meta = meta
        self.config = config
        self.statistics = statistics
        self.location = location
        self.json = json
    }
}

/// One artifact file of a run.
package struct ArtifactEntry: Sendable, Hashable {
    /// The path inside the run's artifacts, with `/` separators.
    package var path: String
    /// The size in bytes, when known.
    package var size: Int64?
    /// When the file last changed.
    package var modified: Date?
    /// The upload status on a server (`pending`, `uploaded`, `failed`); `nil` for local files.
    package var status: String?
    /// The SHA-256 digest in hex, when the source knows it.
    package var sha256: String?
    /// The file as its source writes it, for `--json`.
    package var json: JSONValue

    /// An entry.
    package init(path: String, size: Int64?, modified: Date?, status: String?, sha256: String?, json: JSONValue) {
        self.path = path
        self.size = size
        self.modified = modified
        self.status = status
        self.sha256 = sha256
        self.json = json
    }
}
