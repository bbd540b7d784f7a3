import GRDB

/// The `sessions` table (migration v10): one row per signed-in browser, by the SHA-256 of its token, pointing
/// at the API key it signed in with (deleted with the key).
enum SessionSchema {
    static func migrate(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE sessions (
                    token_hash TEXT PRIMARY KEY NOT NULL CHECK (length(token_hash) = 64),
                    api_key_id INTEGER NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
                    created_at INTEGER NOT NULL,
                    expires_at INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX sessions_by_key ON sessions (api_key_id);
                """
        )
    }
}
