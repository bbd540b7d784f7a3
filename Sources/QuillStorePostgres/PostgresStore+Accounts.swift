package import Foundation
import QuillCore
package import QuillStore

// Not yet on PostgreSQL: every method of this file throws until its helper writes it (issue 15).
extension PostgresStore {
    // MARK: AccountStore

    /// Not yet on PostgreSQL.
    package func createUser(name: String, isAdmin: Bool) async throws -> StoredUser {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func user(name: String) async throws -> StoredUser? {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func users() async throws -> [StoredUser] {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func userCount() async throws -> Int {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func createOrganization(name: String, owner: String) async throws -> StoredOrganization {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func organization(name: String) async throws -> StoredOrganization? {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func setMembership(organization: String, user: String, role: MembershipRole) async throws {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func removeMembership(organization: String, user: String) async throws {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func memberships(user: String) async throws -> [Membership] {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func members(organization: String) async throws -> [Membership] {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func createAPIKey(_ key: NewAPIKey) async throws -> StoredAPIKey {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func apiKey(hash: String) async throws -> (key: StoredAPIKey, user: StoredUser)? {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func apiKeys(user: String) async throws -> [StoredAPIKey] {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func revokeAPIKey(id: Int64, user: String) async throws -> StoredAPIKey {
        throw Self.notYet
    }

    // MARK: SessionStore

    /// Not yet on PostgreSQL.
    package func createSession(tokenHash: String, keyHash: String, expiresAt: Date) async throws -> StoredUser {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func sessionKeyHash(tokenHash: String, now: Date) async throws -> String? {
        throw Self.notYet
    }

    /// Not yet on PostgreSQL.
    package func deleteSession(tokenHash: String) async throws {
        throw Self.notYet
    }

}
