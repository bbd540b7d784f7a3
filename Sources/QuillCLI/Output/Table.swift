/// A text table with aligned columns, as the CLI prints lists.
struct Table {
    var headers: [String]
    var rows: [[String]] = []
    /// Columns (by index) aligned to the right, for numbers.
    var rightAligned: Set<Int> = []
    /// The widest a cell may be before it is cut with `…`.
    var maximumCellWidth = 48

    init(headers: [String], rightAligned: Set<Int> = []) {
        self.headers = headers
        self.rightAligned = rightAligned
    }

    mutating func append(_ row: [String]) {
        rows.append(row)
    }

    /// The table as lines, with two spaces between columns and no trailing spaces.
    func render() -> String {
        let cells = ([headers] + rows).map { row in
            row.map { cell in
                let flat = cell.replacingNewlines()
                return flat.displayWidth > maximumCellWidth ? String(flat.prefix(maximumCellWidth - 1)) + "…" : flat
            }
        }
        var widths = [Int](repeating: 0, count: headers.count)
        for row in cells {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.displayWidth)
            }
        }
        var lines: [String] = []
        for row in cells {
            var line = ""
            for (index, cell) in row.enumerated() where index < widths.count {
                let padding = String(repeating: " ", count: widths[index] - cell.displayWidth)
                let isLast = index == row.count - 1
                if rightAligned.contains(index) {
                    line += padding + cell
                } else {
                    line += cell + (isLast ? "" : padding)
                }
                if !isLast { line += "  " }
            }
            while line.hasSuffix(" ") { line.removeLast() }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}

/// Aligned `key: value` lines, as `quill show` prints a section.
struct KeyValueList {
    var items: [(String, String)] = []

    mutating func append(_ key: String, _ value: String) {
        items.append((key, value))
    }

    func render(indent: Int = 2) -> String {
        let width = items.map(\.0.displayWidth).max() ?? 0
        return items.map { key, value in
            String(repeating: " ", count: indent) + key + String(repeating: " ", count: width - key.displayWidth) + "  "
                + value.replacingNewlines()
        }.joined(separator: "\n")
    }
}

extension String {
    /// The number of terminal columns the text takes (each character counts one; good enough for the
    /// names and numbers the CLI prints).
    var displayWidth: Int { count }

    func replacingNewlines() -> String {
        var out = ""
        for character in self {
            out.append(character == "\n" || character == "\r" || character == "\t" ? " " : character)
        }
        return out
    }
}
