import ArgumentParser
import Foundation
import QuillAPI
import QuillClient
import QuillCore

/// `quill orgs create|show|add-member|remove-member`: organizations on a server.
struct OrgsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orgs",
        abstract: "Create organizations and manage their members.",
        discussion: """
            An organization is a namespace its members share: `quill run --project ORG/NAME`, or a project \
            created with namespace ORG. Its owners manage members and see all its projects; members see its \
            internal and public projects and the private ones they created.
            """,
        subcommands: [Create.self, Show.self, AddMember.self, RemoveMember.self]
    )

    static func printOrganization(_ answer: (value: APIOrganization, json: JSONValue), json: Bool) {
        if json { return Console.printJSON(answer.json) }
        Console.print("organization \(answer.value.name)")
        var table = Table(headers: ["MEMBER", "ROLE"])
        for member in answer.value.members { table.append([member.user, member.role]) }
        Console.print(table.render())
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an organization; you become its owner.")

        @OptionGroup var options: AccountServerOptions

        @Argument(help: "The name (a-z, 0-9, '-', '_').")
        var name: String

        func run() async throws {
            let server = try ServerClient(server: options.server)
            printOrganization(
                try server.call(
                    APIOrganization.self,
                    "POST",
                    APIPath.organizations,
                    json: try APIEncoder().encode(APIOrganizationCreate(name: name))
                ),
                json: options.json
            )
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show an organization's members.")

        @OptionGroup var options: AccountServerOptions

        @Argument(help: "The organization.")
        var name: String

        func run() async throws {
            let server = try ServerClient(server: options.server)
            printOrganization(
                try server.call(APIOrganization.self, "GET", APIPath.organization(name)),
                json: options.json
            )
        }
    }

    struct AddMember: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-member",
            abstract: "Add a user to an organization, or change the user's role."
        )

        @OptionGroup var options: AccountServerOptions

        @Argument(help: "The organization.")
        var organization: String

        @Argument(help: "The user.")
        var user: String

        @Option(help: "owner or member.")
        var role: String = "member"

        func run() async throws {
            let server = try ServerClient(server: options.server)
            let path = APIPath.organizationMember(organization, user: user)
            let body = try APIEncoder().encode(APIMembershipUpdate(role: role))
            printOrganization(try server.call(APIOrganization.self, "PUT", path, json: body), json: options.json)
        }
    }

    struct RemoveMember: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove-member",
            abstract: "Remove a user from an organization."
        )

        @OptionGroup var options: AccountServerOptions

        @Argument(help: "The organization.")
        var organization: String

        @Argument(help: "The user.")
        var user: String

        func run() async throws {
            let server = try ServerClient(server: options.server)
            let path = APIPath.organizationMember(organization, user: user)
            printOrganization(try server.call(APIOrganization.self, "DELETE", path), json: options.json)
        }
    }
}
