import Foundation
import QuillCore

/// A batch job to submit: the `#!/bin/sh` script Quill writes and the `sbatch` options it submits it with.
///
/// One ``Task`` is a plain job; several are an array job (`--array=0-N%M`) whose script runs task `i`'s command
/// for `SLURM_ARRAY_TASK_ID=i`. Standard output and error go to ``outputPath`` in append mode, so a requeued
/// job's next attempt adds to what the last one wrote.
package struct SlurmBatchScript: Sendable, Hashable {
    /// One command the script runs.
    package struct Task: Sendable, Hashable {
        /// The command and its arguments (the first looked up on the node's `PATH`).
        package var argv: [String]
        /// Variables exported for this command only.
        package var environment: [String: String]
        /// A file this command's standard output and error are appended to instead of the job's output file
        /// (an array task's own log), or `nil`.
        package var outputPath: String?

        /// A command.
        package init(argv: [String], environment: [String: String] = [:], outputPath: String? = nil) {
            self.argv = argv
            self.environment = environment
            self.outputPath = outputPath
        }
    }

    /// The job's name (`--job-name`).
    package var name: String
    /// What it asks the cluster for.
    package var parameters: SlurmParameters
    /// The commands: one for a plain job, one per array task.
    package var tasks: [Task]
    /// Variables exported for every task.
    package var environment: [String: String]
    /// The directory the job starts in (`--chdir`), or `nil` for the directory `sbatch` runs in.
    package var workingDirectory: String?
    /// The output file (`--output`; standard error goes there too). It may use SLURM's `%j` (the job's own id),
    /// `%A` (the array job's id) and `%a` (the task index); ``outputPath(for:rawID:)`` resolves them.
    package var outputPath: String
    /// The array's throttle (`%M`: at most this many tasks at once), or `nil` for no limit.
    package var maxParallel: Int?

    /// A batch job.
    package init(
        name: String,
        parameters: SlurmParameters = SlurmParameters(),
        tasks: [Task],
        environment: [String: String] = [:],
        workingDirectory: String? = nil,
        outputPath: String,
        maxParallel: Int? = nil
    ) {
        self.name = name
        self.parameters = parameters
        self.tasks = tasks
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.outputPath = outputPath
        self.maxParallel = maxParallel
    }

    /// Whether it is submitted as an array job (more than one task).
    package var isArray: Bool { tasks.count > 1 }

    /// Checks the job before it is written.
    ///
    /// - Throws: ``QuillCore/QuillError`` with code `invalidArgument` for no task, a task without a command, a
    ///   throttle below 1, a relative output path or invalid parameters.
    package func validate() throws {
        try parameters.validate()
        guard !tasks.isEmpty else { throw QuillError(.invalidArgument, "a SLURM batch job needs a command") }
        for task in tasks where task.argv.first?.isEmpty ?? true {
            throw QuillError(.invalidArgument, "a SLURM batch job needs a command; put it after `--`")
        }
        if let maxParallel, maxParallel < 1 {
            throw QuillError(.invalidArgument, "an array's parallel limit must be at least 1, not \(maxParallel)")
        }
        for path in [outputPath] + tasks.compactMap(\.outputPath) where !path.hasPrefix("/") {
            throw QuillError(.invalidArgument, "a SLURM job's output path must be absolute, not '\(path)'")
        }
        for name in environment.keys.sorted() + tasks.flatMap({ $0.environment.keys.sorted() })
        where !Self.isVariableName(name) {
            throw QuillError(.invalidArgument, "'\(name)' is not an environment variable name a shell can export")
        }
    }

    /// The `sbatch` options, before the script's path: `--parsable`, the name, output, array and parameters.
    package var sbatchArguments: [String] {
        var arguments = [
            "--parsable", "--job-name=\(name)", "--output=\(outputPath)", "--open-mode=append", "--requeue",
        ]
        if let workingDirectory { arguments.append("--chdir=\(workingDirectory)") }
        if isArray {
            arguments.append("--array=0-\(tasks.count - 1)" + (maxParallel.map { "%\($0)" } ?? ""))
        }
        return arguments + parameters.sbatchArguments
    }

    /// The script's text.
    package var text: String {
        var lines = ["#!/bin/sh", "# Written by Quill for \(Self.quote(name)); submitted with sbatch."]
        for (key, value) in environment.sorted(by: { $0.key < $1.key }) {
            lines.append("export \(key)=\(Self.quote(value))")
        }
        if isArray {
            lines.append("case \"${SLURM_ARRAY_TASK_ID:-}\" in")
            for (index, task) in tasks.enumerated() {
                lines.append("\(index)) \(Self.commandLine(task)) ;;")
            }
            lines.append("*) echo \"quill: no command for array task ${SLURM_ARRAY_TASK_ID:-}\" >&2; exit 2 ;;")
            lines.append("esac")
        } else if let task = tasks.first {
            lines.append(Self.commandLine(task))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The output file of the job or task `id` whose own SLURM id is `rawID` (`%j`; needed only when the path
    /// uses `%j`).
    package func outputPath(for id: SlurmJobID, rawID: Int64? = nil) -> String {
        var result = ""
        var iterator = outputPath.makeIterator()
        while let character = iterator.next() {
            guard character == "%" else {
                result.append(character)
                continue
            }
            switch iterator.next() {
            case "j": result += String(rawID ?? id.job)
            case "A": result += String(id.job)
            case "a": result += id.task.map(String.init) ?? "4294967294"
            case "x": result += name
            case "%": result += "%"
            case let other?: result += "%" + String(other)
            case nil: result += "%"
            }
        }
        return result
    }

    private static func commandLine(_ task: Task) -> String {
        let exports = task.environment.sorted(by: { $0.key < $1.key }).map { "export \($0.key)=\(quote($0.value)); " }
        let redirect = task.outputPath.map { "exec >>\(quote($0)) 2>&1; " } ?? ""
        return exports.joined() + redirect + "exec " + task.argv.map(quote).joined(separator: " ")
    }

    /// `text` quoted for `sh`.
    package static func quote(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    private static func isVariableName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic)
        else { return false }
        return name.unicodeScalars.allSatisfy {
            $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)))
        }
    }
}
