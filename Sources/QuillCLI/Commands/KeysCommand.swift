import ArgumentParser
import Foundation
import QuillAPI
import QuillClient
import QuillCore

/// `quill keys create|list|revoke`: the signed-in user's API keys on a server.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Create, list and revoke your API keys on a server.",
        discussion: """
            These commands sign in with QUILL_API_KEY or the key `quill login` saved. The first key of a \
            user comes from `quill users create`.
            """,
        subcommands: [Create.self, List.self, Revoke.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key (it is shown once).")

        @OptionGroup var options: AccountServerOptions

        @Option(help: ArgumentHelp("A label to tell keys apart (laptop, ci).", valueName: "text"))
        var label: String = "default"

        func run() async throws {
            let server = try ServerClient(server: options.server)
            let (key, json) = try server.call(
                APIKeyRecord.self,
                "POST",
                APIPath.keys,
                json: try APIEncoder().encode(APIKeyCreate(label: label))
            )
            if options.json { return Console.printJSON(json) }
            var list = KeyValueList()
            list.append("id", String(key.id))
            list.append("label", key.label)
            list.append("key", key.key ?? "")
            Console.print("created an API key for \(key.user) on \(server.baseURL)")
            Console.print(list.render())
            Console.print("the key is shown only now: save it, e.g. `quill login --server \(server.baseURL)`")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List your keys (never the keys themselves).")

        @OptionGroup var options: AccountServerOptions

        func run() async throws {
            let server = try ServerClient(server: options.server)
            let (keys, json) = try server.call(APIKeyList.self, "GET", APIPath.keys)
            if options.json { return Console.printJSON(json) }
            var table = Table(headers: ["ID", "PREFIX", "LABEL", "CREATED", "STATUS"], rightAligned: [0])
            for key in keys.keys {
                table.append([
                    String(key.id), key.prefix + "…", key.label, Formatting.time(key.createdAt),
                    key.revokedAt.map { "revoked \(Formatting.time($0))" } ?? "active",
                ])
            }
            Console.print(table.render())
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key by its id (see `quill keys list`).")

        @OptionGroup var options: AccountServerOptions

        @Argument(help: "The key's id.")
        var id: Int

        func run() async throws {
            let server = try ServerClient(server: options.server)
            let (key, json) = try server.call(APIKeyRecord.self, "DELETE", APIPath.key(Int64(id)))
            if options.json { return Console.printJSON(json) }
            Console.print("revoked key \(id) (\(key.prefix)…, \(key.label))")
        }
    }
}
