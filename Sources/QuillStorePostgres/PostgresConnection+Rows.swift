import Logging
import PostgresNIO

extension PostgresConnection {
    /// Runs a query and maps every row it returns, in order.
    func rows<Row>(
        _ query: PostgresQuery,
        logger: Logger,
        _ map: (PostgresRow) throws -> Row
    ) async throws -> [Row] {
        var result: [Row] = []
        for try await row in try await self.query(query, logger: logger) {
            result.append(try map(row))
        }
        return result
    }

    /// Runs a query and maps its first row, or returns `nil` when it returns none.
    func firstRow<Row>(
        _ query: PostgresQuery,
        logger: Logger,
        _ map: (PostgresRow) throws -> Row
    ) async throws -> Row? {
        try await rows(query, logger: logger, map).first
    }

    /// Runs a query whose rows are one value each.
    func values<Value: PostgresDecodable>(
        _ query: PostgresQuery,
        of type: Value.Type,
        logger: Logger
    ) async throws -> [Value] {
        try await rows(query, logger: logger) { try $0.decode(Value.self) }
    }
}

extension PSQLError {
    /// Whether the database refused the statement because it broke a uniqueness rule (SQLSTATE `23505`).
    var isUniqueViolation: Bool {
        code == .server && serverInfo?[.sqlState] == "23505"
    }
}
