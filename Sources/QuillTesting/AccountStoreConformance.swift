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
    case namespacesHoldingProjectsAreTaken
    case firstUserReceivesOwnerlessNamespaces
    case concurrentCreatesOfOneNameConflict

    /// The check's name in test output.
    public var testDescription: String { rawValue }

    /// Runs the check on an empty store (accounts and projects share one space of namespaces).
    public func check(_ store: any AccountStore & TrackingStore) async throws {
        switch self {
        case .usersAndNamespaces: try await users(store)
        case .organizationsAndMembers: try await organizations(store)
        case .apiKeysByHashAndRevocation: try await keys(store)
        case .namespacesHoldingProjectsAreTaken: try await takenNamespaces(store)
        case .firstUserReceivesOwnerlessNamespaces: try await handOver(store)
        case .concurrentCreatesOfOneNameConflict: try await concurrentCreates(store)
        }
    }

    private func takenNamespaces(_ store: any AccountStore & TrackingStore) async throws {
        _ = try await store.createUser(name: "root", isAdmin: true)
        // A namespace that holds projects is taken, whoever asks and however the name is spelled.
        _ = try await store.project(namespace: "team", displayName: "p")
        for spelling in ["team", "Team", "TEAM", "ｔｅａｍ", "Ｔｅａｍ"] {
            await expectCode(.conflict) { _ = try await store.createOrganization(name: spelling, owner: "root") }
            await expectCode(.conflict) { _ = try await store.createUser(name: spelling, isAdmin: false) }
        }
        // Users and organizations collide both ways, normalized.
        _ = try await store.createUser(name: "ada", isAdmin: false)
        _ = try await store.createOrganization(name: "Vision", owner: "ada")
        #expect(try await store.organization(name: "vision") != nil)
        for spelling in ["ADA", "ａｄａ", "vision", "VISION", "ｖｉｓｉｏｎ"] {
            await expectCode(.conflict) { _ = try await store.createOrganization(name: spelling, owner: "ada") }
            await expectCode(.conflict) { _ = try await store.createUser(name: spelling, isAdmin: false) }
        }
        // Look-alikes from other scripts are not names at all.
        for lookAlike in ["аda", "vіsion"] {
            await expectCode(.invalidArgument) { _ = try await store.createUser(name: lookAlike, isAdmin: false) }
        }
        #expect(try await store.memberships(user: "root").isEmpty)
    }

    private func handOver(_ store: any AccountStore & TrackingStore) async throws {
        // Single-user mode: projects in `local` and in a namespace named after the coming first user.
        _ = try await store.project(namespace: "local", displayName: "p")
        _ = try await store.project(namespace: "ada", displayName: "q")
        _ = try await store.project(namespace: "shared", displayName: "r")
        let ada = try await store.createUser(name: "ada", isAdmin: true)
        #expect(ada.name == "ada")
        #expect(
            try await store.memberships(user: "ada") == [
                Membership(organization: "local", user: "ada", role: .owner),
                Membership(organization: "shared", user: "ada", role: .owner),
            ]
        )
        // Nobody else can claim them now, and a later user receives nothing.
        _ = try await store.createUser(name: "bob", isAdmin: false)
        await expectCode(.conflict) { _ = try await store.createOrganization(name: "local", owner: "bob") }
        #expect(try await store.memberships(user: "bob").isEmpty)
    }

    private func concurrentCreates(_ store: any AccountStore & TrackingStore) async throws {
        _ = try await store.createUser(name: "root", isAdmin: true)
        // Users and organizations of one name, created at the same time: exactly one of each name is made,
        // every other attempt is a conflict (HTTP 409), never another error.
        for round in 0..<5 {
            let name = "team\(round)"
            let outcomes = await withTaskGroup(of: QuillError.Code?.self) { group in
                for attempt in 0..<6 {
                    group.addTask {
                        do {
                            if attempt.isMultiple(of: 2) {
                                _ = try await store.createUser(name: name, isAdmin: false)
                            } else {
                                _ = try await store.createOrganization(name: name.uppercased(), owner: "root")
                            }
                            return nil
                        } catch let error as QuillError {
                            return error.code
                        } catch {
                            return .io
                        }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == nil }.count == 1, "\(outcomes)")
            #expect(outcomes.filter { $0 == .conflict }.count == 5, "\(outcomes)")
        }
        // A key whose secret hashes like another's is a conflict too.
        _ = try await store.createAPIKey(
            NewAPIKey(user: "root", label: "a", prefix: "qk_a", hash: String(repeating: "a", count: 64))
        )
        await expectCode(.conflict) {
            _ = try await store.createAPIKey(
                NewAPIKey(user: "root", label: "b", prefix: "qk_a", hash: String(repeating: "a", count: 64))
            )
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

    private func users(_ store: any AccountStore & TrackingStore) async throws {
        #expect(try await store.userCount() == 0)
        let ada = try await store.createUser(name: "ada", isAdmin: true)
        #expect(ada.isAdmin)
        _ = try await store.createUser(name: "bob", isAdmin: false)
        #expect(try await store.userCount() == 2)
        #expect(try await store.users().map(\.name) == ["ada", "bob"])
        #expect(try await store.user(name: "bob")?.isAdmin == false)
        #expect(try await store.user(name: "eve") == nil)
        await expectCode(.conflict) { _ = try await store.createUser(name: "ada", isAdmin: false) }
        await expectCode(.conflict) { _ = try await store.createUser(name: "Ada", isAdmin: false) }
        #expect(try await store.createUser(name: "Carol", isAdmin: false).name == "carol")
        for bad in ["", "../x", "a b", "-x", String(repeating: "a", count: 65), "nul\u{0}"] {
            await expectCode(.invalidArgument) { _ = try await store.createUser(name: bad, isAdmin: false) }
        }
    }

    private func organizations(_ store: any AccountStore & TrackingStore) async throws {
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

    private func keys(_ store: any AccountStore & TrackingStore) async throws {
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
