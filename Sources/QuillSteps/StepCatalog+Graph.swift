/// The dependency graph of the results in a catalog: an edge from each result to every result its metadata
/// lists under `dependencies`. A dependency with no result under the root is a node of its own, `missing`.
public struct StepGraph: Sendable {
    /// The results, by reference.
    public var entries: [StepReference: StepCatalogEntry]
    /// The edges, from a result to one it depends on, in the order the metadata lists them.
    public var edges: [(from: StepReference, to: StepReference)]

    /// The graph of a list of results.
    public init(_ all: [StepCatalogEntry]) {
        var entries: [StepReference: StepCatalogEntry] = [:]
        var edges: [(from: StepReference, to: StepReference)] = []
        for entry in all {
            entries[entry.reference] = entry
            for dependency in entry.dependencies { edges.append((entry.reference, dependency)) }
        }
        self.entries = entries
        self.edges = edges
        order = all.map(\.reference)
    }

    private var order: [StepReference]

    /// What a result depends on, directly.
    public func dependencies(of reference: StepReference) -> [StepReference] {
        edges.filter { $0.from == reference }.map(\.to)
    }

    /// The results that depend directly on one.
    public func dependents(of reference: StepReference) -> [StepReference] {
        edges.filter { $0.to == reference }.map(\.from)
    }

    /// The results no other result depends on, in catalog order.
    public var roots: [StepReference] {
        let used = Set(edges.map(\.to))
        return order.filter { !used.contains($0) }
    }

    /// A reference and everything it reaches, each once, in depth-first order.
    public func reachable(from start: [StepReference]) -> [StepReference] {
        var seen: Set<StepReference> = []
        var out: [StepReference] = []
        func visit(_ reference: StepReference) {
            guard seen.insert(reference).inserted else { return }
            out.append(reference)
            for next in dependencies(of: reference) { visit(next) }
        }
        for reference in start { visit(reference) }
        return out
    }

    /// One line naming a node: `TrainModel 3fa2c1d success`, or `Dataset 9ab12cd missing`.
    public func label(_ reference: StepReference) -> String {
        guard let entry = entries[reference] else {
            return "\(reference.namespace.split(separator: ".").last ?? "") \(reference.hash.prefix(7)) missing"
        }
        return "\(entry.typeName) \(entry.hash.prefix(7)) \(entry.status.rawValue)"
    }

    /// The dependencies of some results (all roots by default) as an indented tree, one result a line; a
    /// result shown earlier in the same tree is marked `(see above)` instead of expanded again.
    public func tree(from start: [StepReference]? = nil) -> String {
        var lines: [String] = []
        for root in start ?? roots {
            var expanded: Set<StepReference> = []
            func visit(_ reference: StepReference, prefix: String, branch: String, path: Set<StepReference>) {
                let swift = entries[reference].map { "  " + Self.cut($0.swift, 80) } ?? ""
                if path.contains(reference) {
                    lines.append(prefix + branch + label(reference) + " (cycle)")
                    return
                }
                if !expanded.insert(reference).inserted {
                    lines.append(prefix + branch + label(reference) + " (see above)")
                    return
                }
                lines.append(prefix + branch + label(reference) + swift)
                let children = dependencies(of: reference)
                let childPrefix = prefix + (branch.isEmpty ? "" : branch == "└─ " ? "   " : "│  ")
                for (index, child) in children.enumerated() {
                    visit(
                        child,
                        prefix: childPrefix,
                        branch: index == children.count - 1 ? "└─ " : "├─ ",
                        path: path.union([reference])
                    )
                }
            }
            visit(root, prefix: "", branch: "", path: [])
        }
        return lines.joined(separator: "\n")
    }

    /// The graph of some results and what they reach (everything by default) in Graphviz DOT: nodes
    /// labelled with type, short hash and status, coloured by status; edges from a result to its dependency.
    public func dot(from start: [StepReference]? = nil) -> String {
        let nodes = start.map { reachable(from: $0) } ?? reachable(from: order + edges.map(\.to))
        let included = Set(nodes)
        var lines = [
            "digraph steps {", "  rankdir=LR;", "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\"];",
        ]
        for reference in nodes {
            let status = entries[reference]?.status.rawValue ?? "missing"
            let type = entries[reference]?.typeName ?? String(reference.namespace.split(separator: ".").last ?? "")
            let colour =
                switch status {
                case "success": "#d4f4dd"
                case "failed": "#f8d0d0"
                case "incomplete": "#fff1c2"
                default: "#e6e6e6"
                }
            lines.append(
                "  \(Self.quoted(reference.description)) [label=\(Self.quoted("\(type)\n\(reference.hash.prefix(7))\n\(status)")), fillcolor=\"\(colour)\"];"
            )
        }
        for edge in edges where included.contains(edge.from) && included.contains(edge.to) {
            lines.append("  \(Self.quoted(edge.from.description)) -> \(Self.quoted(edge.to.description));")
        }
        lines.append("}")
        return lines.joined(separator: "\n")
    }

    static func quoted(_ text: String) -> String {
        var out = "\""
        for character in text {
            switch character {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out + "\""
    }

    static func cut(_ text: String, _ width: Int) -> String {
        text.count > width ? String(text.prefix(width - 1)) + "…" : text
    }
}
