import Testing
import TwinQuery

/// Bad queries are refused with the position (in Unicode scalars) of the offending token and a
/// message saying what was expected; none of them crashes.
@Suite("Query errors")
struct QueryErrorTests {
    private func error(_ text: String) -> QueryError? {
        do {
            _ = try Query(parsing: text)
            return nil
        } catch {
            return error
        }
    }

    @Test("the error renders as the REST layer sends it")
    func rendering() {
        let error = error("SELECT * WHERE tags.x = 1")
        #expect(error == QueryError(position: 9, reason: .expected("FROM", found: "'WHERE'")))
        #expect(error?.description == "Syntax error at position 9: expected FROM, found 'WHERE'")
        #expect(error?.message == "expected FROM, found 'WHERE'")
    }

    @Test("bad queries", arguments: [
        ("", 0, "expected SELECT, found end of query"),
        ("   ", 3, "expected SELECT, found end of query"),
        ("SELECT * FROM devices.jobs", 14, "FROM devices.jobs is not supported; use FROM devices or FROM devices.modules"),
        ("SELECT * FROM twins", 14, "FROM twins is not supported; use FROM devices or FROM devices.modules"),
        ("SELECT * FROM", 13, "expected devices or devices.modules, found end of query"),
        ("SELECT * FROM devices WHERE deviceId = 'abc", 39, "unterminated string"),
        ("SELECT * FROM devices WHERE tags.x = 1 tags.y", 39, "expected end of query, found 'tags'"),
        ("SELECT * FROM devices WHERE", 27, "expected a value, a field or a condition, found end of query"),
        ("SELECT * FROM devices WHERE tags.x = 1 AND", 42, "expected a value, a field or a condition, found end of query"),
        ("SELECT * FROM devices WHERE tags.x IN ('a')", 38, "expected '[' starting a list of values, found '('"),
        ("SELECT * FROM devices WHERE STARTSWITH(deviceId)", 28, "STARTSWITH takes 2 arguments, found 1"),
        ("SELECT * FROM devices WHERE deviceId = 'a\\q'", 41, "invalid escape sequence '\\q' in a string (allowed: \\' \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)"),
        ("SELECT * FROM devices WHERE tags.x = 12abc", 37, "invalid number '12abc'"),
        ("SELECT * FROM devices WHERE tags.x # 1", 35, "unexpected character '#'"),
        ("SELECT * FROM devices WHERE tags.é = 'ü' #", 41, "unexpected character '#'"),
        ("SELECT TOP -1 * FROM devices", 11, "TOP needs a whole number from 0 to 2147483647, found '-1'"),
        ("SELECT deviceId AS FROM devices", 19, "expected a name after AS, found 'FROM'"),
        ("SELECT deviceId, FROM devices", 17, "expected *, a field or COUNT(), found 'FROM'"),
        ("SELECT COUNT(1) FROM devices", 13, "expected ')' (COUNT takes no argument), found '1'"),
        ("SELECT deviceId, COUNT() AS n FROM devices GROUP BY tags.region", 7,
         "'deviceId' must be listed in GROUP BY to be selected with COUNT() or GROUP BY"),
        ("SELECT * FROM devices GROUP BY tags.region", 22, "GROUP BY needs a select list of grouped fields and COUNT(), not *"),
    ])
    func badQuery(_ text: String, _ position: Int, _ message: String) {
        let error = error(text)
        #expect(error?.position == position)
        #expect(error?.message == message)
    }

    @Test("an unknown function names the supported ones")
    func unknownFunction() {
        let error = error("SELECT * FROM devices WHERE LOWER(deviceId) = 'a'")
        #expect(error?.position == 28)
        #expect(error?.reason == .unknownFunction("LOWER"))
        #expect(error?.message.hasPrefix("unknown function 'LOWER'; supported: COUNT() in SELECT, and IS_DEFINED(), IS_NULL()") == true)
    }

    @Test("a lexical error after a syntax error is not reported first")
    func leftToRight() {
        #expect(error("SELECT * WHERE x = 'unterminated")?.position == 9)
    }

    @Test("queries are limited to 8192 characters")
    func length() throws {
        let padding = String(repeating: " ", count: Query.maxLength - 21)
        _ = try Query(parsing: "SELECT * FROM devices" + padding)
        #expect(error("SELECT * FROM devices " + padding) == QueryError(position: 8192, reason: .tooLong(limit: 8192)))
    }

    @Test("nesting is limited to 64 levels of parentheses, NOT and calls")
    func depth() throws {
        func nested(_ n: Int) -> String {
            "SELECT * FROM devices WHERE " + String(repeating: "(", count: n) + "a = 1" + String(repeating: ")", count: n)
        }
        _ = try Query(parsing: nested(64))
        #expect(error(nested(65)) == QueryError(position: 28 + 64, reason: .tooDeep(limit: 64)))
        #expect(error(nested(4000))?.reason == .tooDeep(limit: 64))
        let nots = "SELECT * FROM devices WHERE " + String(repeating: "NOT ", count: 65) + "a"
        #expect(error(nots) == QueryError(position: 28 + 64 * 4, reason: .tooDeep(limit: 64)))
        let calls = "SELECT * FROM devices WHERE " + String(repeating: "IS_BOOL(", count: 65) + "a" + String(repeating: ")", count: 65)
        #expect(error(calls)?.reason == .tooDeep(limit: 64))
    }
}
