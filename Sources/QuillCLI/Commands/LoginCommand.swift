import ArgumentParser
import Foundation
import QuillAPI
import QuillClient
import QuillCore

/// `quill login`: checks an API key with a server and saves it for the SDK and the CLI.
struct LoginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Save an API key for a server.",
        discussion: """
            The key is checked with the server, then saved in $QUILL_CREDENTIALS (default \
            ~/.quill/credentials.json, readable by you only). The SDK and every command that talks to that \
            server use it when QUILL_API_KEY is not set. Without --key, the key is read from standard input.
            """
    )

    @OptionGroup var options: AccountServerOptions

    @Option(help: ArgumentHelp("The API key (default: read from standard input).", valueName: "key"))
    var key: String?

    func run() async throws {
        let key = try self.key ?? Self.readKey()
        let server = try ServerClient(server: options.server, apiKey: key)
        if try server.client.send("GET", APIPath.whoami).status == 401 {
            throw QuillError(
                .unauthorized,
                "the server at \(server.baseURL) refused this key (mistyped or revoked); paste the key `quill users create` or `quill keys create` printed"
            )
        }
        let whoami = try server.call(APIWhoAmI.self, "GET", APIPath.whoami).value
        switch whoami.mode {
        case "user": break
        case "single_user":
            throw QuillError(
                .invalidArgument,
                "\(server.baseURL) runs in single-user mode and needs no key; create a user there with `quill users create NAME` first"
            )
        default:
            throw QuillError(.unauthorized, "\(server.baseURL) did not accept the key; check it with `quill keys list`")
        }
        let user = whoami.user
        let path = Credentials.path()
        var credentials = try Credentials.load(path: path)
        credentials.servers[server.baseURL] = Credentials.Entry(apiKey: key, user: user)
        try credentials.save(path: path)
        if options.json {
            Console.printJSON([
                "server": .string(server.baseURL), "user": user.map(JSONValue.string) ?? .null,
                "credentials": .string(path),
            ])
        } else {
            Console.print("logged in to \(server.baseURL) as \(user ?? "?"); the key is saved in \(path)")
        }
    }

    static func readKey() throws -> String {
        if isatty(STDIN_FILENO) == 1 {
            FileHandle.standardError.write(Data("API key: ".utf8))
        }
        guard let line = readLine(strippingNewline: true)?.trimmingWhitespace(), !line.isEmpty else {
            throw QuillError(.invalidArgument, "no API key: pass --key KEY or type it on standard input")
        }
        return line
    }
}
