import ArgumentParser
import Foundation
import QuillCore
import QuillStore

/// `quill users create|list`: a server's users, managed on the server's machine through its data folder.
struct UsersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users",
        abstract: "Create and list a server's users (on the server's machine).",
        discussion: """
            These commands open the server's database directly (--store, default quill.db in --data, default \
            $QUILL_HOME/server), so they work while `quill serve` runs and before any user exists. The first user turns authentication on: \
            from then on every request needs an API key. An administrator can also create users through the \
            API (POST /api/v1/users).
            """,
        subcommands: [Create.self, List.self]
    )

    struct DataOptions: ParsableArguments {
        @Option(help: ArgumentHelp("The server's data folder (default: $QUILL_HOME/server).", valueName: "dir"))
        var data: String?

        @OptionGroup var storeOptions: StoreOptions

        @OptionGroup var homeOptions: HomeOptions

        @Flag(help: "Print JSON.")
        var json = false

        /// The data folder: --data, else `$QUILL_HOME/server`.
        var folder: String { data ?? homeOptions.quillHome.path + "/server" }

        /// The server's stores, through ``StoreFactory``.
        func stores() throws -> OpenedStores {
            try StoreFactory.open(StoreFactory.url(storeOptions.store, data: folder), data: folder, blobs: .sharing)
        }

        /// How to name this store to other commands: `--store URL` when given, else `--data DIR`.
        var storeArgument: String {
            storeOptions.store == nil ? "--data DIR" : "--store URL"
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a user and print the user's first API key.",
            discussion: "The first user of a server is always an administrator."
        )

        @OptionGroup var options: DataOptions

        @Argument(help: "The user's name (a-z, 0-9, '-', '_'), also the user's namespace.")
        var name: String

        @Flag(help: "Make the user an administrator (may create users and see every project).")
        var admin = false

        func run() async throws {
            let stores = try options.stores()
            try await stores.whileRunning { try await create(stores) }
        }

        private func create(_ stores: OpenedStores) async throws {
            let store = stores.backend
            let database = stores.location
            let first = try await store.userCount() == 0
            let user = try await store.createUser(name: name, isAdmin: admin || first)
            let secret = APIKeySecret.generate()
            _ = try await store.createAPIKey(
                NewAPIKey(
                    user: user.name,
                    label: "default",
                    prefix: APIKeySecret.prefix(of: secret),
                    hash: APIKeySecret.hash(secret)
                )
            )
            // Only a server that announced this very store in the data folder counts.
            let server = ServerPresence.live(in: options.folder).flatMap { $0.database == database ? $0 : nil }
            if options.json {
                return Console.printJSON([
                    "user": .string(user.name), "is_admin": .bool(user.isAdmin), "api_key": .string(secret),
                    "database": .string(database),
                    "server": server.map { ["pid": .int(Int($0.pid)), "url": .string($0.url)] } ?? .null,
                ])
            }
            var list = KeyValueList()
            list.append("user", user.name + (user.isAdmin ? " (administrator)" : ""))
            list.append("API key", secret)
            list.append("database", database)
            Console.print("created a user")
            Console.print(list.render())
            let login = server?.url ?? "URL"
            Console.print("the key is shown only now: save it with `quill login --server \(login) --key …`")
            if let server {
                if first {
                    Console.print(
                        "this is the first user of the server at \(server.url) (pid \(server.pid)): from now on every request to it needs an API key"
                    )
                }
            } else {
                if first {
                    Console.print(
                        "this is the first user of \(database): a server on this store needs an API key for every request"
                    )
                }
                Console.warn(
                    "no running `quill serve` uses \(database); a server started on another store does not know this user: create it there with \(options.storeArgument) (what `quill serve` printed at start)"
                )
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the users.")

        @OptionGroup var options: DataOptions

        func run() async throws {
            let stores = try options.stores()
            let users = try await stores.whileRunning { try await stores.backend.users() }
            if options.json {
                return Console.printJSON([
                    "users": .array(
                        users.map {
                            [
                                "name": .string($0.name), "is_admin": .bool($0.isAdmin),
                                "created_at": .string(Timestamp.string($0.createdAt)),
                            ]
                        }
                    )
                ])
            }
            var table = Table(headers: ["USER", "ADMIN", "CREATED"])
            for user in users {
                table.append([user.name, user.isAdmin ? "yes" : "", Formatting.time(user.createdAt)])
            }
            Console.print(users.isEmpty ? "no users: the server runs in single-user mode" : table.render())
        }
    }
}
