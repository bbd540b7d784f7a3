import ArgumentParser
import Foundation
import QuillCore

/// Turns errors that reach the top of `quill` without a message of their own into one line that says
/// what to do: a port already in use, a negative number where an option wanted a count.
enum CommandErrors {
    /// A readable error for a failure of a parsed command, or `nil` to print the error as it is.
    static func explain(_ error: any Error, command: any ParsableCommand) -> QuillError? {
        // Only the listening socket's errors: NIO names the failed call (`bind(descriptor:ptr:bytes:)`).
        guard let serve = command as? ServeCommand, String(describing: error).contains("bind"),
            let code = errno(of: error)
        else { return nil }
        switch code {
        case EADDRINUSE:
            return QuillError(
                .io,
                "port \(serve.port) on \(serve.host) is in use; pass --port N or stop the other server"
            )
        case EACCES:
            return QuillError(
                .io,
                "no permission to bind port \(serve.port) on \(serve.host); pick a port above 1023 with --port N"
            )
        case EADDRNOTAVAIL:
            return QuillError(
                .io,
                "this machine has no address \(serve.host); pass --host with one of its addresses, e.g. 127.0.0.1"
            )
        default:
            return nil
        }
    }

    /// The `errno` a system-call error carries (NIO's `IOError` stores it as `error: .errno(code)` and
    /// prints `… (errno: 98)`), also when another error wraps it, or `nil`.
    static func errno(of error: any Error) -> Int32? {
        if let code = errno(in: Mirror(reflecting: error), depth: 4) { return code }
        let text = String(describing: error)
        guard let match = text.firstMatch(of: #/\(errno: ([0-9]+)\)/#) else { return nil }
        return Int32(match.1)
    }

    private static func errno(in mirror: Mirror, depth: Int) -> Int32? {
        guard depth > 0 else { return nil }
        for child in mirror.children {
            if child.label == "errno", let code = child.value as? Int32 { return code }
            if let code = errno(in: Mirror(reflecting: child.value), depth: depth - 1) { return code }
        }
        return nil
    }

    /// The line to print for a command-line usage error. A negative number after an option that takes a
    /// number reads to the parser as another option (`--limit -1` is "Missing value"); that case gets a
    /// line naming the option and what it takes.
    static func usageMessage(_ message: String, arguments: [String]) -> String {
        let text = message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message
        if let match = text.firstMatch(of: #/^Missing value for '(-[-A-Za-z0-9]+)/#) {
            let option = String(match.1)
            if let position = arguments.firstIndex(of: option), position + 1 < arguments.count {
                let value = arguments[position + 1]
                if isNegativeNumber(value) {
                    return "\(option) takes a number of 0 or more, not \(value)"
                }
            }
        }
        if text.hasPrefix("Unknown option '-") || text.hasPrefix("Missing expected argument"),
            let negative = arguments.prefix(while: { $0 != "--" }).first(where: isNegativeNumber)
        {
            // A negative number where an argument (`quill keys revoke -1`) was expected.
            return "\(negative) is not accepted here: numbers on the command line are 0 or more"
        }
        return text
    }

    private static func isNegativeNumber(_ text: String) -> Bool {
        text.count > 1 && text.hasPrefix("-") && text.dropFirst().allSatisfy { $0.isNumber || $0 == "." }
    }
}
