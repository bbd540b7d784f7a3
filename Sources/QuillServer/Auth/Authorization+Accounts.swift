import Foundation
import QuillCore
import QuillStore

/// The account rules: who administers users, who manages which keys and organizations.
///
/// - Users are created and listed by an administrator, or by anyone in single-user mode (that is how the
///   first user of a server is made, and that user administers it).
/// - API keys belong to a signed-in user, who lists, creates and revokes only their own.
/// - Any signed-in user creates organizations, and owns them; their members may see them, their owners
///   (and administrators) manage members, and a member may leave.
///
/// Every change here clears the ``Authenticator``'s cache, so it applies to the next request.
extension Authorization {
    /// Allows managing users: administrators, or anyone in single-user mode.
    func administerUsers(_ caller: Caller) throws -> UserAdministration {
        switch caller {
        case .singleUser: return UserAdministration(caller: caller)
        case .user(let user) where user.isAdmin: return UserAdministration(caller: caller)
        case .user: throw QuillError(.forbidden, "only an administrator may manage users")
        case .anonymous: throw Self.unauthorized()
        }
    }

    /// Every user of the server.
    func users(_ grant: UserAdministration) async throws -> [StoredUser] {
        try await accounts.users()
    }

    /// Creates a user and the user's first API key (labelled `default`). The first user of a single-user
    /// server administers it, whatever was asked: otherwise nobody could.
    func createUser(
        name: String,
        isAdmin: Bool,
        _ grant: UserAdministration
    ) async throws -> (StoredUser, CreatedAPIKey) {
        let user = try await accounts.createUser(name: name, isAdmin: grant.caller == .singleUser || isAdmin)
        let key = try await makeKey(user: user.name, label: "default")
        authenticator.invalidate()
        return (user, key)
    }

    /// Allows managing one's own API keys and creating organizations: a signed-in user. Single-user mode has
    /// no users, so it answers 409 with how to create the first one.
    func signedInUser(_ caller: Caller) throws -> SignedInUser {
        switch caller {
        case .user(let user): return SignedInUser(name: user.name)
        case .anonymous: throw Self.unauthorized()
        case .singleUser:
            throw QuillError(
                .conflict,
                "this server has no users (single-user mode), so it has no API keys or organizations; create the first user with `quill users create NAME`"
            )
        }
    }

    /// The user's API keys, revoked ones included.
    func keys(of user: SignedInUser) async throws -> [StoredAPIKey] {
        try await accounts.apiKeys(user: user.name)
    }

    /// Creates an API key for the user.
    func createKey(label: String, for user: SignedInUser) async throws -> CreatedAPIKey {
        try await makeKey(user: user.name, label: label)
    }

    /// Revokes one of the user's keys, by the id in the path; a key of another user is not found.
    func revokeKey(_ text: String, of user: SignedInUser) async throws -> StoredAPIKey {
        guard let id = Int64(text) else { throw QuillError(.notFound, "API key \(text) not found") }
        let key = try await accounts.revokeAPIKey(id: id, user: user.name)
        authenticator.invalidate()
        return key
    }

    /// Creates an organization owned by the user.
    func createOrganization(name: String, owner: SignedInUser) async throws -> OrganizationMembers {
        let organization = try await accounts.createOrganization(name: name, owner: owner.name)
        authenticator.invalidate()
        return try await members(of: organization.name)
    }

    /// An organization and its members, when the caller belongs to it (or administers the server).
    func readOrganization(_ name: String, _ caller: Caller) async throws -> OrganizationMembers {
        try requireMember(caller, of: name)
        return try await members(of: name)
    }

    /// Allows managing an organization's members: its owners and administrators. Someone outside it gets
    /// 404, a member who is not an owner 403.
    func manageMembers(of organization: String, _ caller: Caller) throws -> OrganizationAdministration {
        try requireMember(caller, of: organization)
        if case .user(let user) = caller, !user.isAdmin, user.organizations[organization] != .owner {
            throw QuillError(.forbidden, "only an owner of '\(organization)' may manage its members")
        }
        return OrganizationAdministration(organization: organization)
    }

    /// Adds a member to the organization, or changes the member's role.
    func setMembership(
        user: String,
        role: MembershipRole,
        _ grant: OrganizationAdministration
    ) async throws
        -> OrganizationMembers
    {
        try await accounts.setMembership(organization: grant.organization, user: user, role: role)
        authenticator.invalidate()
        return try await members(of: grant.organization)
    }

    /// Removes a member from an organization: the member themselves (leaving), or whoever may manage its
    /// members.
    func removeMember(
        _ member: String,
        from organization: String,
        _ caller: Caller
    ) async throws
        -> OrganizationMembers
    {
        if caller.userName != member { _ = try manageMembers(of: organization, caller) }
        try await accounts.removeMembership(organization: organization, user: member)
        authenticator.invalidate()
        return try await members(of: organization)
    }

    /// Allows signing in to the dashboard (`POST /api/v1/session`): a server with users. Single-user mode has
    /// nothing to sign in to, so it answers 409 with how to turn sign-in on.
    func startSession(_ caller: Caller) throws {
        if caller == .singleUser {
            throw QuillError(
                .conflict,
                "this server has no users, so there is nothing to sign in to: everything is open on this machine; create a user with `quill users create NAME` to turn sign-in on"
            )
        }
    }

    /// Records a browser session for the API key a sign-in sent (by its hash) and returns the key's user;
    /// an invalid key is 401. The store checks the key once, in the write that records the session.
    func signIn(
        keyHash: String,
        tokenHash: String,
        expiresAt: Date,
        sessions: any SessionStore
    ) async throws -> StoredUser {
        do {
            return try await sessions.createSession(tokenHash: tokenHash, keyHash: keyHash, expiresAt: expiresAt)
        } catch let error as QuillError where error.code == .unauthorized {
            throw QuillError(
                .unauthorized,
                "that API key is not valid (mistyped or revoked); get one with `quill keys create` or, for a new user, `quill users create NAME`"
            )
        }
    }

    // MARK: Helpers

    private func requireMember(_ caller: Caller, of organization: String) throws {
        switch caller {
        case .singleUser: return
        case .anonymous: throw Self.unauthorized()
        case .user(let user):
            if user.isAdmin || user.organizations[organization] != nil { return }
            throw QuillError(.notFound, "organization '\(organization)' not found")
        }
    }

    /// Makes a key and returns its record with the key itself, which is shown this once.
    private func makeKey(user: String, label: String) async throws -> CreatedAPIKey {
        try RequestRules.refuseNUL(label, "body.label")
        guard label.unicodeScalars.count <= 200 else {
            throw QuillError(.invalidArgument, "body.label is longer than 200 characters")
        }
        let secret = APIKeySecret.generate()
        let stored = try await accounts.createAPIKey(
            NewAPIKey(
                user: user,
                label: label,
                prefix: APIKeySecret.prefix(of: secret),
                hash: APIKeySecret.hash(secret)
            )
        )
        return CreatedAPIKey(record: stored, secret: secret)
    }

    private func members(of name: String) async throws -> OrganizationMembers {
        guard let organization = try await accounts.organization(name: name) else {
            throw QuillError(.notFound, "organization '\(name)' not found")
        }
        return OrganizationMembers(organization: organization, members: try await accounts.members(organization: name))
    }
}

/// Permission to manage users; only ``Authorization/administerUsers(_:)`` makes one.
struct UserAdministration: Sendable {
    fileprivate let caller: Caller
}

/// A signed-in user, allowed to manage their own keys and to create organizations; only
/// ``Authorization/signedInUser(_:)`` makes one.
struct SignedInUser: Sendable {
    /// The user's name.
    let name: String

    fileprivate init(name: String) {
        self.name = name
    }
}

/// Permission to manage an organization's members; only ``Authorization/manageMembers(of:_:)`` makes one.
struct OrganizationAdministration: Sendable {
    /// The organization's name.
    let organization: String

    fileprivate init(organization: String) {
        self.organization = organization
    }
}

/// A new API key: its record and the key itself, which the client sees this once.
struct CreatedAPIKey: Sendable {
    /// The stored record (prefix, label, dates).
    let record: StoredAPIKey
    /// The key.
    let secret: String
}

/// An organization with its members.
struct OrganizationMembers: Sendable {
    /// The organization.
    let organization: StoredOrganization
    /// Its members with their roles.
    let members: [Membership]
}
