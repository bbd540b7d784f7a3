/// Reads the `meta.yaml` files of MLflow's file store: one top-level mapping of scalars, as PyYAML's
/// `safe_dump` writes them (plain, `'single'` and `"double"` quoted scalars, folded over indented lines;
/// `null`; the empty `[]` and `{}`). Nothing else of YAML is needed there, so nothing else is read.
enum MLflowYAML {
    /// A scalar's text, or `nil` for `null`/`~`/nothing.
    typealias Mapping = [String: String?]

    /// Parses a mapping; lines it cannot read are ignored.
    static func parse(_ text: String) -> Mapping {
        var result: Mapping = [:]
        var key: String?
        var lines: [Substring] = []
        func finish() {
            if let key { result[key] = scalar(lines) }
            key = nil
            lines = []
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line
            if let first = trimmed.first, first != " ", first != "\t", first != "#", first != "-",
                let colon = separator(in: trimmed)
            {
                finish()
                key = unquote(String(trimmed[..<colon]).trimmingSpaces)
                lines = [trimmed[trimmed.index(after: colon)...]]
            } else if key != nil {
                lines.append(trimmed)
            }
        }
        finish()
        return result
    }

    /// Where `key: value` splits: the first `:` followed by a space or the end, outside quotes.
    private static func separator(in line: Substring) -> Substring.Index? {
        var quote: Character?
        var index = line.startIndex
        while index < line.endIndex {
            let character = line[index]
            if let open = quote {
                if character == open { quote = nil }
            } else if character == "'" || character == "\"", index == line.startIndex {
                quote = character
            } else if character == ":" {
                let next = line.index(after: index)
                if next == line.endIndex || line[next] == " " { return index }
            }
            index = line.index(after: index)
        }
        return nil
    }

    private static func unquote(_ key: String) -> String {
        scalar([Substring(key)]) ?? key
    }

    /// The value of the lines of one key (the text after the colon, then its continuation lines).
    static func scalar(_ lines: [Substring]) -> String? {
        let first = lines.first.map { String($0).trimmingSpaces } ?? ""
        if first.hasPrefix("'") || first.hasPrefix("\"") {
            let quote = first.first ?? "'"
            let folded = fold(lines.map { String($0) }, trimFirst: true)
            let body = folded.dropFirst()
            return quote == "'" ? singleQuoted(body) : doubleQuoted(body)
        }
        let text = fold(lines.map { String($0) }, trimFirst: true)
        switch text {
        case "", "null", "~", "Null", "NULL": return nil
        default: return text
        }
    }

    /// Joins continuation lines: a line break becomes a space, an empty line a newline.
    private static func fold(_ lines: [String], trimFirst: Bool) -> String {
        var out = ""
        var pendingNewlines = 0
        for (offset, line) in lines.enumerated() {
            let piece = line.trimmingSpaces
            if offset == 0 {
                out = piece
                continue
            }
            if piece.isEmpty {
                pendingNewlines += 1
                continue
            }
            if pendingNewlines > 0 {
                out += String(repeating: "\n", count: pendingNewlines)
                pendingNewlines = 0
            } else if !out.hasSuffix("\\") || out.hasSuffix("\\\\") {
                out += " "
            } else {
                out.removeLast()  // an escaped line break in a double-quoted scalar
            }
            out += piece
        }
        return out
    }

    /// `it''s'` (the opening quote removed) → `it's`.
    private static func singleQuoted(_ body: Substring) -> String {
        var out = ""
        var index = body.startIndex
        while index < body.endIndex {
            let character = body[index]
            let next = body.index(after: index)
            if character == "'" {
                if next < body.endIndex, body[next] == "'" {
                    out.append("'")
                    index = body.index(after: next)
                    continue
                }
                break
            }
            out.append(character)
            index = next
        }
        return out
    }

    /// `a\tb"` (the opening quote removed) → the text with YAML's escapes applied.
    private static func doubleQuoted(_ body: Substring) -> String {
        var out = ""
        var iterator = body.makeIterator()
        func hex(_ count: Int) -> Character? {
            var text = ""
            for _ in 0..<count {
                guard let digit = iterator.next() else { return nil }
                text.append(digit)
            }
            return UInt32(text, radix: 16).flatMap(Unicode.Scalar.init).map(Character.init)
        }
        while let character = iterator.next() {
            if character == "\"" { break }
            guard character == "\\" else {
                out.append(character)
                continue
            }
            guard let escape = iterator.next() else { break }
            switch escape {
            case "n": out.append("\n")
            case "t": out.append("\t")
            case "r": out.append("\r")
            case "0": out.append("\0")
            case "a": out.append("\u{07}")
            case "b": out.append("\u{08}")
            case "e": out.append("\u{1B}")
            case "f": out.append("\u{0C}")
            case "v": out.append("\u{0B}")
            case " ": out.append(" ")
            case "N": out.append("\u{85}")
            case "_": out.append("\u{A0}")
            case "L": out.append("\u{2028}")
            case "P": out.append("\u{2029}")
            case "x": hex(2).map { out.append($0) }
            case "u": hex(4).map { out.append($0) }
            case "U": hex(8).map { out.append($0) }
            default: out.append(escape)
            }
        }
        return out
    }
}

extension String {
    /// Without leading and trailing spaces and tabs.
    var trimmingSpaces: String {
        let characters = self.drop { $0 == " " || $0 == "\t" }
        return String(characters.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
