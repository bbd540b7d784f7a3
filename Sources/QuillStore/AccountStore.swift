public import Foundation
import QuillCore

/// Users, organizations, memberships and API keys: who may use a server.
///
/// A separate protocol from ``TrackingStore`` so a backend's compiler checks each concern on its own; the
/// SQLite backend implements both over one database. Every backend runs `AccountStoreConformance` from
/// `QuillTesting`.
///
/// The contract:
/// - User and organization names share one space of namespaces with the namespaces that hold projects: a
///   name taken by a user, an organization or a namespace holding projects is refused with
///   ``QuillError/Code/conflict``. Names are normalized first (``AccountName/normalize(_:)``: Unicode
///   compatibility form, lower case), so `Local` and `ＬＯＣＡＬ` collide with `local`, and are then 1 to 64
///   characters of `a-z 0-9 - _`, starting with a letter or digit (``AccountName/validate(_:)``).
/// - Creating the first user hands every namespace that holds projects and has no owner (the `local`
///   namespace of single-user mode) to that user, in the same transaction: the namespace of the user's own
///   name becomes the user's, every other becomes an organization the user owns. No namespace holding
///   projects is ever left for someone else to claim.
/// - API keys are stored only as their SHA-256 (``NewAPIKey/hash``); the key itself is never stored.
///   ``apiKey(hash:)`` finds only keys that are not revoked.
/// - A store with no users is a single-user server (``userCount()`` is 0).
public protocol AccountStore: Sendable {
    /// Creates a user; the name (normalized) must not be taken by a user, an organization or a namespace
    /// holding projects. The first user receives the namespaces without an owner (see the contract above).
    func createUser(name: String, isAdmin: Bool) async throws -> StoredUser

    /// A user by name, or `nil`.
    func user(name: String) async throws -> StoredUser?

    /// Every user, ordered by name.
    func users() async throws -> [StoredUser]

    /// How many users exist; 0 means the server runs in single-user mode.
    func userCount() async throws -> Int

    /// Creates an organization owned by a user; the name (normalized) must not be taken by a user, an
    /// organization or a namespace holding projects.
    func createOrganization(name: String, owner: String) async throws -> StoredOrganization

    /// An organization by name, or `nil`.
    func organization(name: String) async throws -> StoredOrganization?

    /// Adds a user to an organization, or changes the user's role there.
    func setMembership(organization: String, user: String, role: MembershipRole) async throws

    /// Removes a user from an organization; refused for the organization's last owner.
    func removeMembership(organization: String, user: String) async throws

    /// The organizations a user belongs to, with the user's role in each, ordered by name.
    func memberships(user: String) async throws -> [Membership]

    /// The members of an organization, ordered by user name.
    func members(organization: String) async throws -> [Membership]

    /// Stores a new API key for a user.
    func createAPIKey(_ key: NewAPIKey) async throws -> StoredAPIKey

    /// The key with this hash and its user, when the key exists and is not revoked.
    func apiKey(hash: String) async throws -> (key: StoredAPIKey, user: StoredUser)?

    /// A user's keys, revoked ones included, oldest first.
    func apiKeys(user: String) async throws -> [StoredAPIKey]

    /// Revokes one of a user's keys by id; revoking twice is not an error.
    func revokeAPIKey(id: Int64, user: String) async throws -> StoredAPIKey
}

/// The rules for user and organization names.
public enum AccountName: Sendable {
    /// The form a name is stored and compared in: Unicode compatibility composition (NFKC, so full-width
    /// and other look-alike forms of ASCII letters become those letters), then lower case.
    ///
    /// ```swift
    /// AccountName.normalize("ＬＯＣＡＬ")  // "local"
    /// ```
    public static func normalize(_ name: String) -> String {
        name.precomposedStringWithCompatibilityMapping.lowercased().precomposedStringWithCompatibilityMapping
    }

    /// The normalized name, refused when it cannot be a namespace.
    ///
    /// - Throws: ``QuillError`` with ``QuillError/Code/invalidArgument`` saying which characters are allowed.
    public static func normalized(_ name: String) throws -> String {
        let normalized = normalize(name)
        try validate(normalized)
        return normalized
    }

    /// Names no user or organization may take: the first path segments of the server's own URLs (the API,
    /// the dashboard's assets and pages, health and metrics), since a namespace is the first segment of its
    /// projects' dashboard URLs (`/<namespace>/<project>`).
    public static let reserved: Set<String> = [
        "api", "assets", "healthz", "metrics", "runs", "steps", "stats", "signin", "signout", "favicon.ico",
        "robots.txt", "jobs", "devices",
    ]

    /// Refuses a name that cannot be a namespace in URLs and paths.
    ///
    /// - Throws: ``QuillError`` with ``QuillError/Code/invalidArgument`` saying which characters are allowed,
    ///   or that the name is reserved.
    public static func validate(_ name: String) throws {
        if reserved.contains(name) {
            throw QuillError(
                .invalidArgument,
                "'\(name)' is reserved for the server's own pages (\(reserved.sorted().joined(separator: ", "))); choose another name"
            )
        }
        let bytes = Array(name.utf8)
        let allowed = { (byte: UInt8) in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }
        guard (1...64).contains(bytes.count), bytes.allSatisfy(allowed), let first = bytes.first,
            first != UInt8(ascii: "-"), first != UInt8(ascii: "_")
        else {
            throw QuillError(
                .invalidArgument,
                "'\(name)' is not a valid name: use 1 to 64 characters of a-z, 0-9, '-' and '_', starting with a letter or digit"
            )
        }
    }
}

/// A user of a server.
public struct StoredUser: Sendable, Hashable {
    /// The store's id.
    public var id: Int64
    /// The user's name, which is also the user's personal namespace.
    public var name: String
    /// Whether the user may administer the server (create users, see every project).
    public var isAdmin: Bool
    /// When the user was created.
    public var createdAt: Date

    /// Creates a value (backends build these from their rows).
    public init(id: Int64, name: String, isAdmin: Bool, createdAt: Date) {
        self.id = id
        self.name = name
        self.isAdmin = isAdmin
        self.createdAt = createdAt
    }
}

/// An organization: a namespace shared by its members.
public struct StoredOrganization: Sendable, Hashable {
    /// The store's id.
    public var id: Int64
    /// The name, which is also the namespace.
    public var name: String
    /// When it was created.
    public var createdAt: Date

    /// Creates a value.
    public init(id: Int64, name: String, createdAt: Date) {
        self.id = id
        self.name = name
        self.createdAt = createdAt
    }
}

/// A user's role in an organization.
public enum MembershipRole: String, Sendable, Hashable, CaseIterable {
    /// Manages members and sees every project of the organization.
    case owner
    /// Sees and writes the organization's internal and public projects, and the private ones it created.
    case member
}

/// A user's membership of an organization.
public struct Membership: Sendable, Hashable {
    /// The organization's name.
    public var organization: String
    /// The user's name.
    public var user: String
    /// The user's role.
    public var role: MembershipRole

    /// Creates a value.
    public init(organization: String, user: String, role: MembershipRole) {
        self.organization = organization
        self.user = user
        self.role = role
    }
}

/// An API key to store: its hash, never the key.
public struct NewAPIKey: Sendable, Hashable {
    /// The user the key belongs to.
    public var user: String
    /// A label the user chose (`laptop`, `ci`).
    public var label: String
    /// The first characters of the key, shown in listings so a user can tell keys apart.
    public var prefix: String
    /// The SHA-256 of the whole key, as lowercase hex.
    public var hash: String

    /// Creates a value.
    public init(user: String, label: String, prefix: String, hash: String) {
        self.user = user
        self.label = label
        self.prefix = prefix
        self.hash = hash
    }
}

/// An API key as a store keeps it.
public struct StoredAPIKey: Sendable, Hashable {
    /// The store's id, used to revoke the key.
    public var id: Int64
    /// The user's name.
    public var user: String
    /// The label.
    public var label: String
    /// The first characters of the key.
    public var prefix: String
    /// When it was created.
    public var createdAt: Date
    /// When it was revoked, or `nil` while it works.
    public var revokedAt: Date?

    /// Creates a value.
    public init(id: Int64, user: String, label: String, prefix: String, createdAt: Date, revokedAt: Date?) {
        self.id = id
        self.user = user
        self.label = label
        self.prefix = prefix
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}
