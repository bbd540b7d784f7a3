import PostgresNIO
package import QuillCore
package import QuillStore

extension QuillError {
    /// The one mapping of the PostgreSQL store's failures to ``QuillError`` codes.
    ///
    /// - a ``QuillError`` thrown by the store's own code passes through;
    /// - the database unreachable, a lost or closed connection (``PostgresConnectionClosed`` included), a server shutting down (SQLSTATE class 08,
    ///   `57P01`–`57P03`), a serialization failure or a deadlock (`40001`, `40P01`) are
    ///   ``QuillError/Code/unavailable`` (HTTP 503): the same request may succeed when retried;
    /// - a broken uniqueness rule (`23505`) is ``QuillError/Code/conflict``;
    /// - a refused login or a missing database (`28P01`, `28000`, `3D000`) is ``QuillError/Code/invalidArgument``:
    ///   `--store` is wrong, and retrying will not help;
    /// - everything else is ``QuillError/Code/io``.
    ///
    /// PostgreSQL's own text never goes into the message; the error stays the ``QuillError/underlying`` cause,
    /// for logs.
    package init(postgres error: any Error, location: PostgresLocation, migrating: Bool = false) {
        if let error = error as? QuillError {
            self = error
            return
        }
        let server = location.serverName
        // A statement not sent because the server had closed its connection, and the pool's own failures (its
        // circuit breaker tripped after failed connection attempts, a request cancelled while waiting for a
        // connection) mean the server cannot be reached.
        if error is PostgresConnectionClosed || String(describing: type(of: error)) == "ConnectionPoolError" {
            self = QuillError(.unavailable, "\(server) cannot be reached; retry when it is up", underlying: error)
            return
        }
        guard let psql = error as? PSQLError else {
            self = QuillError(.io, "\(server) failed; see the server log", underlying: error)
            return
        }
        switch psql.code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed,
            .sslUnsupported, .failedToAddSSLHandler:
            self = QuillError(.unavailable, "\(server) cannot be reached; retry when it is up", underlying: error)
            return
        case .server:
            break
        default:
            self = QuillError(.io, "\(server) failed (\(psql.code)); see the server log", underlying: error)
            return
        }
        let state = psql.serverInfo?[.sqlState] ?? ""
        switch state {
        case "23505":
            self = QuillError(
                .conflict,
                "the record already exists; read it instead of creating it again",
                underlying: error
            )
        case "40001", "40P01":
            self = QuillError(
                .unavailable,
                "\(server) aborted a transaction that raced another; retry",
                underlying: error
            )
        case _ where state.hasPrefix("08") || ["57P01", "57P02", "57P03", "53300"].contains(state):
            self = QuillError(.unavailable, "\(server) cannot be reached; retry when it is up", underlying: error)
        case "28P01", "28000":
            self = QuillError(
                .invalidArgument,
                "\(server) refused the login; check the user and password in --store",
                underlying: error
            )
        case "3D000":
            self = QuillError(
                .invalidArgument,
                "\(server) does not exist; create it (createdb \(location.database)) or fix --store",
                underlying: error
            )
        default:
            let what = migrating ? "could not bring the schema up to date" : "failed"
            self = QuillError(.io, "\(server) \(what) (SQLSTATE \(state)); see the server log", underlying: error)
        }
    }
}

extension PostgresLocation {
    /// The database as messages name it: `the PostgreSQL database quill at db:5432`.
    package var serverName: String { "the PostgreSQL database \(database) at \(host):\(port)" }
}
