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
            let key = try server.call("POST", APIPath.keys, json: ["label": .string(label)])
            if options.json { return Console.printJSON(key) }
            var list = KeyValueList()
            list.append("id", key["id"]?.intValue.map(String.init) ?? "?")
            list.append("label", key["label"]?.stringValue ?? "")
            list.append("key", key["key"]?.stringValue ?? "")
            Console.print("created an API key for \(key["user"]?.stringValue ?? "you") on \(server.baseURL)")
            Console.print(list.render())
            Console.print("the key is shown only now: save it, e.g. `quill login --server \(server.baseURL)`")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List your keys (never the keys themselves).")

        @OptionGroup var options: AccountServerOptions

        func run() async throws {
            let server = try ServerClient(server: options.server)
            let keys = try server.call("GET", APIPath.keys)
            if options.json { return Console.printJSON(keys) }
            var table = Table(headers: ["ID", "PREFIX", "LABEL", "CREATED", "STATUS"], rightAligned: [0])
            for key in keys["keys"]?.arrayValue ?? [] {
                let revoked = key["revoked_at"]?.stringValue
                table.append([
                    key["id"]?.intValue.map(String.init) ?? "?", (key["prefix"]?.stringValue ?? "") + "…",
                    key["label"]?.stringValue ?? "", Formatting.time(key["created_at"]?.stringValue),
                    revoked.map { "revoked \(Formatting.time($0))" } ?? "active",
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
            let key = try server.call("DELETE", APIPath.key(Int64(id)))
            if options.json { return Console.printJSON(key) }
            Console.print(
                "revoked key \(id) (\(key["prefix"]?.stringValue ?? "")…, \(key["label"]?.stringValue ?? ""))"
            )
        }
    }
}
