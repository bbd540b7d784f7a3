import Foundation
import Hummingbird
import QuillAPI
import QuillCore
import QuillStore

/// `/api/v1/whoami`, `/api/v1/users`, `/api/v1/keys` and `/api/v1/orgs`: accounts and API keys.
///
/// Users are created by an administrator (or, while the server has no users, by anyone who can reach it:
/// that is how the first user of a single-user server is made); API keys belong to the caller;
/// organizations are created by any user, who becomes their owner, and their owners manage members.
/// The rules, and the changes that alter access, live in ``Authorization`` (`Auth/Authorization+Accounts.swift`).
struct AccountRoutes {
    let api: APIContext

    func register(_ group: RouterGroup<QuillRequestContext>) {
        let authorization = api.authorization
        group.get("whoami") { _, context in try JSONResponse.make(whoami(context.caller)) }
        group.get("users") { _, context in
            let administration = try authorization.administerUsers(context.caller)
            return try JSONResponse.make(
                APIUserList(users: try await authorization.users(administration).map(DTO.user))
            )
        }
        group.post("users") { request, context in try await createUser(request, context) }
        group.get("keys") { _, context in
            let user = try authorization.signedInUser(context.caller)
            return try JSONResponse.make(
                APIKeyList(keys: try await authorization.keys(of: user).map { DTO.apiKey($0) })
            )
        }
        group.post("keys") { request, context in
            let user = try authorization.signedInUser(context.caller)
            let body = try await api.body(APIKeyCreate.self, request, allowEmpty: true)
            let created = try await authorization.createKey(label: body.label ?? "default", for: user)
            return try JSONResponse.make(Self.wire(created), status: .created)
        }
        group.delete("keys/:key") { _, context in
            let user = try authorization.signedInUser(context.caller)
            let key = try await authorization.revokeKey(try context.parameters.require("key"), of: user)
            return try JSONResponse.make(DTO.apiKey(key))
        }
        group.post("orgs") { request, context in
            let user = try authorization.signedInUser(context.caller)
            let body = try await api.body(APIOrganizationCreate.self, request)
            let organization = try await authorization.createOrganization(name: body.name, owner: user)
            return try JSONResponse.make(Self.wire(organization), status: .created)
        }
        group.get("orgs/:org") { _, context in
            let name = try context.parameters.require("org")
            return try JSONResponse.make(Self.wire(try await authorization.readOrganization(name, context.caller)))
        }
        group.put("orgs/:org/members/:user") { request, context in
            let administration = try authorization.manageMembers(
                of: try context.parameters.require("org"),
                context.caller
            )
            let body = try await api.body(APIMembershipUpdate.self, request, allowEmpty: true)
            let roleText = body.role ?? MembershipRole.member.rawValue
            guard let role = MembershipRole(rawValue: roleText) else {
                throw QuillError(.invalidArgument, "body.role must be owner or member")
            }
            let organization = try await authorization.setMembership(
                user: try context.parameters.require("user"),
                role: role,
                administration
            )
            return try JSONResponse.make(Self.wire(organization))
        }
        group.delete("orgs/:org/members/:user") { _, context in
            let organization = try await authorization.removeMember(
                try context.parameters.require("user"),
                from: try context.parameters.require("org"),
                context.caller
            )
            return try JSONResponse.make(Self.wire(organization))
        }
    }

    private func whoami(_ caller: Caller) -> APIWhoAmI {
        switch caller {
        case .singleUser:
            return APIWhoAmI(mode: "single_user", user: nil, isAdmin: true, organizations: [])
        case .anonymous:
            return APIWhoAmI(mode: "anonymous", user: nil, isAdmin: false, organizations: [])
        case .user(let user):
            let organizations = user.organizations.sorted { $0.key < $1.key }.map {
                APIMembership(name: $0.key, role: $0.value.rawValue)
            }
            return APIWhoAmI(mode: "user", user: user.name, isAdmin: user.isAdmin, organizations: organizations)
        }
    }

    private func createUser(_ request: Request, _ context: QuillRequestContext) async throws -> Response {
        let administration = try api.authorization.administerUsers(context.caller)
        let body = try await api.body(APIUserCreate.self, request)
        let (user, key) = try await api.authorization.createUser(
            name: body.name,
            isAdmin: body.admin ?? false,
            administration
        )
        return try JSONResponse.make(APIUserCreated(user: DTO.user(user), apiKey: Self.wire(key)), status: .created)
    }

    /// A new key's record with the key itself, which is shown this once.
    private static func wire(_ created: CreatedAPIKey) -> APIKeyRecord {
        DTO.apiKey(created.record, secret: created.secret)
    }

    private static func wire(_ organization: OrganizationMembers) -> APIOrganization {
        APIOrganization(
            name: organization.organization.name,
            createdAt: organization.organization.createdAt,
            members: organization.members.map { APIMember(user: $0.user, role: $0.role.rawValue) }
        )
    }
}
