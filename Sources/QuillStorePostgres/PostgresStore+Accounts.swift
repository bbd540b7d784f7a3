package import Foundation
import Logging
import PostgresNIO
import QuillCore
package import QuillStore

/// Users, organizations, memberships and API keys (``AccountStore``) and dashboard sessions (``SessionStore``) in
/// the tables of migration "v1: accounts, sessions and artifacts".
///
/// The rules that are not SQL are ``AccountRules``'s, shared with SQLite. Every write that changes an account, a
/// membership, a key or a session announces ``StoreChange/accounts`` in its transaction, so every replica drops
/// its cached credentials when it commits. Creating users and organizations holds ``accountsLock`` for its
/// transaction, so the first user is one user and the namespaces it receives are decided once, as SQLite's
/// single writer does.
extension PostgresStore {
    /// A fixed key for `pg_advisory_xact_lock`: users and organizations are created one after the other.
    static let accountsLock: Int64 = 0x5155_494C_4C5F_4143  // "QUILL_AC"

    // MARK: AccountStore

    /// Creates a user (see ``AccountStore/createUser(name:isAdmin:)``).
    package func createUser(name: String, isAdmin: Bool) async throws -> StoredUser {
        let name = try AccountName.normalized(name)
        return try await transaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.accountsLock))", logger: logger)
            let count = try await connection.values("SELECT count(*) FROM users", of: Int64.self, logger: logger)
            let first = count.first == 0
            // The first user may take the name of a namespace nobody owns: it is handed to them below.
            if !first { try await refuseNamespaceHoldingProjects(name, on: connection) }
            let user = try await takingName(name) {
                try await connection.firstRow(
                    """
                    INSERT INTO users (name, is_admin, created_at) VALUES (\(name), \(isAdmin), \(Self.nowMicroseconds()))
                    RETURNING \(unescaped: Self.userColumns)
                    """,
                    logger: logger,
                    Self.decodeUser
                )
            }
            guard let user else { throw QuillError(.io, "the database did not return the new user '\(name)'") }
            if first { try await handOverOwnerlessNamespaces(to: user, on: connection) }
            try await announce(.accounts, on: connection)
            return user
        }
    }

    /// A user by name, or `nil`.
    package func user(name: String) async throws -> StoredUser? {
        try await withConnection { connection in try await fetchUser(name, on: connection) }
    }

    /// Every user, ordered by name.
    package func users() async throws -> [StoredUser] {
        try await withConnection { connection in
            try await connection.rows(
                "SELECT \(unescaped: Self.userColumns) FROM users ORDER BY name",
                logger: logger,
                Self.decodeUser
            )
        }
    }

    /// How many users exist.
    package func userCount() async throws -> Int {
        try await withConnection { connection in
            let count = try await connection.values("SELECT count(*) FROM users", of: Int64.self, logger: logger)
            return Int(count.first ?? 0)
        }
    }

    /// Creates an organization owned by a user (see ``AccountStore/createOrganization(name:owner:)``).
    package func createOrganization(name: String, owner: String) async throws -> StoredOrganization {
        let name = try AccountName.normalized(name)
        return try await transaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.accountsLock))", logger: logger)
            let user = try await requireUser(owner, on: connection)
            try await refuseNamespaceHoldingProjects(name, on: connection)
            let organization = try await insertOrganization(name, owner: user, on: connection)
            try await announce(.accounts, on: connection)
            return organization
        }
    }

    /// An organization by name, or `nil`.
    package func organization(name: String) async throws -> StoredOrganization? {
        try await withConnection { connection in try await fetchOrganization(name, on: connection) }
    }

    /// Adds a user to an organization, or changes the user's role there; refused when the organization would
    /// lose its last owner.
    package func setMembership(organization: String, user: String, role: MembershipRole) async throws {
        try await transaction { connection in
            let org = try await requireOrganization(organization, lockingMemberships: true, on: connection)
            let member = try await requireUser(user, on: connection)
            try await refuseLosingLastOwner(role: role, org, member, on: connection)
            try await connection.query(
                """
                INSERT INTO memberships (organization_id, user_id, role) VALUES (\(org.id), \(member.id), \(role.rawValue))
                ON CONFLICT (organization_id, user_id) DO UPDATE SET role = excluded.role
                """,
                logger: logger
            )
            try await announce(.accounts, on: connection)
        }
    }

    /// Removes a user from an organization; refused for its last owner.
    package func removeMembership(organization: String, user: String) async throws {
        try await transaction { connection in
            let org = try await requireOrganization(organization, lockingMemberships: true, on: connection)
            let member = try await requireUser(user, on: connection)
            try await refuseLosingLastOwner(role: nil, org, member, on: connection)
            let removed = try await connection.values(
                """
                DELETE FROM memberships WHERE organization_id = \(org.id) AND user_id = \(member.id)
                RETURNING user_id
                """,
                of: Int64.self,
                logger: logger
            )
            guard !removed.isEmpty else { throw AccountRules.notAMember(user: user, organization: organization) }
            try await announce(.accounts, on: connection)
        }
    }

    /// The organizations a user belongs to, with the user's role in each, ordered by name.
    package func memberships(user: String) async throws -> [Membership] {
        try await withConnection { connection in
            try await connection.rows(
                "\(unescaped: Self.namedMemberships) WHERE u.name = \(user) ORDER BY o.name",
                logger: logger,
                Self.decodeMembership
            )
        }
    }

    /// The members of an organization, ordered by user name.
    package func members(organization: String) async throws -> [Membership] {
        try await withConnection { connection in
            _ = try await requireOrganization(organization, lockingMemberships: false, on: connection)
            return try await connection.rows(
                "\(unescaped: Self.namedMemberships) WHERE o.name = \(organization) ORDER BY u.name",
                logger: logger,
                Self.decodeMembership
            )
        }
    }

    /// Stores a new API key for a user.
    package func createAPIKey(_ key: NewAPIKey) async throws -> StoredAPIKey {
        try await transaction { connection in
            let user = try await requireUser(key.user, on: connection)
            let stored = try await catchingUniqueViolation(AccountRules.apiKeyHashTaken) {
                try await connection.firstRow(
                    """
                    INSERT INTO api_keys (user_id, label, prefix, hash, created_at)
                    VALUES (\(user.id), \(key.label), \(key.prefix), \(key.hash), \(Self.nowMicroseconds()))
                    RETURNING id, \(user.name), label, prefix, created_at, revoked_at
                    """,
                    logger: logger,
                    Self.decodeAPIKey
                )
            }
            guard let stored else { throw QuillError(.io, "the database did not return the new API key") }
            try await announce(.accounts, on: connection)
            return stored
        }
    }

    /// The key with this hash and its user, when the key exists and is not revoked.
    package func apiKey(hash: String) async throws -> (key: StoredAPIKey, user: StoredUser)? {
        try await withConnection { connection in
            try await connection.firstRow(
                """
                SELECT k.id, u.name, k.label, k.prefix, k.created_at, k.revoked_at, u.id, u.name, u.is_admin, u.created_at
                FROM api_keys k JOIN users u ON u.id = k.user_id
                WHERE k.hash = \(hash) AND k.revoked_at IS NULL
                """,
                logger: logger
            ) { row in
                let (id, name, label, prefix, createdAt, revokedAt, userID, userName, isAdmin, userCreatedAt) =
                    try row.decode((Int64, String, String, String, Int64, Int64?, Int64, String, Bool, Int64).self)
                return (
                    key: Self.makeAPIKey(id, name, label, prefix, createdAt, revokedAt),
                    user: Self.makeUser(userID, userName, isAdmin, userCreatedAt)
                )
            }
        }
    }

    /// A user's keys, revoked ones included, oldest first.
    package func apiKeys(user: String) async throws -> [StoredAPIKey] {
        try await withConnection { connection in
            _ = try await requireUser(user, on: connection)
            return try await connection.rows(
                "\(unescaped: Self.keysWithUser) WHERE u.name = \(user) ORDER BY k.id",
                logger: logger,
                Self.decodeAPIKey
            )
        }
    }

    /// Revokes one of a user's keys by id; revoking twice keeps the first time.
    package func revokeAPIKey(id: Int64, user: String) async throws -> StoredAPIKey {
        try await transaction { connection in
            let key = try await connection.firstRow(
                "\(unescaped: Self.keysWithUser) WHERE k.id = \(id) FOR UPDATE OF k",
                logger: logger,
                Self.decodeAPIKey
            )
            guard let key else { throw AccountRules.apiKeyNotFound(id: id) }
            guard key.user == user else { throw AccountRules.apiKeyNotFound(id: id, user: user) }
            let revoked = try await connection.firstRow(
                """
                UPDATE api_keys SET revoked_at = coalesce(revoked_at, \(Self.nowMicroseconds())) WHERE id = \(id)
                RETURNING id, \(key.user), label, prefix, created_at, revoked_at
                """,
                logger: logger,
                Self.decodeAPIKey
            )
            guard let revoked else { throw AccountRules.apiKeyNotFound(id: id) }
            try await announce(.accounts, on: connection)
            return revoked
        }
    }

    // MARK: SessionStore

    /// Records a session for the valid API key whose hash is `keyHash`, checked in the same transaction.
    @discardableResult
    package func createSession(tokenHash: String, keyHash: String, expiresAt: Date) async throws -> StoredUser {
        let now = Self.nowMicroseconds()
        let expires = Timestamp.microseconds(expiresAt)
        return try await transaction { connection in
            // The one check of the key: valid now, in the transaction that records the session (the key's row
            // is locked, so a revocation waits for the session or comes first).
            let found = try await connection.firstRow(
                """
                SELECT k.id, u.id, u.name, u.is_admin, u.created_at
                FROM api_keys k JOIN users u ON u.id = k.user_id
                WHERE k.hash = \(keyHash) AND k.revoked_at IS NULL
                FOR SHARE OF k
                """,
                logger: logger
            ) { row in
                let (keyID, userID, name, isAdmin, createdAt) = try row.decode((Int64, Int64, String, Bool, Int64).self)
                return (keyID: keyID, user: Self.makeUser(userID, name, isAdmin, createdAt))
            }
            guard let found else { throw AccountRules.keyNotValidForSession }
            // Expired sessions go whenever a new one is made, so the table holds only live ones.
            try await connection.query("DELETE FROM sessions WHERE expires_at <= \(now)", logger: logger)
            try await connection.query(
                """
                INSERT INTO sessions (token_hash, api_key_id, created_at, expires_at)
                VALUES (\(tokenHash), \(found.keyID), \(now), \(expires))
                """,
                logger: logger
            )
            try await announce(.accounts, on: connection)
            return found.user
        }
    }

    /// The hash of the API key a live session stands for, or `nil`.
    package func sessionKeyHash(tokenHash: String, now: Date) async throws -> String? {
        let now = Timestamp.microseconds(now)
        return try await withConnection { connection in
            try await connection.values(
                """
                SELECT api_keys.hash FROM sessions JOIN api_keys ON api_keys.id = sessions.api_key_id
                WHERE sessions.token_hash = \(tokenHash) AND sessions.expires_at > \(now)
                    AND api_keys.revoked_at IS NULL
                """,
                of: String.self,
                logger: logger
            ).first
        }
    }

    /// Ends a session; ending an unknown session does nothing.
    package func deleteSession(tokenHash: String) async throws {
        try await transaction { connection in
            let deleted = try await connection.values(
                "DELETE FROM sessions WHERE token_hash = \(tokenHash) RETURNING api_key_id",
                of: Int64.self,
                logger: logger
            )
            if !deleted.isEmpty { try await announce(.accounts, on: connection) }
        }
    }

    // MARK: Rows

    /// The columns of `users` that ``user(_:)`` reads, in order.
    private static let userColumns = "id, name, is_admin, created_at"

    /// Selects memberships with their organization's and user's names (``decodeMembership(_:)``); append a `WHERE`.
    private static let namedMemberships = """
        SELECT o.name, u.name, m.role FROM memberships m
        JOIN organizations o ON o.id = m.organization_id JOIN users u ON u.id = m.user_id
        """

    /// Selects keys with their user's name (``decodeAPIKey(_:)``); append a `WHERE` on `k` (the key) or `u` (the user).
    private static let keysWithUser = """
        SELECT k.id, u.name, k.label, k.prefix, k.created_at, k.revoked_at
        FROM api_keys k JOIN users u ON u.id = k.user_id
        """

    private static func decodeUser(_ row: PostgresRow) throws -> StoredUser {
        let (id, name, isAdmin, createdAt) = try row.decode((Int64, String, Bool, Int64).self)
        return makeUser(id, name, isAdmin, createdAt)
    }

    private static func makeUser(_ id: Int64, _ name: String, _ isAdmin: Bool, _ createdAt: Int64) -> StoredUser {
        StoredUser(id: id, name: name, isAdmin: isAdmin, createdAt: Timestamp.date(microseconds: createdAt))
    }

    private static func decodeOrganization(_ row: PostgresRow) throws -> StoredOrganization {
        let (id, name, createdAt) = try row.decode((Int64, String, Int64).self)
        return StoredOrganization(id: id, name: name, createdAt: Timestamp.date(microseconds: createdAt))
    }

    private static func decodeMembership(_ row: PostgresRow) throws -> Membership {
        let (organization, user, role) = try row.decode((String, String, String).self)
        return Membership(organization: organization, user: user, role: MembershipRole(rawValue: role) ?? .member)
    }

    private static func decodeAPIKey(_ row: PostgresRow) throws -> StoredAPIKey {
        let (id, user, label, prefix, createdAt, revokedAt) =
            try row.decode((Int64, String, String, String, Int64, Int64?).self)
        return makeAPIKey(id, user, label, prefix, createdAt, revokedAt)
    }

    private static func makeAPIKey(
        _ id: Int64,
        _ user: String,
        _ label: String,
        _ prefix: String,
        _ createdAt: Int64,
        _ revokedAt: Int64?
    ) -> StoredAPIKey {
        StoredAPIKey(
            id: id,
            user: user,
            label: label,
            prefix: prefix,
            createdAt: Timestamp.date(microseconds: createdAt),
            revokedAt: revokedAt.map(Timestamp.date(microseconds:))
        )
    }

    /// Now, in the microseconds the tables hold.
    static func nowMicroseconds() -> Int64 { Timestamp.nowMicroseconds() }

    // MARK: Reads and rules inside a transaction

    private func fetchUser(_ name: String, on connection: PostgresConnection) async throws -> StoredUser? {
        try await connection.firstRow(
            "SELECT \(unescaped: Self.userColumns) FROM users WHERE name = \(name)",
            logger: logger,
            Self.decodeUser
        )
    }

    /// A user by name, or ``AccountRules/userNotFound(_:)``.
    func requireUser(_ name: String, on connection: PostgresConnection) async throws -> StoredUser {
        guard let user = try await fetchUser(name, on: connection) else { throw AccountRules.userNotFound(name) }
        return user
    }

    private func fetchOrganization(
        _ name: String,
        lockingMemberships: Bool = false,
        on connection: PostgresConnection
    ) async throws -> StoredOrganization? {
        // Locking the organization's row serializes changes of its memberships, so two owners stepping down
        // at once cannot leave it without an owner.
        let lock = lockingMemberships ? "FOR UPDATE" : ""
        return try await connection.firstRow(
            "SELECT id, name, created_at FROM organizations WHERE name = \(name) \(unescaped: lock)",
            logger: logger,
            Self.decodeOrganization
        )
    }

    private func requireOrganization(
        _ name: String,
        lockingMemberships: Bool,
        on connection: PostgresConnection
    ) async throws -> StoredOrganization {
        guard
            let organization = try await fetchOrganization(name, lockingMemberships: lockingMemberships, on: connection)
        else { throw AccountRules.organizationNotFound(name) }
        return organization
    }

    /// Inserts an organization and its owner's membership; a taken name is ``AccountRules/nameTaken(_:)``.
    private func insertOrganization(
        _ name: String,
        owner: StoredUser,
        on connection: PostgresConnection
    ) async throws -> StoredOrganization {
        let organization = try await takingName(name) {
            try await connection.firstRow(
                """
                INSERT INTO organizations (name, created_at) VALUES (\(name), \(Self.nowMicroseconds()))
                RETURNING id, name, created_at
                """,
                logger: logger,
                Self.decodeOrganization
            )
        }
        guard let organization else {
            throw QuillError(.io, "the database did not return the new organization '\(name)'")
        }
        try await connection.query(
            """
            INSERT INTO memberships (organization_id, user_id, role)
            VALUES (\(organization.id), \(owner.id), \(MembershipRole.owner.rawValue))
            """,
            logger: logger
        )
        return organization
    }

    /// Runs an insert of a user or an organization; a name taken (in `account_names`, `users` or
    /// `organizations`) is ``AccountRules/nameTaken(_:)``.
    private func takingName<Result>(_ name: String, _ body: () async throws -> Result) async throws -> Result {
        try await catchingUniqueViolation(AccountRules.nameTaken(name), body)
    }

    /// Runs `body`, throwing `conflict` (with the database's error as its cause) when it breaks a uniqueness rule.
    private func catchingUniqueViolation<Result>(
        _ conflict: QuillError,
        _ body: () async throws -> Result
    ) async throws -> Result {
        do {
            return try await body()
        } catch let error as PSQLError where error.isUniqueViolation {
            throw QuillError(conflict.code, conflict.message, underlying: error)
        }
    }

    /// Refuses a name that is a namespace holding projects (``AccountRules/refuseNamespaceHoldingProjects(_:namespaces:)``).
    private func refuseNamespaceHoldingProjects(_ name: String, on connection: PostgresConnection) async throws {
        let namespaces = try await connection.values(
            "SELECT DISTINCT namespace FROM projects",
            of: String.self,
            logger: logger
        )
        try AccountRules.refuseNamespaceHoldingProjects(name, namespaces: namespaces)
    }

    /// Gives the namespaces that hold projects and have no owner to the first user
    /// (``AccountRules/organizationsHandedOver(ownerless:to:)``).
    private func handOverOwnerlessNamespaces(to user: StoredUser, on connection: PostgresConnection) async throws {
        let ownerless = try await connection.values(
            """
            SELECT DISTINCT namespace FROM projects
            WHERE namespace NOT IN (SELECT name FROM users) AND namespace NOT IN (SELECT name FROM organizations)
            """,
            of: String.self,
            logger: logger
        )
        for namespace in AccountRules.organizationsHandedOver(ownerless: ownerless, to: user.name) {
            _ = try await insertOrganization(namespace, owner: user, on: connection)
        }
    }

    /// Refuses a change that would leave an organization without an owner
    /// (``AccountRules/refuseLosingLastOwner(role:owners:user:organization:)``).
    private func refuseLosingLastOwner(
        role: MembershipRole?,
        _ organization: StoredOrganization,
        _ user: StoredUser,
        on connection: PostgresConnection
    ) async throws {
        guard role != .owner else { return }
        let owners = try await connection.values(
            "SELECT user_id FROM memberships WHERE organization_id = \(organization.id) AND role = 'owner'",
            of: Int64.self,
            logger: logger
        )
        try AccountRules.refuseLosingLastOwner(role: role, owners: owners, user: user, organization: organization)
    }
}
