package import Logging
package import PostgresNIO

// Statements on a connection the server has closed fail at once instead of waiting forever.
//
// PostgresNIO 1.33.2 hands a statement to its channel with `channel.write(task, promise: nil)`. Once the server
// has closed the connection (a fast shutdown sends `57P01` to every backend, idle ones included) and NIO has
// torn the channel's pipeline down (one turn of the event loop after the close), such a write is dropped
// without failing the statement's promise, and the caller waits forever (vapor/postgres-nio#487 fixed this in
// 2024, #501 reverted it). A request whose transaction was between two statements as the database stopped
// hung on its next statement, and a request whose statement failed hung on its `ROLLBACK`.
//
// The overloads below are the ones the store's code (and `quill db copy`'s) calls: without `file:` and `line:`, Swift prefers them
// to PostgresNIO's, which take those with defaults. Each checks that the channel is open and hands the
// statement to PostgresNIO in the same turn of the connection's event loop, so the pipeline cannot be torn
// down in between: a closed connection throws ``PostgresConnectionClosed`` (HTTP 503), an open one reaches
// PostgresNIO's handler, which answers every statement it receives, even when the connection closes later.

extension PostgresConnection {
    /// Runs `query`, or throws ``PostgresConnectionClosed`` at once when the server has closed the connection.
    @discardableResult
    package func query(_ query: PostgresQuery, logger: Logger) async throws -> PostgresRowSequence {
        try await withTaskExecutorPreference(EventLoopTaskExecutor(eventLoop)) {
            guard !isClosed else { throw PostgresConnectionClosed() }
            return try await self.query(query, logger: logger, file: #fileID, line: #line)
        }
    }

    /// Runs a prepared statement, or throws ``PostgresConnectionClosed`` at once when the server has closed the
    /// connection.
    func execute<Statement: PostgresPreparedStatement, Row>(
        _ statement: Statement,
        logger: Logger
    ) async throws -> AsyncThrowingMapSequence<PostgresRowSequence, Row> where Row == Statement.Row {
        try await withTaskExecutorPreference(EventLoopTaskExecutor(eventLoop)) {
            guard !isClosed else { throw PostgresConnectionClosed() }
            return try await self.execute(statement, logger: logger, file: #fileID, line: #line)
        }
    }
}

extension PostgresConnection {
    /// Runs `COPY table (columns) FROM STDIN` in text format with what `writeData` writes, or throws
    /// ``PostgresConnectionClosed`` at once when the server has closed the connection (a `quill db copy` whose
    /// database stopped between two batches).
    package func copyFrom(
        table: String,
        columns: [String],
        logger: Logger,
        writeData: (PostgresCopyFromWriter) async throws -> Void
    ) async throws {
        try await withTaskExecutorPreference(EventLoopTaskExecutor(eventLoop)) {
            guard !isClosed else { throw PostgresConnectionClosed() }
            try await self.copyFrom(table: table, columns: columns, logger: logger, file: #fileID, line: #line) {
                writer in
                try await writeData(writer)
            }
        }
    }
}

/// A statement was not sent: the server had closed the connection (a lost connection: HTTP 503).
package struct PostgresConnectionClosed: Error, CustomStringConvertible {
    package var description: String { "the PostgreSQL connection was closed before the statement was sent" }
}

/// Runs a task's jobs on a connection's event loop (``PostgresConnection/query(_:logger:)``).
private final class EventLoopTaskExecutor: TaskExecutor {
    let loop: any EventLoop

    init(_ loop: any EventLoop) { self.loop = loop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
