import ArgumentParser

/// The command a user gives after `--` to `quill run` and `quill submit`, captured with
/// `.captureForPassthrough`.
///
/// Options are read up to the first word that is not one of quill's, so what comes first and starts with a
/// dash is quill's help or a mistyped option, never the command.
enum CommandAfterDashes {
    /// The command without the `--` that separates it.
    static func arguments(_ captured: [String]) -> [String] {
        captured.first == "--" ? Array(captured.dropFirst()) : captured
    }

    /// Refuses a mistyped option and an empty command with a one-line error naming the fix; answers a help
    /// request with the subcommand's help.
    static func validate(_ captured: [String], subcommand: String, help: any ParsableCommand.Type) throws {
        if let first = captured.first, first != "--", first.hasPrefix("-") {
            if ["-h", "--help", "-help"].contains(first) { throw CleanExit.helpRequest(help) }
            throw ValidationError(
                "unknown option '\(first)' for quill \(subcommand); put the command after --, e.g. `quill \(subcommand) -- python train.py`"
            )
        }
        if arguments(captured).isEmpty {
            throw ValidationError("give the command to run after --, e.g. `quill \(subcommand) -- python train.py`")
        }
    }
}
