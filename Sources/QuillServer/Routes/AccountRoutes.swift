import Foundation
import Hummingbird
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
        group.get("whoami") { _, context in JSONResponse.make(try await whoami(context.caller)) }
        group.get("users") { _, context in
            let administration = try authorization.administerUsers(context.caller)
            return JSONResponse.make(["users": .array(try await authorization.users(administration).map(DTO.user))])
        }
        group.post("users") { request, context in try await createUser(request, context) }
        group.get("keys") { _, context in
            let user = try authorization.signedInUser(context.caller)
            return JSONResponse.make(["keys": .array(try await authorization.keys(of: user).map(DTO.apiKey))])
        }
        group.post("keys") { request, context in
            let user = try authorization.signedInUser(context.caller)
            let body = try JSONObjectReader(try await api.json(request, allowEmpty: true))
            try body.allowOnly(["label"])
            let created = try await authorization.createKey(label: try body.string("label") ?? "default", for: user)
            return JSONResponse.make(Self.json(created), status: .created)
        }
        group.delete("keys/:key") { _, context in
            let user = try authorization.signedInUser(context.caller)
            let key = try await authorization.revokeKey(try context.parameters.require("key"), of: user)
            return JSONResponse.make(DTO.apiKey(key))
        }
        group.post("orgs") { request, context in
            let user = try authorization.signedInUser(context.caller)
            let body = try JSONObjectReader(try await api.json(request))
            try body.allowOnly(["name"])
            let organization = try await authorization.createOrganization(
                name: try body.requiredString("name"),
                owner: user
            )
            return JSONResponse.make(Self.json(organization), status: .created)
        }
        group.get("orgs/:org") { _, context in
            let name = try context.parameters.require("org")
            return JSONResponse.make(Self.json(try await authorization.readOrganization(name, context.caller)))
        }
        group.put("orgs/:org/members/:user") { request, context in
            let administration = try authorization.manageMembers(
                of: try context.parameters.require("org"),
                context.caller
            )
            let body = try JSONObjectReader(try await api.json(request, allowEmpty: true))
            try body.allowOnly(["role"])
            let roleText = try body.string("role") ?? MembershipRole.member.rawValue
            guard let role = MembershipRole(rawValue: roleText) else {
                throw QuillError(.invalidArgument, "body.role must be owner or member")
            }
            let organization = try await authorization.setMembership(
                user: try context.parameters.require("user"),
                role: role,
                administration
            )
            return JSONResponse.make(Self.json(organization))
        }
        group.delete("orgs/:org/members/:user") { _, context in
            let organization = try await authorization.removeMember(
                try context.parameters.require("user"),
                from: try context.parameters.require("org"),
                context.caller
            )
            return JSONResponse.make(Self.json(organization))
        }
    }

    private func whoami(_ caller: Caller) async throws -> JSONValue {
        switch caller {
        case .singleUser:
            return ["mode": "single_user", "user": .null, "is_admin": true, "organizations": []]
        case .anonymous:
            return ["mode": "anonymous", "user": .null, "is_admin": false, "organizations": []]
        case .user(let user):
            let organizations: [JSONValue] = user.organizations.sorted { $0.key < $1.key }.map {
                ["name": .string($0.key), "role": .string($0.value.rawValue)]
            }
            return [
                "mode": "user", "user": .string(user.name), "is_admin": .bool(user.isAdmin),
                "organizations": .array(organizations),
            ]
        }
    }

    private func createUser(_ request: Request, _ context: QuillRequestContext) async throws -> Response {
        let administration = try api.authorization.administerUsers(context.caller)
        let body = try JSONObjectReader(try await api.json(request))
        try body.allowOnly(["name", "admin"])
        let name = try body.requiredString("name")
        var isAdmin = false
        if let admin = body.members["admin"], admin != .null {
            guard case .bool(let flag) = admin else {
                throw QuillError(.invalidArgument, "body.admin must be a boolean")
            }
            isAdmin = flag
        }
        let (user, key) = try await api.authorization.createUser(name: name, isAdmin: isAdmin, administration)
        return JSONResponse.make(["user": DTO.user(user), "api_key": Self.json(key)], status: .created)
    }

    /// A new key's record with the key itself, which is shown this once.
    private static func json(_ created: CreatedAPIKey) -> JSONValue {
        var json = DTO.apiKey(created.record)
        json["key"] = .string(created.secret)
        return json
    }

    private static func json(_ organization: OrganizationMembers) -> JSONValue {
        let members: [JSONValue] = organization.members.map {
            ["user": .string($0.user), "role": .string($0.role.rawValue)]
        }
        return [
            "name": .string(organization.organization.name),
            "created_at": DTO.time(organization.organization.createdAt),
            "members": .array(members),
        ]
    }
}
