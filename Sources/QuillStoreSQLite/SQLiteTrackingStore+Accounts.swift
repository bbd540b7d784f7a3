import Foundation
import GRDB
import QuillCore
package import QuillStore

extension SQLiteTrackingStore: AccountStore {
    package func createUser(name: String, isAdmin: Bool) async throws -> StoredUser {
        let name = try AccountName.normalized(name)
        return try await write { db in
            let first = (try Int.fetchOne(db, sql: "SELECT count(*) FROM users") ?? 0) == 0
            // The first user may take the name of a namespace nobody owns: it is handed to them below.
            try Self.refuseTakenNamespace(db, name, ownerlessIsFree: first)
            try db.execute(
                sql: "INSERT INTO users (name, is_admin, created_at) VALUES (?, ?, ?)",
                arguments: [name, isAdmin, Self.now()]
            )
            let user = try Self.requireUser(db, name)
            if first { try Self.handOverOwnerlessNamespaces(db, userID: user.id, userName: user.name) }
            return user
        }
    }

    package func user(name: String) async throws -> StoredUser? {
        try await read { db in try Self.fetchUser(db, name) }
    }

    package func users() async throws -> [StoredUser] {
        try await read { db in try Row.fetchAll(db, sql: "SELECT * FROM users ORDER BY name").map(Self.user(from:)) }
    }

    package func userCount() async throws -> Int {
        try await read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM users") ?? 0 }
    }

    package func createOrganization(name: String, owner: String) async throws -> StoredOrganization {
        let name = try AccountName.normalized(name)
        return try await write { db in
            let user = try Self.requireUser(db, owner)
            try Self.refuseTakenNamespace(db, name, ownerlessIsFree: false)
            try db.execute(
                sql: "INSERT INTO organizations (name, created_at) VALUES (?, ?)",
                arguments: [name, Self.now()]
            )
            let organization = try Self.requireOrganization(db, name)
            try db.execute(
                sql: "INSERT INTO memberships (organization_id, user_id, role) VALUES (?, ?, 'owner')",
                arguments: [organization.id, user.id]
            )
            return organization
        }
    }

    package func organization(name: String) async throws -> StoredOrganization? {
        try await read { db in try Self.fetchOrganization(db, name) }
    }

    package func setMembership(organization: String, user: String, role: MembershipRole) async throws {
        try await write { db in
            let org = try Self.requireOrganization(db, organization)
            let member = try Self.requireUser(db, user)
            if role == .member {
                try Self.refuseRemovingLastOwner(db, org, member)
            }
            try db.execute(
                sql: """
                    INSERT INTO memberships (organization_id, user_id, role) VALUES (?, ?, ?)
                    ON CONFLICT (organization_id, user_id) DO UPDATE SET role = excluded.role
                    """,
                arguments: [org.id, member.id, role.rawValue]
            )
        }
    }

    package func removeMembership(organization: String, user: String) async throws {
        try await write { db in
            let org = try Self.requireOrganization(db, organization)
            let member = try Self.requireUser(db, user)
            try Self.refuseRemovingLastOwner(db, org, member)
            try db.execute(
                sql: "DELETE FROM memberships WHERE organization_id = ? AND user_id = ?",
                arguments: [org.id, member.id]
            )
            guard db.changesCount > 0 else {
                throw QuillError(.notFound, "'\(user)' is not a member of '\(organization)'")
            }
        }
    }

    package func memberships(user: String) async throws -> [Membership] {
        try await read { db in
            try Row.fetchAll(db, sql: "\(Self.membershipSelect) WHERE u.name = ? ORDER BY o.name", arguments: [user])
                .map(Self.membership(from:))
        }
    }

    package func members(organization: String) async throws -> [Membership] {
        try await read { db in
            _ = try Self.requireOrganization(db, organization)
            return try Row.fetchAll(
                db,
                sql: "\(Self.membershipSelect) WHERE o.name = ? ORDER BY u.name",
                arguments: [organization]
            ).map(Self.membership(from:))
        }
    }

    package func createAPIKey(_ key: NewAPIKey) async throws -> StoredAPIKey {
        try await write { db in
            let user = try Self.requireUser(db, key.user)
            try db.execute(
                sql: "INSERT INTO api_keys (user_id, label, prefix, hash, created_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [user.id, key.label, key.prefix, key.hash, Self.now()]
            )
            return try Self.requireKey(db, id: db.lastInsertedRowID)
        }
    }

    package func apiKey(hash: String) async throws -> (key: StoredAPIKey, user: StoredUser)? {
        try await read { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: "\(Self.keySelect) WHERE k.hash = ? AND k.revoked_at IS NULL",
                    arguments: [hash]
                )
            else { return nil }
            let key = Self.key(from: row)
            return (key, try Self.requireUser(db, key.user))
        }
    }

    package func apiKeys(user: String) async throws -> [StoredAPIKey] {
        try await read { db in
            _ = try Self.requireUser(db, user)
            return try Row.fetchAll(db, sql: "\(Self.keySelect) WHERE u.name = ? ORDER BY k.id", arguments: [user])
                .map(Self.key(from:))
        }
    }

    package func revokeAPIKey(id: Int64, user: String) async throws -> StoredAPIKey {
        try await write { db in
            let key = try Self.requireKey(db, id: id)
            guard key.user == user else { throw QuillError(.notFound, "API key \(id) not found for '\(user)'") }
            try db.execute(
                sql: "UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?",
                arguments: [Self.now(), id]
            )
            return try Self.requireKey(db, id: id)
        }
    }

    // MARK: Rows

    private static let membershipSelect = """
        SELECT o.name AS organization, u.name AS user, m.role AS role FROM memberships m
        JOIN organizations o ON o.id = m.organization_id JOIN users u ON u.id = m.user_id
        """

    private static let keySelect = """
        SELECT k.id AS id, u.name AS user, k.label AS label, k.prefix AS prefix, k.created_at AS created_at,
               k.revoked_at AS revoked_at FROM api_keys k JOIN users u ON u.id = k.user_id
        """

    /// Refuses a name whose normalized form is already a user, an organization or a namespace holding
    /// projects (compared normalized, so older rows spelled another way collide too).
    private static func refuseTakenNamespace(_ db: Database, _ name: String, ownerlessIsFree: Bool) throws {
        let accounts = try String.fetchAll(db, sql: "SELECT name FROM users UNION SELECT name FROM organizations")
        if accounts.contains(where: { AccountName.normalize($0) == name }) {
            throw QuillError(.conflict, "the name '\(name)' is taken by a user or an organization; choose another")
        }
        if !ownerlessIsFree,
            try String.fetchAll(db, sql: "SELECT DISTINCT namespace FROM projects").contains(where: {
                AccountName.normalize($0) == name
            })
        {
            throw QuillError(
                .conflict,
                "the name '\(name)' is taken: projects already exist in that namespace; choose another"
            )
        }
    }

    /// Gives every namespace that holds projects but is neither a user nor an organization to a user: the
    /// namespace of the user's own name becomes the user's, every other an organization the user owns.
    static func handOverOwnerlessNamespaces(_ db: Database, userID: Int64, userName: String) throws {
        let ownerless = try String.fetchAll(
            db,
            sql: """
                SELECT DISTINCT namespace FROM projects
                WHERE namespace NOT IN (SELECT name FROM users) AND namespace NOT IN (SELECT name FROM organizations)
                ORDER BY namespace
                """
        )
        for namespace in ownerless where namespace != userName {
            try db.execute(
                sql: "INSERT INTO organizations (name, created_at) VALUES (?, ?)",
                arguments: [namespace, now()]
            )
            try db.execute(
                sql: "INSERT INTO memberships (organization_id, user_id, role) VALUES (?, ?, 'owner')",
                arguments: [db.lastInsertedRowID, userID]
            )
        }
    }

    private static func refuseRemovingLastOwner(_ db: Database, _ org: StoredOrganization, _ user: StoredUser) throws {
        let owners = try Int64.fetchAll(
            db,
            sql: "SELECT user_id FROM memberships WHERE organization_id = ? AND role = 'owner'",
            arguments: [org.id]
        )
        if owners == [user.id] {
            throw QuillError(
                .conflict,
                "'\(user.name)' is the last owner of '\(org.name)'; make another member an owner first"
            )
        }
    }

    private static func fetchUser(_ db: Database, _ name: String) throws -> StoredUser? {
        try Row.fetchOne(db, sql: "SELECT * FROM users WHERE name = ?", arguments: [name]).map(user(from:))
    }

    private static func requireUser(_ db: Database, _ name: String) throws -> StoredUser {
        guard let user = try fetchUser(db, name) else {
            throw QuillError(.notFound, "user '\(name)' not found; list users with `quill users list`")
        }
        return user
    }

    private static func fetchOrganization(_ db: Database, _ name: String) throws -> StoredOrganization? {
        try Row.fetchOne(db, sql: "SELECT * FROM organizations WHERE name = ?", arguments: [name]).map { row in
            StoredOrganization(
                id: row["id"],
                name: row["name"],
                createdAt: Timestamp.date(microseconds: row["created_at"])
            )
        }
    }

    private static func requireOrganization(_ db: Database, _ name: String) throws -> StoredOrganization {
        guard let organization = try fetchOrganization(db, name) else {
            throw QuillError(.notFound, "organization '\(name)' not found")
        }
        return organization
    }

    private static func requireKey(_ db: Database, id: Int64) throws -> StoredAPIKey {
        guard let row = try Row.fetchOne(db, sql: "\(keySelect) WHERE k.id = ?", arguments: [id]) else {
            throw QuillError(.notFound, "API key \(id) not found; list keys with `quill keys list`")
        }
        return key(from: row)
    }

    private static func user(from row: Row) -> StoredUser {
        StoredUser(
            id: row["id"],
            name: row["name"],
            isAdmin: row["is_admin"],
            createdAt: Timestamp.date(microseconds: row["created_at"])
        )
    }

    private static func membership(from row: Row) -> Membership {
        Membership(
            organization: row["organization"],
            user: row["user"],
            role: MembershipRole(rawValue: row["role"]) ?? .member
        )
    }

    private static func key(from row: Row) -> StoredAPIKey {
        let revoked: Int64? = row["revoked_at"]
        return StoredAPIKey(
            id: row["id"],
            user: row["user"],
            label: row["label"],
            prefix: row["prefix"],
            createdAt: Timestamp.date(microseconds: row["created_at"]),
            revokedAt: revoked.map(Timestamp.date(microseconds:))
        )
    }
}
