import Foundation
import QuillCore
public import QuillStore
public import Testing

/// The behaviour every ``AccountStore`` backend must have, as checks run on a fresh store:
/// `@Test(arguments: AccountStoreConformance.allCases)`.
public enum AccountStoreConformance: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case usersAndNamespaces
    case organizationsAndMembers
    case apiKeysByHashAndRevocation

    /// The check's name in test output.
    public var testDescription: String { rawValue }

    /// Runs the check on an empty store.
    public func check(_ store: any AccountStore) async throws {
        switch self {
        case .usersAndNamespaces: try await users(store)
        case .organizationsAndMembers: try await organizations(store)
        case .apiKeysByHashAndRevocation: try await keys(store)
        }
    }

    private func expectCode(_ code: QuillError.Code, _ body: () async throws -> Void) async {
        do {
            try await body()
            Issue.record("expected \(code)")
        } catch let error as QuillError {
            #expect(error.code == code, "\(error)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    private func users(_ store: any AccountStore) async throws {
        #expect(try await store.userCount() == 0)
        let ada = try await store.createUser(name: "ada", isAdmin: true)
        #expect(ada.isAdmin)
        _ = try await store.createUser(name: "bob", isAdmin: false)
        #expect(try await store.userCount() == 2)
        #expect(try await store.users().map(\.name) == ["ada", "bob"])
        #expect(try await store.user(name: "bob")?.isAdmin == false)
        #expect(try await store.user(name: "eve") == nil)
        await expectCode(.conflict) { _ = try await store.createUser(name: "ada", isAdmin: false) }
        for bad in ["", "Ada", "../x", "a b", "-x", String(repeating: "a", count: 65), "nul\u{0}"] {
            await expectCode(.invalidArgument) { _ = try await store.createUser(name: bad, isAdmin: false) }
        }
    }

    private func organizations(_ store: any AccountStore) async throws {
        _ = try await store.createUser(name: "ada", isAdmin: false)
        _ = try await store.createUser(name: "bob", isAdmin: false)
        let vision = try await store.createOrganization(name: "vision", owner: "ada")
        #expect(try await store.organization(name: "vision") == vision)
        await expectCode(.conflict) { _ = try await store.createOrganization(name: "bob", owner: "ada") }
        await expectCode(.conflict) { _ = try await store.createUser(name: "vision", isAdmin: false) }
        await expectCode(.notFound) { _ = try await store.createOrganization(name: "nlp", owner: "eve") }
        try await store.setMembership(organization: "vision", user: "bob", role: .member)
        #expect(
            try await store.members(organization: "vision") == [
                Membership(organization: "vision", user: "ada", role: .owner),
                Membership(organization: "vision", user: "bob", role: .member),
            ]
        )
        #expect(try await store.memberships(user: "bob").map(\.organization) == ["vision"])
        await expectCode(.conflict) { try await store.removeMembership(organization: "vision", user: "ada") }
        await expectCode(.conflict) {
            try await store.setMembership(organization: "vision", user: "ada", role: .member)
        }
        try await store.setMembership(organization: "vision", user: "bob", role: .owner)
        try await store.removeMembership(organization: "vision", user: "ada")
        #expect(try await store.memberships(user: "ada").isEmpty)
        await expectCode(.notFound) { try await store.removeMembership(organization: "vision", user: "ada") }
        await expectCode(.notFound) { try await store.setMembership(organization: "nope", user: "ada", role: .member) }
    }

    private func keys(_ store: any AccountStore) async throws {
        _ = try await store.createUser(name: "ada", isAdmin: false)
        _ = try await store.createUser(name: "bob", isAdmin: false)
        let secret = APIKeySecret.generate()
        #expect(secret.hasPrefix("qk_") && secret.count == 43)
        #expect(APIKeySecret.generate() != secret)
        let hash = APIKeySecret.hash(secret)
        let key = try await store.createAPIKey(
            NewAPIKey(user: "ada", label: "laptop", prefix: APIKeySecret.prefix(of: secret), hash: hash)
        )
        #expect(key.prefix == String(secret.prefix(10)))
        #expect(try await store.apiKey(hash: hash)?.user.name == "ada")
        #expect(try await store.apiKey(hash: APIKeySecret.hash(secret + "x")) == nil)
        await expectCode(.notFound) { _ = try await store.revokeAPIKey(id: key.id, user: "bob") }
        let revoked = try await store.revokeAPIKey(id: key.id, user: "ada")
        #expect(revoked.revokedAt != nil)
        #expect(try await store.revokeAPIKey(id: key.id, user: "ada").revokedAt == revoked.revokedAt)
        #expect(try await store.apiKey(hash: hash) == nil)
        #expect(try await store.apiKeys(user: "ada").map(\.label) == ["laptop"])
        await expectCode(.notFound) {
            _ = try await store.createAPIKey(NewAPIKey(user: "eve", label: "x", prefix: "qk_", hash: "00"))
        }
    }
}
