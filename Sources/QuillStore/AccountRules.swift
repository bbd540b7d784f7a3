package import QuillCore

/// The rules of ``AccountStore`` that are not SQL, in one place for every backend: which names are taken,
/// what the first user receives, who may stop being an owner, and the errors the store methods throw.
///
/// A backend reads what a rule needs from its database, in the transaction of the write, and asks the rule.
///
/// ```swift
/// let namespaces = try fetchNamespacesHoldingProjects()
/// try AccountRules.refuseNamespaceHoldingProjects("team", namespaces: namespaces)
/// ```
package enum AccountRules: Sendable {
    /// The error of a new user or organization whose name (normalized) a user or an organization has.
    package static func nameTaken(_ name: String) -> QuillError {
        QuillError(.conflict, "the name '\(name)' is taken by a user or an organization; choose another")
    }

    /// The error of a new API key whose hash another key has.
    package static let apiKeyHashTaken = QuillError(
        .conflict,
        "an API key with the same secret exists; create the key again to get a new secret"
    )

    /// Refuses a name whose normalized form is a namespace holding projects (compared normalized, so older
    /// rows spelled another way collide too). Those namespaces belong to an account already (see
    /// ``organizationsHandedOver(ownerless:to:)``) except before the first user exists.
    ///
    /// - Parameters:
    ///   - name: The normalized name of a new user or organization.
    ///   - namespaces: The namespaces that hold projects, as stored.
    /// - Throws: ``QuillError`` with code ``QuillError/Code/conflict`` when one of them is `name`.
    package static func refuseNamespaceHoldingProjects(_ name: String, namespaces: some Sequence<String>) throws {
        if namespaces.contains(where: { AccountName.normalize($0) == name }) {
            throw QuillError(
                .conflict,
                "the name '\(name)' is taken: projects already exist in that namespace; choose another"
            )
        }
    }

    /// What the first user receives: of the namespaces that hold projects and are neither a user nor an
    /// organization (`ownerless`), the one of the user's own name becomes the user's, and every other becomes
    /// an organization the user owns. Returns the names of those organizations, in order.
    package static func organizationsHandedOver(ownerless: some Sequence<String>, to userName: String) -> [String] {
        ownerless.filter { $0 != userName }.sorted()
    }

    /// Refuses a change of membership that would leave an organization without an owner.
    ///
    /// - Parameters:
    ///   - role: The user's new role, or `nil` when the user leaves the organization.
    ///   - owners: The ids of the organization's owners before the change.
    ///   - user: The user whose membership changes.
    ///   - organization: The organization.
    /// - Throws: ``QuillError`` with code ``QuillError/Code/conflict`` when `user` is the last owner and would
    ///   stop being one.
    package static func refuseLosingLastOwner(
        role: MembershipRole?,
        owners: some Sequence<Int64>,
        user: StoredUser,
        organization: StoredOrganization
    ) throws {
        guard role != .owner else { return }
        if Array(owners) == [user.id] {
            throw QuillError(
                .conflict,
                "'\(user.name)' is the last owner of '\(organization.name)'; make another member an owner first"
            )
        }
    }

    /// The error of a user that does not exist.
    package static func userNotFound(_ name: String) -> QuillError {
        QuillError(.notFound, "user '\(name)' not found; list users with `quill users list`")
    }

    /// The error of an organization that does not exist.
    package static func organizationNotFound(_ name: String) -> QuillError {
        QuillError(.notFound, "organization '\(name)' not found")
    }

    /// The error of removing a user who is not a member.
    package static func notAMember(user: String, organization: String) -> QuillError {
        QuillError(.notFound, "'\(user)' is not a member of '\(organization)'")
    }

    /// The error of an API key id that does not exist.
    package static func apiKeyNotFound(id: Int64) -> QuillError {
        QuillError(.notFound, "API key \(id) not found; list keys with `quill keys list`")
    }

    /// The error of an API key id that exists but is another user's.
    package static func apiKeyNotFound(id: Int64, user: String) -> QuillError {
        QuillError(.notFound, "API key \(id) not found for '\(user)'")
    }

    /// The error of a dashboard sign-in with a key that is not valid (``SessionStore``).
    package static let keyNotValidForSession = QuillError(
        .unauthorized,
        "the API key is not valid (mistyped or revoked)"
    )
}
