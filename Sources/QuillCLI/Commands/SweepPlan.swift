import ArgumentParser
import Foundation
import QuillCore

/// The jobs of a `quill sweep`: the grid's keys and values, the command with its `{key}` placeholders, and
/// the combinations to submit (every one, or `random` distinct draws from a seed).
///
/// Everything is checked before anything is submitted; each mistake is one usage error that says what to
/// write instead.
struct SweepPlan: Equatable {
    /// One key of the grid and its values as written (`lr=0.1,0.01`).
    struct Axis: Equatable {
        var key: String
        var values: [String]
    }

    /// A piece of one argument of the command: text as it is, or a key's value.
    enum Piece: Equatable {
        case text(String)
        case key(String)
    }

    /// One job of the sweep: its grid values (in the grid's key order) and its command.
    struct Point: Equatable {
        var values: [(key: String, text: String)]
        var argv: [String]

        static func == (lhs: Point, rhs: Point) -> Bool {
            lhs.argv == rhs.argv && lhs.values.map(\.key) == rhs.values.map(\.key)
                && lhs.values.map(\.text) == rhs.values.map(\.text)
        }
    }

    /// The most jobs one sweep submits.
    static let maximumJobs = 10_000

    var axes: [Axis]
    var command: [[Piece]]
    /// The number of combinations of the whole grid.
    var combinations: Int

    /// Reads `--grid` options and the command, and checks that they fit each other.
    init(grid: [String], command: [String]) throws {
        axes = try Self.axes(grid)
        let keys = axes.map(\.key)
        self.command = try command.map { try Self.pieces($0, keys: keys) }
        let used = Set(
            self.command.joined().compactMap { piece -> String? in
                if case .key(let key) = piece { return key }
                return nil
            }
        )
        if let unused = keys.first(where: { !used.contains($0) }) {
            throw ValidationError(
                "--grid \(unused) is not used in the command; put {\(unused)} where its value goes, or drop it"
            )
        }
        var product = 1
        for axis in axes {
            let (next, overflow) = product.multipliedReportingOverflow(by: axis.values.count)
            guard !overflow else { throw ValidationError("the grid has too many combinations; use --random N") }
            product = next
        }
        combinations = product
    }

    /// The combinations to submit, in order: the whole grid (the last key varying fastest), or `random`
    /// distinct combinations drawn with `seed`.
    func points(random: Int?, seed: UInt64) throws -> [Point] {
        let indices: [Int]
        if let random {
            guard random >= 1 else {
                throw ValidationError("--random takes a number of jobs, 1 or more, not \(random)")
            }
            guard random <= combinations else {
                throw ValidationError(
                    "--random \(random) is more than the grid's \(combinations) combination(s); ask for at most \(combinations)"
                )
            }
            guard random <= Self.maximumJobs else {
                throw ValidationError("--random \(random) is more than \(Self.maximumJobs) jobs in one sweep")
            }
            indices = Self.draw(random, from: combinations, seed: seed)
        } else {
            guard combinations <= Self.maximumJobs else {
                throw ValidationError(
                    "the grid has \(combinations) combinations, more than \(Self.maximumJobs) jobs in one sweep; use --random N"
                )
            }
            indices = Array(0..<combinations)
        }
        return indices.map(point)
    }

    /// The combination at an index of the grid (mixed radix, the last key fastest).
    func point(_ index: Int) -> Point {
        var rest = index
        var values: [(key: String, text: String)] = []
        for axis in axes.reversed() {
            values.append((axis.key, axis.values[rest % axis.values.count]))
            rest /= axis.values.count
        }
        values.reverse()
        let lookup = Dictionary(values.map { ($0.key, $0.text) }, uniquingKeysWith: { first, _ in first })
        let argv = command.map { pieces in
            pieces.map { piece in
                switch piece {
                case .text(let text): text
                case .key(let key): lookup[key] ?? ""
                }
            }.joined()
        }
        return Point(values: values, argv: argv)
    }

    /// `count` distinct indices below `total`, in the order drawn, the same for the same seed everywhere.
    static func draw(_ count: Int, from total: Int, seed: UInt64) -> [Int] {
        var generator = SplitMix64(seed: seed)
        var chosen: Set<Int> = []
        var order: [Int] = []
        while order.count < count {
            // Lemire's multiply-shift: the high half of a 64×64-bit product is below `total`.
            let index = Int(generator.next().multipliedFullWidth(by: UInt64(total)).high)
            if chosen.insert(index).inserted { order.append(index) }
        }
        return order
    }

    /// The grid's axes from `--grid key=v1,v2` options.
    static func axes(_ grid: [String]) throws -> [Axis] {
        guard !grid.isEmpty else {
            throw ValidationError("give at least one --grid key=v1,v2, e.g. `quill sweep --grid lr=0.1,0.01 -- …`")
        }
        var axes: [Axis] = []
        for item in grid {
            guard let equals = item.firstIndex(of: "="), equals != item.startIndex else {
                throw ValidationError("--grid takes key=v1,v2,…, not '\(item)'")
            }
            let key = String(item[..<equals])
            guard !key.contains(where: { "{},".contains($0) }) else {
                throw ValidationError("the grid key '\(key)' cannot contain {, } or a comma")
            }
            guard !axes.contains(where: { $0.key == key }) else {
                throw ValidationError("--grid \(key) is given twice; list all its values in one --grid \(key)=v1,v2")
            }
            let values = item[item.index(after: equals)...].split(separator: ",", omittingEmptySubsequences: false)
                .map(String.init)
            guard !values.contains(where: \.isEmpty) else {
                throw ValidationError(
                    "--grid \(key) has an empty value in '\(item)'; write key=v1,v2 without empty items"
                )
            }
            if let repeated = values.enumerated().first(where: { values[..<$0.offset].contains($0.element) }) {
                throw ValidationError("--grid \(key) lists '\(repeated.element)' twice")
            }
            axes.append(Axis(key: key, values: values))
        }
        return axes
    }

    /// One argument split at its placeholders: `{key}` is a grid key's value, `{{` and `}}` are `{` and `}`.
    static func pieces(_ argument: String, keys: [String]) throws -> [Piece] {
        var pieces: [Piece] = []
        var text = ""
        var index = argument.startIndex
        while index < argument.endIndex {
            let character = argument[index]
            let next = argument.index(after: index)
            if character == "{", next < argument.endIndex, argument[next] == "{" {
                text.append("{")
                index = argument.index(after: next)
            } else if character == "}", next < argument.endIndex, argument[next] == "}" {
                text.append("}")
                index = argument.index(after: next)
            } else if character == "{" {
                guard let close = argument[next...].firstIndex(of: "}") else {
                    throw ValidationError(
                        "the argument '\(argument)' has a { without its }; write {{ for a literal {"
                    )
                }
                let key = String(argument[next..<close])
                guard keys.contains(key) else {
                    throw ValidationError(
                        "unknown placeholder {\(key)} in '\(argument)'; the grid has \(keys.map { "{\($0)}" }.joined(separator: ", ")) (write {{ for a literal {)"
                    )
                }
                if !text.isEmpty { pieces.append(.text(text)) }
                text = ""
                pieces.append(.key(key))
                index = argument.index(after: close)
            } else {
                text.append(character)
                index = next
            }
        }
        if !text.isEmpty || pieces.isEmpty { pieces.append(.text(text)) }
        return pieces
    }
}
