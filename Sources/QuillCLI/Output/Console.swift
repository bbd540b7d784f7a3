import Foundation
import QuillCore

/// Writes the CLI's output: text or JSON to standard output, errors to standard error.
enum Console {
    static func print(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func printError(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Prints a JSON value, pretty, for `--json`.
    static func printJSON(_ value: JSONValue) {
        FileHandle.standardOutput.write(Data(JSONWriter.pretty(value)))
    }

    /// Prints a warning line to standard error.
    static func warn(_ text: String) {
        printError("warning: \(text)")
    }
}
