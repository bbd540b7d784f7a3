public import Foundation

/// A project: `POST /api/v1/projects`, `GET`/`PATCH /api/v1/projects/{namespace}/{slug}`.
public struct APIProject: Codable, Sendable, Hashable {
    /// Its numeric id.
    public var id: Int64
    /// The user or organization it belongs to.
    public var namespace: String
    /// Its name in paths.
    public var slug: String
    /// Its display name.
    public var name: String
    /// `private`, `internal` or `public`.
    public var visibility: String
    /// When it was created.
    public var createdAt: Date
    /// `namespace/slug`.
    public var path: String
    /// Its runs by status (`completed`: 12, …), in listings only.
    @OmittedWhenNil public var runCounts: [String: Int]?
    /// The latest change to any of its runs (its creation when it has none), in listings only.
    @OmittedWhenNil public var lastActivity: Date?

    enum CodingKeys: String, CodingKey {
        case id, namespace, slug, name, visibility, path
        case createdAt = "created_at"
        case runCounts = "run_counts"
        case lastActivity = "last_activity"
    }

    /// Creates a project record.
    public init(
        id: Int64,
        namespace: String,
        slug: String,
        name: String,
        visibility: String,
        createdAt: Date,
        path: String
    ) {
        self.id = id
        self.namespace = namespace
        self.slug = slug
        self.name = name
        self.visibility = visibility
        self.createdAt = createdAt
        self.path = path
    }
}

/// The projects the caller may read: `GET /api/v1/projects`.
public struct APIProjectList: Codable, Sendable, Hashable {
    /// The projects.
    public var projects: [APIProject]

    /// Creates the list.
    public init(projects: [APIProject]) {
        self.projects = projects
    }
}

/// The body of `POST /api/v1/projects`: get or create a project by display name.
public struct APIProjectCreate: Codable, Sendable, Hashable {
    /// Its display name.
    public var name: String
    /// Its namespace (the caller's when `nil`).
    @OmittedWhenNil public var namespace: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, namespace
    }

    /// Creates a body.
    public init(name: String, namespace: String? = nil) {
        self.name = name
        self.namespace = namespace
    }
}

/// The body of `PATCH /api/v1/projects/{namespace}/{slug}`.
public struct APIProjectUpdate: Codable, Sendable, Hashable {
    /// `private`, `internal` or `public`.
    public var visibility: String

    enum CodingKeys: String, CodingKey, CaseIterable {
        case visibility
    }

    /// Creates a body.
    public init(visibility: String) {
        self.visibility = visibility
    }
}

/// A user: an element of ``APIUserList`` and part of ``APIUserCreated``.
public struct APIUser: Codable, Sendable, Hashable {
    /// The user's name.
    public var name: String
    /// Whether the user administers the server.
    public var isAdmin: Bool
    /// When the user was created.
    public var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case name
        case isAdmin = "is_admin"
        case createdAt = "created_at"
    }

    /// Creates a user record.
    public init(name: String, isAdmin: Bool, createdAt: Date) {
        self.name = name
        self.isAdmin = isAdmin
        self.createdAt = createdAt
    }
}

/// The server's users: `GET /api/v1/users` (administrators).
public struct APIUserList: Codable, Sendable, Hashable {
    /// The users.
    public var users: [APIUser]

    /// Creates the list.
    public init(users: [APIUser]) {
        self.users = users
    }
}

/// The body of `POST /api/v1/users`.
public struct APIUserCreate: Codable, Sendable, Hashable {
    /// The user's name.
    public var name: String
    /// Whether the user administers the server (`false` when `nil`).
    @OmittedWhenNil public var admin: Bool?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, admin
    }

    /// Creates a body.
    public init(name: String, admin: Bool? = nil) {
        self.name = name
        self.admin = admin
    }
}

/// A new user and its first API key: the answer to `POST /api/v1/users`.
public struct APIUserCreated: Codable, Sendable, Hashable {
    /// The user.
    public var user: APIUser
    /// The key, with the secret shown this once.
    public var apiKey: APIKeyRecord

    enum CodingKeys: String, CodingKey {
        case user
        case apiKey = "api_key"
    }

    /// Creates the answer.
    public init(user: APIUser, apiKey: APIKeyRecord) {
        self.user = user
        self.apiKey = apiKey
    }
}

/// An API key's record (never the key itself, except in the answer that created it).
public struct APIKeyRecord: Codable, Sendable, Hashable {
    /// Its id.
    public var id: Int64
    /// Its user.
    public var user: String
    /// Its label.
    public var label: String
    /// The key's first characters, to tell keys apart.
    public var prefix: String
    /// When it was created.
    public var createdAt: Date
    /// When it was revoked, or `null`.
    public var revokedAt: Date?
    /// The key itself: only in the answer that created it.
    @OmittedWhenNil public var key: String?

    enum CodingKeys: String, CodingKey {
        case id, user, label, prefix, key
        case createdAt = "created_at"
        case revokedAt = "revoked_at"
    }

    /// Creates a key record.
    public init(
        id: Int64,
        user: String,
        label: String,
        prefix: String,
        createdAt: Date,
        revokedAt: Date?,
        key: String? = nil
    ) {
        self.id = id
        self.user = user
        self.label = label
        self.prefix = prefix
        self.createdAt = createdAt
        self.revokedAt = revokedAt
        self.key = key
    }
}

/// The caller's keys: `GET /api/v1/keys`.
public struct APIKeyList: Codable, Sendable, Hashable {
    /// The keys.
    public var keys: [APIKeyRecord]

    /// Creates the list.
    public init(keys: [APIKeyRecord]) {
        self.keys = keys
    }
}

/// The body of `POST /api/v1/keys` (optional: an empty body is a key labelled `default`).
public struct APIKeyCreate: Codable, Sendable, Hashable {
    /// The key's label (`default` when `nil`; at most 200 characters).
    @OmittedWhenNil public var label: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case label
    }

    /// Creates a body.
    public init(label: String? = nil) {
        self.label = label
    }
}

/// The body of `POST /api/v1/orgs`.
public struct APIOrganizationCreate: Codable, Sendable, Hashable {
    /// The organization's name.
    public var name: String

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name
    }

    /// Creates a body.
    public init(name: String) {
        self.name = name
    }
}

/// An organization and its members: `POST /api/v1/orgs`, `GET /api/v1/orgs/{org}` and the member routes.
public struct APIOrganization: Codable, Sendable, Hashable {
    /// Its name.
    public var name: String
    /// When it was created.
    public var createdAt: Date
    /// Its members.
    public var members: [APIMember]

    enum CodingKeys: String, CodingKey {
        case name, members
        case createdAt = "created_at"
    }

    /// Creates an organization record.
    public init(name: String, createdAt: Date, members: [APIMember]) {
        self.name = name
        self.createdAt = createdAt
        self.members = members
    }
}

/// A member of an organization.
public struct APIMember: Codable, Sendable, Hashable {
    /// The user.
    public var user: String
    /// `owner` or `member`.
    public var role: String

    /// Creates a member.
    public init(user: String, role: String) {
        self.user = user
        self.role = role
    }
}

/// The body of `PUT /api/v1/orgs/{org}/members/{user}` (optional).
public struct APIMembershipUpdate: Codable, Sendable, Hashable {
    /// `owner` or `member` (`member` when `nil`).
    @OmittedWhenNil public var role: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case role
    }

    /// Creates a body.
    public init(role: String? = nil) {
        self.role = role
    }
}

/// Who the caller is: `GET /api/v1/whoami`.
public struct APIWhoAmI: Codable, Sendable, Hashable {
    /// `single_user`, `user` or `anonymous`.
    public var mode: String
    /// The user's name, or `null`.
    public var user: String?
    /// Whether the caller administers the server.
    public var isAdmin: Bool
    /// The caller's organizations, by name.
    public var organizations: [APIMembership]

    enum CodingKeys: String, CodingKey {
        case mode, user, organizations
        case isAdmin = "is_admin"
    }

    /// Creates the answer.
    public init(mode: String, user: String?, isAdmin: Bool, organizations: [APIMembership]) {
        self.mode = mode
        self.user = user
        self.isAdmin = isAdmin
        self.organizations = organizations
    }
}

/// One of the caller's organizations and the caller's role in it.
public struct APIMembership: Codable, Sendable, Hashable {
    /// The organization.
    public var name: String
    /// `owner` or `member`.
    public var role: String

    /// Creates a membership.
    public init(name: String, role: String) {
        self.name = name
        self.role = role
    }
}
