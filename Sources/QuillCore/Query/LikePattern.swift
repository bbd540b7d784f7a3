/// SQL `LIKE` matching, as the query language's `like` and `ilike` do it: `%` stands for any run of
/// characters (none included), `_` for exactly one, and a backslash makes the next character literal
/// (PostgreSQL's default escape). The whole text must match. Characters are Unicode scalars, as SQLite's and
/// PostgreSQL's `LIKE` count them; `ilike` compares both sides lowercased.
package enum LikePattern {
    /// Whether `text` matches `pattern`, optionally ignoring case.
    package static func matches(_ text: String, _ pattern: String, caseInsensitive: Bool) -> Bool {
        let subject = Array((caseInsensitive ? text.lowercased() : text).unicodeScalars)
        let elements = compile(caseInsensitive ? pattern.lowercased() : pattern)
        return match(subject, elements)
    }

    /// Escapes `%`, `_` and backslashes so that a text matches only itself.
    package static func escaped(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            if scalar == "%" || scalar == "_" || scalar == "\\" { result.unicodeScalars.append("\\") }
            result.unicodeScalars.append(scalar)
        }
        return result
    }

    private enum Element: Equatable {
        case literal(Unicode.Scalar)
        case one
        case any
    }

    private static func compile(_ pattern: String) -> [Element] {
        var elements: [Element] = []
        var escaping = false
        for scalar in pattern.unicodeScalars {
            if escaping {
                elements.append(.literal(scalar))
                escaping = false
            } else if scalar == "\\" {
                escaping = true
            } else if scalar == "%" {
                if elements.last != .any { elements.append(.any) }
            } else if scalar == "_" {
                elements.append(.one)
            } else {
                elements.append(.literal(scalar))
            }
        }
        // A trailing backslash stands for itself.
        if escaping { elements.append(.literal("\\")) }
        return elements
    }

    /// Greedy matching with one backtrack point (the last `%`), linear in practice and at worst
    /// text length times pattern length.
    private static func match(_ text: [Unicode.Scalar], _ pattern: [Element]) -> Bool {
        var t = 0
        var p = 0
        var star: Int?
        var starText = 0
        while t < text.count {
            if p < pattern.count {
                switch pattern[p] {
                case .any:
                    star = p
                    starText = t
                    p += 1
                    continue
                case .one:
                    t += 1
                    p += 1
                    continue
                case .literal(let scalar) where scalar == text[t]:
                    t += 1
                    p += 1
                    continue
                case .literal:
                    break
                }
            }
            guard let star else { return false }
            p = star + 1
            starText += 1
            t = starText
        }
        while p < pattern.count, pattern[p] == .any { p += 1 }
        return p == pattern.count
    }
}
