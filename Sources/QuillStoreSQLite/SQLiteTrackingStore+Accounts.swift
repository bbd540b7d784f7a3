import Foundation
import GRDB
import QuillCore
package import QuillStore

extension SQLiteTrackingStore: AccountStore {
    package func createUser(name: String, isAdmin: Bool) async throws -> StoredUser {
        let name = try AccountName.normalized(name)
        return try await write(conflicts: Self.nameTaken(name)) { db in
            let first = try UserRecord.fetchCount(db) == 0
            // The first user may take the name of a namespace nobody owns: it is handed to them below.
            if !first { try Self.refuseNamespaceHoldingProjects(db, name) }
            // A name a user or an organization has is refused by the schema (`account_names`, normalized).
            let user = try UserRecord(name: name, isAdmin: isAdmin, createdAt: Self.now()).insertAndFetch(db).stored
            if first { try Self.handOverOwnerlessNamespaces(db, userID: user.id, userName: user.name) }
            return user
        }
    }

    package func user(name: String) async throws -> StoredUser? {
        try await read { db in try Self.fetchUser(db, name) }
    }

    package func users() async throws -> [StoredUser] {
        try await read { db in try UserRecord.order(UserRecord.Columns.name).fetchAll(db).map(\.stored) }
    }

    package func userCount() async throws -> Int {
        try await read { db in try UserRecord.fetchCount(db) }
    }

    package func createOrganization(name: String, owner: String) async throws -> StoredOrganization {
        let name = try AccountName.normalized(name)
        return try await write(conflicts: Self.nameTaken(name)) { db in
            let user = try Self.requireUser(db, owner)
            try Self.refuseNamespaceHoldingProjects(db, name)
            // A name a user or an organization has is refused by the schema (`account_names`, normalized).
            let organization = try OrganizationRecord(name: name, createdAt: Self.now()).insertAndFetch(db).stored
            try MembershipRecord(organizationID: organization.id, userID: user.id, role: .owner).insert(db)
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
            try Self.refuseLosingLastOwner(db, role: role, org, member)
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
            try Self.refuseLosingLastOwner(db, role: nil, org, member)
            try db.execute(
                sql: "DELETE FROM memberships WHERE organization_id = ? AND user_id = ?",
                arguments: [org.id, member.id]
            )
            guard db.changesCount > 0 else {
                throw AccountRules.notAMember(user: user, organization: organization)
            }
        }
    }

    package func memberships(user: String) async throws -> [Membership] {
        try await read { db in
            try MembershipRecord.Named.fetchAll(
                db,
                sql: "\(MembershipRecord.named) WHERE u.name = ? ORDER BY o.name",
                arguments: [user]
            ).map(\.membership)
        }
    }

    package func members(organization: String) async throws -> [Membership] {
        try await read { db in
            _ = try Self.requireOrganization(db, organization)
            return try MembershipRecord.Named.fetchAll(
                db,
                sql: "\(MembershipRecord.named) WHERE o.name = ? ORDER BY u.name",
                arguments: [organization]
            ).map(\.membership)
        }
    }

    package func createAPIKey(_ key: NewAPIKey) async throws -> StoredAPIKey {
        try await write { db in
            let user = try Self.requireUser(db, key.user)
            // A hash another key has is refused by the schema (UNIQUE), as a conflict.
            return try APIKeyRecord(key, userID: user.id, createdAt: Self.now()).insertAndFetch(db)
                .stored(user: user.name)
        }
    }

    package func apiKey(hash: String) async throws -> (key: StoredAPIKey, user: StoredUser)? {
        try await read { db in
            guard
                let key = try APIKeyRecord.WithUser.fetchOne(
                    db,
                    sql: "\(APIKeyRecord.withUser) WHERE k.hash = ? AND k.revoked_at IS NULL",
                    arguments: [hash]
                )?.key
            else { return nil }
            return (key, try Self.requireUser(db, key.user))
        }
    }

    package func apiKeys(user: String) async throws -> [StoredAPIKey] {
        try await read { db in
            _ = try Self.requireUser(db, user)
            return try APIKeyRecord.WithUser.fetchAll(
                db,
                sql: "\(APIKeyRecord.withUser) WHERE u.name = ? ORDER BY k.id",
                arguments: [user]
            ).map(\.key)
        }
    }

    package func revokeAPIKey(id: Int64, user: String) async throws -> StoredAPIKey {
        try await write { db in
            let key = try Self.requireKey(db, id: id)
            guard key.user == user else { throw AccountRules.apiKeyNotFound(id: id, user: user) }
            try db.execute(
                sql: "UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?",
                arguments: [Self.now(), id]
            )
            return try Self.requireKey(db, id: id)
        }
    }

    // MARK: Rows

    /// What is taken when a new user or organization breaks a uniqueness rule: the name (users and
    /// organizations share one space of names, compared normalized).
    private static func nameTaken(_ name: String) -> [UniqueConstraint: String] {
        [.accountName: AccountRules.nameTaken(name).message]
    }

    /// Refuses a name that is a namespace holding projects (``AccountRules/refuseNamespaceHoldingProjects(_:namespaces:)``).
    private static func refuseNamespaceHoldingProjects(_ db: Database, _ name: String) throws {
        let namespaces = try String.fetchAll(db, ProjectRecord.select(ProjectRecord.Columns.namespace).distinct())
        try AccountRules.refuseNamespaceHoldingProjects(name, namespaces: namespaces)
    }

    /// Gives every namespace that holds projects but is neither a user nor an organization to a user
    /// (``AccountRules/organizationsHandedOver(ownerless:to:)``).
    static func handOverOwnerlessNamespaces(_ db: Database, userID: Int64, userName: String) throws {
        let ownerless = try String.fetchAll(
            db,
            sql: """
                SELECT DISTINCT namespace FROM projects
                WHERE namespace NOT IN (SELECT name FROM users) AND namespace NOT IN (SELECT name FROM organizations)
                """
        )
        for namespace in AccountRules.organizationsHandedOver(ownerless: ownerless, to: userName) {
            let organization = try OrganizationRecord(name: namespace, createdAt: now()).insertAndFetch(db)
            try MembershipRecord(organizationID: organization.id ?? db.lastInsertedRowID, userID: userID, role: .owner)
                .insert(db)
        }
    }

    /// Refuses a change that would leave `org` without an owner (``AccountRules/refuseLosingLastOwner(role:owners:user:organization:)``).
    private static func refuseLosingLastOwner(
        _ db: Database,
        role: MembershipRole?,
        _ org: StoredOrganization,
        _ user: StoredUser
    ) throws {
        guard role != .owner else { return }
        let owners = try Int64.fetchAll(
            db,
            MembershipRecord.select(MembershipRecord.Columns.userID)
                .filter(MembershipRecord.Columns.organizationID == org.id && MembershipRecord.Columns.role == "owner")
        )
        try AccountRules.refuseLosingLastOwner(role: role, owners: owners, user: user, organization: org)
    }

    private static func fetchUser(_ db: Database, _ name: String) throws -> StoredUser? {
        try UserRecord.filter(UserRecord.Columns.name == name).fetchOne(db)?.stored
    }

    static func requireUser(_ db: Database, _ name: String) throws -> StoredUser {
        guard let user = try fetchUser(db, name) else {
            throw AccountRules.userNotFound(name)
        }
        return user
    }

    private static func fetchOrganization(_ db: Database, _ name: String) throws -> StoredOrganization? {
        try OrganizationRecord.filter(OrganizationRecord.Columns.name == name).fetchOne(db)?.stored
    }

    private static func requireOrganization(_ db: Database, _ name: String) throws -> StoredOrganization {
        guard let organization = try fetchOrganization(db, name) else {
            throw AccountRules.organizationNotFound(name)
        }
        return organization
    }

    private static func requireKey(_ db: Database, id: Int64) throws -> StoredAPIKey {
        guard
            let key = try APIKeyRecord.WithUser.fetchOne(
                db,
                sql: "\(APIKeyRecord.withUser) WHERE k.id = ?",
                arguments: [id]
            )?.key
        else {
            throw AccountRules.apiKeyNotFound(id: id)
        }
        return key
    }
}
