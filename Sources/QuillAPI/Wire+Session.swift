/// The body of `POST /api/v1/session`: the dashboard's sign-in with an API key.
public struct APISessionCreate: Codable, Sendable, Hashable {
    /// The API key to sign in with; the server answers with a session cookie and keeps only the key's hash.
    public var apiKey: String

    enum CodingKeys: String, CodingKey, CaseIterable {
        case apiKey = "api_key"
    }

    /// Creates a body.
    public init(apiKey: String) {
        self.apiKey = apiKey
    }
}

/// The answer to a sign-in: who the session is for.
public struct APISession: Codable, Sendable, Hashable {
    /// The user signed in.
    public var user: String
    /// Whether the user administers the server.
    public var isAdmin: Bool

    enum CodingKeys: String, CodingKey {
        case user
        case isAdmin = "is_admin"
    }

    /// Creates an answer.
    public init(user: String, isAdmin: Bool) {
        self.user = user
        self.isAdmin = isAdmin
    }
}
