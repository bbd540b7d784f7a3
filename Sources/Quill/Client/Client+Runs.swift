public import Foundation
public import QuillAPI
import QuillClient
public import QuillCore

extension Quill.Client {
    /// A run with its params, tags, links and the statistics of each metric (a job's run is ``QuillAPI/APIJob/runID``).
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/notFound`` when there is no such run (or the
    ///   caller may not read it).
    public func run(_ id: String) async throws -> APIRunDetails {
        try await http.request(APIRunDetails.self, "GET", APIPath.run(id)).value
    }

    /// Runs, newest first, that match every filter given.
    ///
    /// Asks for pages of at most 1,000 runs until `limit` runs came or there are no more, so any `limit`
    /// works, `Int.max` included.
    ///
    /// ```swift
    /// let failed = try await client.runs(status: .failed, tag: "sweep=lr", limit: 20)
    /// ```
    ///
    /// - Parameters:
    ///   - status: Only runs with this status.
    ///   - tag: Only runs with this tag: a label (`baseline`, any value) or `key=value`.
    ///   - project: Only runs of this project (its name or `namespace/slug`).
    ///   - limit: The most runs to return; 0 returns none.
    /// - Throws: ``QuillError`` with code ``QuillError/Code/invalidArgument`` for a negative `limit` or an
    ///   empty tag key; ``QuillError/Code/notFound`` for an unknown project.
    public func runs(
        status: RunStatus? = nil,
        tag: String? = nil,
        project: String? = nil,
        limit: Int = 50
    ) async throws -> [APIRunDetails] {
        try await runs(status: status, tag: tag, project: project, limit: limit, pageSize: Self.runPageSize)
    }

    /// ``runs(status:tag:project:limit:)`` in pages of `pageSize` (1 to 1,000) runs.
    package func runs(
        status: RunStatus?,
        tag: String?,
        project: String?,
        limit: Int,
        pageSize: Int
    ) async throws -> [APIRunDetails] {
        precondition((1...Self.runPageSize).contains(pageSize), "a page holds 1 to 1000 runs")
        guard limit >= 0 else { throw QuillError(.invalidArgument, "limit must be 0 or more, not \(limit)") }
        var query = RunListQuery(limit: limit)
        query.project = project
        if let status { query.statuses = [status] }
        if let tag {
            let separator = tag.firstIndex { $0 == "=" || $0 == ":" }
            let key = separator.map { String(tag[..<$0]) } ?? tag
            guard !key.isEmpty else {
                throw QuillError(.invalidArgument, "the tag '\(tag)' has no key; pass a label or key=value")
            }
            query.tags = [TagFilter(key: key, value: separator.map { String(tag[tag.index(after: $0)...]) })]
        }
        let filter = RemoteRunReader.serverQuery(query)
        var runs: [APIRunDetails] = []
        var cursor: String?
        while runs.count < limit {
            let page = min(limit - runs.count, pageSize)
            let path = APIPath.runs(project: project, query: filter, limit: page, cursor: cursor)
            let answer = try await http.request(APIRunPage.self, "GET", path).value
            runs += answer.runs.prefix(limit - runs.count)
            guard let next = answer.nextCursor, !next.isEmpty, !answer.runs.isEmpty else { break }
            cursor = next
        }
        return runs
    }

    /// The most runs one page asks for (the server's own page size).
    static let runPageSize = 1000

    /// Every metric of a run, by key: how many values, the latest (and its step), the smallest and largest.
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/notFound`` for an unknown run.
    public func metrics(of runID: String) async throws -> [String: APIMetricStatistics] {
        try await http.request(APIMetricSummaries.self, "GET", APIPath.runMetrics(runID, key: nil)).value.metrics
    }

    /// One metric's values, oldest first; the server thins a long history evenly to about `maxPoints` (first,
    /// last, smallest and largest kept).
    ///
    /// - Parameters:
    ///   - runID: The run.
    ///   - key: The metric.
    ///   - maxPoints: The most points to return (4 to 1,000,000); every point when `nil`.
    /// - Throws: ``QuillError`` with code ``QuillError/Code/notFound`` for an unknown run,
    ///   ``QuillError/Code/invalidArgument`` for a `maxPoints` out of range.
    public func metricHistory(of runID: String, key: String, maxPoints: Int? = nil) async throws -> APIMetricHistory {
        if let maxPoints, !(4...1_000_000).contains(maxPoints) {
            throw QuillError(.invalidArgument, "maxPoints must be 4 to 1000000, not \(maxPoints)")
        }
        return try await http.request(
            APIMetricHistory.self,
            "GET",
            APIPath.runMetrics(runID, key: key, maxPoints: maxPoints)
        ).value
    }

    /// A run's artifacts by path, each with its size, status and when it last changed.
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/notFound`` for an unknown run.
    public func artifacts(of runID: String) async throws -> [APIArtifact] {
        try await http.request(APIArtifactList.self, "GET", APIPath.runArtifacts(runID)).value.artifacts
    }

    /// An artifact's bytes, in memory (``downloadArtifact(of:path:to:)`` writes them to a file).
    ///
    /// - Throws: ``QuillError`` with code ``QuillError/Code/notFound`` for an unknown run or path, or an
    ///   artifact whose upload has not finished.
    public func artifact(of runID: String, path: String) async throws -> Data {
        try await http.bytes(APIPath.runArtifactContent(runID, path: path))
    }

    /// Downloads an artifact into a file, replacing it atomically (a reader never sees half a file).
    ///
    /// - Parameters:
    ///   - runID: The run.
    ///   - path: The artifact's path among the run's artifacts.
    ///   - destination: The file to write; its folder must exist.
    /// - Throws: As ``artifact(of:path:)``; ``QuillError`` with code ``QuillError/Code/io`` when the file
    ///   cannot be written.
    public func downloadArtifact(of runID: String, path: String, to destination: String) async throws {
        let bytes = try await artifact(of: runID, path: path)
        try FileIO.replaceAtomically(destination, with: Array(bytes))
    }
}
