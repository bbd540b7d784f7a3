import Foundation
import QuillCore

/// What a SLURM batch job asks the cluster for: the `sbatch` options Quill passes on.
///
/// Every field is optional; an unset one leaves the cluster's default. ``validate()`` checks each against the
/// forms `sbatch` accepts, so a typo fails at submission in Quill with one line, not later in the queue.
///
/// ```swift
/// var parameters = SlurmParameters()
/// parameters.partition = "gpu"
/// parameters.time = "02:00:00"
/// parameters.gres = "gpu:1"
/// try parameters.validate()
/// ```
public struct SlurmParameters: Sendable, Hashable, Codable {
    /// The partition (`--partition`), or a comma-separated list of partitions.
    public var partition: String?
    /// The time limit (`--time`): `M`, `M:S`, `H:M:S`, `D-H`, `D-H:M`, `D-H:M:S` or `UNLIMITED`.
    public var time: String?
    /// Generic resources (`--gres`), such as `gpu:1` or `gpu:a100:2`.
    public var gres: String?
    /// CPUs for the job's task (`--cpus-per-task`), at least 1.
    public var cpus: Int?
    /// Memory per node (`--mem`): a number with an optional unit, K, M, G or T (`16G`, `500M`).
    public var mem: String?
    /// The account charged (`--account`).
    public var account: String?
    /// The quality of service (`--qos`).
    public var qos: String?
    /// More `sbatch` options, each one argument as `sbatch` takes it (`--constraint=a100`, `--exclusive`).
    public var extraArguments: [String]

    /// Parameters; with nothing set, the job gets the cluster's defaults.
    public init(
        partition: String? = nil,
        time: String? = nil,
        gres: String? = nil,
        cpus: Int? = nil,
        mem: String? = nil,
        account: String? = nil,
        qos: String? = nil,
        extraArguments: [String] = []
    ) {
        self.partition = partition
        self.time = time
        self.gres = gres
        self.cpus = cpus
        self.mem = mem
        self.account = account
        self.qos = qos
        self.extraArguments = extraArguments
    }

    enum CodingKeys: String, CodingKey {
        case partition, time, gres, cpus, mem, account, qos
        case extraArguments = "sbatch_args"
    }

    /// Decodes parameters as ``SlurmParameters`` encodes them (every key optional).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        partition = try container.decodeIfPresent(String.self, forKey: .partition)
        time = try container.decodeIfPresent(String.self, forKey: .time)
        gres = try container.decodeIfPresent(String.self, forKey: .gres)
        cpus = try container.decodeIfPresent(Int.self, forKey: .cpus)
        mem = try container.decodeIfPresent(String.self, forKey: .mem)
        account = try container.decodeIfPresent(String.self, forKey: .account)
        qos = try container.decodeIfPresent(String.self, forKey: .qos)
        extraArguments = try container.decodeIfPresent([String].self, forKey: .extraArguments) ?? []
    }

    /// Options Quill sets itself on every batch job; an extra argument may not set them again.
    static let reservedOptions = [
        "--parsable", "--output", "-o", "--error", "-e", "--array", "-a", "--wrap", "--open-mode",
    ]

    /// Checks every field.
    ///
    /// - Throws: ``QuillCore/QuillError`` with code `invalidArgument` naming the field, what it was and what it
    ///   takes.
    public func validate() throws {
        try Self.checkName(partition, "partition", example: "gpu")
        try Self.checkName(account, "account", example: "my-lab")
        try Self.checkName(qos, "qos", example: "normal")
        try Self.checkName(gres, "gres", example: "gpu:1")
        if let time, !Self.isTimeLimit(time) {
            throw QuillError(
                .invalidArgument,
                "--time takes a SLURM time limit (M, M:S, H:M:S, D-H, D-H:M, D-H:M:S or UNLIMITED; 02:00:00 is two hours), not '\(time)'"
            )
        }
        if let cpus, cpus < 1 {
            throw QuillError(.invalidArgument, "--cpus must be at least 1, not \(cpus)")
        }
        if let mem, !Self.isMemory(mem) {
            throw QuillError(
                .invalidArgument,
                "--mem takes a whole number with an optional unit K, M, G or T (16G, 500M), not '\(mem)'"
            )
        }
        for argument in extraArguments {
            guard argument.hasPrefix("-"), argument.count > 1 else {
                throw QuillError(
                    .invalidArgument,
                    "--sbatch-arg takes one sbatch option such as --constraint=a100, not '\(argument)'"
                )
            }
            let option = argument.split(separator: "=", maxSplits: 1).first.map(String.init) ?? argument
            let short = argument.hasPrefix("--") ? option : String(argument.prefix(2))
            if Self.reservedOptions.contains(option) || Self.reservedOptions.contains(short) {
                throw QuillError(
                    .invalidArgument,
                    "--sbatch-arg cannot set \(argument.hasPrefix("--") ? option : short): Quill sets it for every batch job"
                )
            }
        }
    }

    /// The `sbatch` options for these parameters, in a fixed order, extra arguments last.
    public var sbatchArguments: [String] {
        var arguments: [String] = []
        if let partition { arguments.append("--partition=\(partition)") }
        if let time { arguments.append("--time=\(time)") }
        if let gres { arguments.append("--gres=\(gres)") }
        if let cpus { arguments.append("--cpus-per-task=\(cpus)") }
        if let mem { arguments.append("--mem=\(mem)") }
        if let account { arguments.append("--account=\(account)") }
        if let qos { arguments.append("--qos=\(qos)") }
        return arguments + extraArguments
    }

    private static func checkName(_ value: String?, _ field: String, example: String) throws {
        guard let value else { return }
        let allowed = value.unicodeScalars.allSatisfy { scalar in
            scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "_.-:,+@/".unicodeScalars.contains(scalar)
        }
        guard !value.isEmpty, !value.hasPrefix("-"), allowed else {
            throw QuillError(
                .invalidArgument,
                "--\(field) takes a SLURM name such as \(example) (letters, digits and _ . - : , + @ /), not '\(value)'"
            )
        }
    }

    /// Whether `text` is a time limit `sbatch --time` accepts.
    static func isTimeLimit(_ text: String) -> Bool {
        if ["UNLIMITED", "INFINITE"].contains(text.uppercased()) { return true }
        let numbers: (Substring) -> [Substring]? = { part in
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            guard pieces.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }) else {
                return nil
            }
            return pieces
        }
        let dayParts = text.split(separator: "-", omittingEmptySubsequences: false)
        switch dayParts.count {
        case 1:
            // M, M:S, H:M:S
            guard let pieces = numbers(dayParts[0]) else { return false }
            return (1...3).contains(pieces.count)
        case 2:
            // D-H, D-H:M, D-H:M:S
            guard numbers(dayParts[0])?.count == 1, let pieces = numbers(dayParts[1]) else { return false }
            return (1...3).contains(pieces.count)
        default:
            return false
        }
    }

    /// Whether `text` is a memory size `sbatch --mem` accepts.
    static func isMemory(_ text: String) -> Bool {
        var digits = Substring(text)
        if let last = digits.last, "KMGTkmgt".contains(last) { digits = digits.dropLast() }
        return !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber }
    }
}
