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
struct AccountRoutes {
    let api: APIContext

    func register(_ group: RouterGroup<QuillRequestContext>) {
        group.get("whoami") { _, context in try JSONResponse.make(whoami(context.caller)) }
        group.get("users") { _, context in
            try requireAdmin(context.caller)
            return try JSONResponse.make(APIUserList(users: try await api.accounts.users().map(DTO.user)))
        }
        group.post("users") { request, context in try await createUser(request, context) }
        group.get("keys") { _, context in
            let user = try requireUser(context.caller)
            return try JSONResponse.make(
                APIKeyList(keys: try await api.accounts.apiKeys(user: user).map { DTO.apiKey($0) })
            )
        }
        group.post("keys") { request, context in
            let user = try requireUser(context.caller)
            let body = try await api.body(APIKeyCreate.self, request, allowEmpty: true)
            let created = try await createKey(user: user, label: body.label ?? "default")
            return try JSONResponse.make(created, status: .created)
        }
        group.delete("keys/:key") { _, context in
            let user = try requireUser(context.caller)
            let text = try context.parameters.require("key")
            guard let id = Int64(text) else { throw QuillError(.notFound, "API key \(text) not found") }
            let key = try await api.accounts.revokeAPIKey(id: id, user: user)
            api.authenticator.invalidate()
            return try JSONResponse.make(DTO.apiKey(key))
        }
        group.post("orgs") { request, context in
            let user = try requireUser(context.caller)
            let body = try await api.body(APIOrganizationCreate.self, request)
            let organization = try await api.accounts.createOrganization(
                name: body.name,
                owner: user
            )
            api.authenticator.invalidate()
            return try JSONResponse.make(try await organizationJSON(organization.name), status: .created)
        }
        group.get("orgs/:org") { _, context in
            let name = try context.parameters.require("org")
            try await requireMember(context.caller, of: name)
            return try JSONResponse.make(try await organizationJSON(name))
        }
        group.put("orgs/:org/members/:user") { request, context in
            let name = try context.parameters.require("org")
            try await requireOwner(context.caller, of: name)
            let body = try await api.body(APIMembershipUpdate.self, request, allowEmpty: true)
            let roleText = body.role ?? MembershipRole.member.rawValue
            guard let role = MembershipRole(rawValue: roleText) else {
                throw QuillError(.invalidArgument, "body.role must be owner or member")
            }
            try await api.accounts.setMembership(
                organization: name,
                user: try context.parameters.require("user"),
                role: role
            )
            api.authenticator.invalidate()
            return try JSONResponse.make(try await organizationJSON(name))
        }
        group.delete("orgs/:org/members/:user") { _, context in
            let name = try context.parameters.require("org")
            let member = try context.parameters.require("user")
            if context.caller.userName != member { try await requireOwner(context.caller, of: name) }
            try await api.accounts.removeMembership(organization: name, user: member)
            api.authenticator.invalidate()
            return try JSONResponse.make(try await organizationJSON(name))
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
        try requireAdmin(context.caller)
        let body = try await api.body(APIUserCreate.self, request)
        let name = body.name
        var isAdmin = body.admin ?? false
        // The first user of a single-user server administers it: otherwise nobody could.
        if context.caller == .singleUser { isAdmin = true }
        let user = try await api.accounts.createUser(name: name, isAdmin: isAdmin)
        let key = try await createKey(user: user.name, label: "default")
        api.authenticator.invalidate()
        return try JSONResponse.make(APIUserCreated(user: DTO.user(user), apiKey: key), status: .created)
    }

    /// Makes a key and returns its record with the key itself, which is shown this once.
    private func createKey(user: String, label: String) async throws -> APIKeyRecord {
        try RequestRules.refuseNUL(label, "body.label")
        guard label.unicodeScalars.count <= 200 else {
            throw QuillError(.invalidArgument, "body.label is longer than 200 characters")
        }
        let secret = APIKeySecret.generate()
        let stored = try await api.accounts.createAPIKey(
            NewAPIKey(
                user: user,
                label: label,
                prefix: APIKeySecret.prefix(of: secret),
                hash: APIKeySecret.hash(secret)
            )
        )
        return DTO.apiKey(stored, secret: secret)
    }

    private func organizationJSON(_ name: String) async throws -> APIOrganization {
        guard let organization = try await api.accounts.organization(name: name) else {
            throw QuillError(.notFound, "organization '\(name)' not found")
        }
        let members = try await api.accounts.members(organization: name).map {
            APIMember(user: $0.user, role: $0.role.rawValue)
        }
        return APIOrganization(name: organization.name, createdAt: organization.createdAt, members: members)
    }

    private func requireAdmin(_ caller: Caller) throws {
        switch caller {
        case .singleUser: return
        case .user(let user) where user.isAdmin: return
        case .user: throw QuillError(.forbidden, "only an administrator may manage users")
        case .anonymous: throw unauthorized()
        }
    }

    private func requireUser(_ caller: Caller) throws -> String {
        switch caller {
        case .user(let user): return user.name
        case .anonymous: throw unauthorized()
        case .singleUser:
            throw QuillError(
                .conflict,
                "this server has no users (single-user mode), so it has no API keys or organizations; create the first user with `quill users create NAME`"
            )
        }
    }

    private func requireMember(_ caller: Caller, of organization: String) async throws {
        let notFound = QuillError(.notFound, "organization '\(organization)' not found")
        switch caller {
        case .singleUser: return
        case .anonymous: throw unauthorized()
        case .user(let user):
            if user.isAdmin || user.organizations[organization] != nil { return }
            throw notFound
        }
    }

    private func requireOwner(_ caller: Caller, of organization: String) async throws {
        try await requireMember(caller, of: organization)
        if case .user(let user) = caller, !user.isAdmin, user.organizations[organization] != .owner {
            throw QuillError(.forbidden, "only an owner of '\(organization)' may manage its members")
        }
    }

    private func unauthorized() -> QuillError {
        QuillError(.unauthorized, "this request needs an API key; set QUILL_API_KEY or run `quill login --server URL`")
    }
}
