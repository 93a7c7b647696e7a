// Queries print back as text that parses to the same query (the fuzzer checks this): one line,
// lower-case keywords, strings in double quotes, parentheses only where the structure needs them.

extension LogQuery: CustomStringConvertible {
    public var description: String {
        ([source.description] + operators.map(\.description)).joined(separator: " | ")
    }
}

extension Source: CustomStringConvertible {
    var description: String {
        switch self {
        case .table(let name):
            return name.text.printedName(asTable: true)
        case .search(let tables, let predicate):
            let scope = tables.map { " in (" + $0.map { $0.text.printedName(asTable: true) }.joined(separator: ", ") + ")" } ?? ""
            return "search" + scope + " " + (predicate?.description ?? "*")
        case .union(let withSource, let tables):
            let source = withSource.map { " withsource=" + $0.text.printedName() } ?? ""
            return "union" + source + " " + (tables?.map { $0.text.printedName(asTable: true) }.joined(separator: ", ") ?? "*")
        case .print(let items):
            return "print " + items.printed
        }
    }
}

extension TabularOperator: CustomStringConvertible {
    var description: String {
        switch self {
        case .where(let condition): "where \(condition)"
        case .search(let predicate): "search " + (predicate?.description ?? "*")
        case .project(let items): "project " + items.printed
        case .projectAway(let names): "project-away " + names.map { $0.text.printedName() }.joined(separator: ", ")
        case .projectRename(let renames):
            "project-rename " + renames.map { $0.new.text.printedName() + " = " + $0.old.text.printedName() }.joined(separator: ", ")
        case .extend(let items): "extend " + items.printed
        case .summarize(let aggregates, let groups, _):
            "summarize" + (aggregates.isEmpty ? "" : " " + aggregates.printed) + (groups.isEmpty ? "" : " by " + groups.printed)
        case .sort(let keys): "order by " + keys.map(\.description).joined(separator: ", ")
        case .take(let count): "take \(count)"
        case .top(let count, let key): "top \(count) by \(key)"
        case .distinct(let names): "distinct " + (names?.map { $0.text.printedName() }.joined(separator: ", ") ?? "*")
        case .count: "count"
        }
    }
}

extension SortKey: CustomStringConvertible {
    var description: String {
        "\(expression) " + (ascending ? "asc" : "desc") + (nullsFirst.map { $0 ? " nulls first" : " nulls last" } ?? "")
    }
}

extension [NamedExpression] {
    var printed: String {
        map { item in (item.name.map { $0.text.printedName() + " = " } ?? "") + item.expression.description }.joined(separator: ", ")
    }
}

extension LogExpression: CustomStringConvertible {
    var description: String { printed(atLeast: 0) }

    /// How tightly the expression binds: a child looser than its parent needs parentheses.
    private var precedence: Int {
        switch self {
        case .or: 1
        case .and: 2
        case .list, .between: 3
        case .binary(let op, _, _, _):
            switch op {
            case .add, .subtract: 4
            case .multiply, .divide, .modulo: 5
            default: 3
            }
        case .negate: 6
        default: 7
        }
    }

    private func printed(atLeast minimum: Int) -> String {
        let text = bareText
        return precedence < minimum ? "(" + text + ")" : text
    }

    private var bareText: String {
        switch self {
        case .literal(let value, _):
            switch value {
            case .string(let s): return s.quotedLiteral
            case .real(let x): return x.description
            default: return value.text
            }
        case .datetimeLiteral(let ticks, _):
            return "datetime(" + (ticks.map(KustoTime.isoText(ticks:)) ?? "null") + ")"
        case .timespanLiteral(let ticks, _):
            return KustoTime.timespanLiteral(ticks: ticks)
        case .column(let name, _):
            return name.printedName()
        case .call(let function, let arguments, _):
            return function.rawValue + "(" + arguments.map(\.description).joined(separator: ", ") + ")"
        case .star:
            return "*"
        case .or(let operands):
            return operands.map { $0.printed(atLeast: 2) }.joined(separator: " or ")
        case .and(let operands):
            return operands.map { $0.printed(atLeast: 3) }.joined(separator: " and ")
        case .binary(let op, let left, let right, _):
            let level = precedence
            // Comparisons do not chain; arithmetic is left-associative.
            let rightLevel = level == 3 ? 4 : level + 1
            return left.printed(atLeast: level == 3 ? 4 : level) + " " + op.rawValue + " " + right.printed(atLeast: rightLevel)
        case .negate(let operand, _):
            return "-" + operand.printed(atLeast: 6)
        case .list(let op, let left, let items, _):
            return left.printed(atLeast: 4) + " " + op.rawValue + " (" + items.map(\.description).joined(separator: ", ") + ")"
        case .between(let value, let low, let high, let negated, _):
            return value.printed(atLeast: 4) + (negated ? " !between (" : " between (") + low.printed(atLeast: 4) + " .. " + high.printed(atLeast: 4) + ")"
        case .member(let base, let key, _):
            return base.printed(atLeast: 7) + "." + key
        case .index(let base, let key, _):
            return base.printed(atLeast: 7) + "[" + key.description + "]"
        case .searchTerm(let term, let column, _):
            return (column.map { $0.text + ":" } ?? "") + term.quotedLiteral
        }
    }
}

extension String {
    /// A string literal in double quotes, with the escapes the lexer reads.
    var quotedLiteral: String { JSONText.quoted(self) }

    /// The name bare when it reads back as the same name, else as `['…']`. Table names that
    /// are operator words are bracketed too: a query cannot start with `where`.
    func printedName(asTable: Bool = false) -> String {
        let scalars = unicodeScalars
        let plain = scalars.first.map(Lexer.isIdentifierStart) == true && scalars.allSatisfy(Lexer.isIdentifierPart)
            && Parser.isPlainName(self) && !["datetime", "time", "timespan"].contains(lowercased())
            && !(asTable && Parser.sourceWords.contains(lowercased()))
        guard !plain else { return self }
        return "[" + JSONText.quoted(self) + "]"
    }
}
