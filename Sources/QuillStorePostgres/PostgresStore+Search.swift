package import PostgresNIO
package import QuillCore
package import QuillStore

// The search side of the PostgreSQL store (issue 15): the `search_fields` index and the query language's
// translation to SQL. Owned by the search helper; the tracking writes call `refreshSearchIndex`.
extension PostgresStore {
    /// Not yet on PostgreSQL.
    package func searchRuns(_ search: RunSearch) async throws -> RunPage {
        throw Self.notYet
    }

    /// Recomputes a run's rows of `search_fields` inside the caller's transaction: every write that changes a
    /// run's record, params, tags or summary calls it before committing (as `SearchIndex.refresh` does on
    /// SQLite).
    ///
    /// Not written yet: does nothing.
    package func refreshSearchIndex(runID: RunID, on connection: PostgresConnection) async throws {}
}
