import EdgeRoutes
import Testing

/// Bad routes are refused with the position (in Unicode scalars) of the offending token and a
/// message saying what was expected; never a crash.
@Suite("Route errors")
struct RouteErrorTests {
    @Test("the error renders as the route line, a caret under the position, and the message")
    func rendering() throws {
        let text = "FROM /messages/* WHERE temperature > 30 INTO $upstream"
        let error = try #require(Fixture.error(text))
        #expect(error.kind == .type)
        #expect(error.position == 35)
        #expect(error.routeName == "r")
        #expect(error.render(route: text) == """
            FROM /messages/* WHERE temperature > 30 INTO $upstream
                                               ^
            invalid operands to '>': a string and a number (message properties are strings: compare AS_NUMBER(temperature) with a number, or temperature with a quoted string)
            """)
        #expect(error.description.hasPrefix("route 'r': type error at position 35: invalid operands to '>'"))
    }

    @Test("on a multi-line route only the offending line is shown, tabs kept")
    func multiLine() throws {
        let text = "FROM /messages/*\nWHERE\ta = 'x' AND\n\tb == 'y'\nINTO $upstream"
        let error = try #require(Fixture.error(text))
        #expect(error.position == 39)
        #expect(error.render(route: text) == "\tb == 'y'\n\t   ^\nexpected a value (a property, a $property, a $body path, a literal or a function call), found '='")
    }

    @Test("syntax errors", arguments: [
        ("", 0, "expected FROM, found end of route"),
        ("   ", 3, "expected FROM, found end of route"),
        ("FORM /messages/* INTO $upstream", 0, "expected FROM, found 'FORM'"),
        ("SELECT FROM /* INTO $upstream", 7, "expected '*' after SELECT, found 'FROM'"),
        ("FROM messages INTO $upstream", 5, "expected a source path (\("/*, /messages/*, /messages/modules/*, /messages/modules/{moduleId}/*, /messages/modules/{moduleId}/outputs/*, /messages/modules/{moduleId}/outputs/{output} or /twinChangeNotifications")), found 'messages'"),
        ("FROM /messages/*", 16, "expected WHERE or INTO, found end of route"),
        ("FROM /messages/* TO $upstream", 17, "expected WHERE or INTO, found 'TO'"),
        ("FROM /messages/* WHERE INTO $upstream", 23, "expected a value (a property, a $property, a $body path, a literal or a function call), found 'INTO'"),
        ("FROM /messages/* WHERE a = 'x' $upstream", 31, "expected an operator or INTO, found '$upstream'"),
        ("FROM /messages/* WHERE a = 'x INTO $upstream", 27, "unterminated string: expected a closing '"),
        ("FROM /messages/* WHERE a = 'x\\n' INTO $upstream", 29, "invalid escape sequence '\\n' in a string (allowed: \\' \\\" \\\\ \\uXXXX)"),
        ("FROM /messages/* WHERE a = 'x' # INTO $upstream", 31, "unexpected character '#'"),
        ("FROM /messages/* WHERE $body.a > 30abc INTO $upstream", 33, "invalid number '30abc'"),
        ("FROM /messages/* WHERE $body.a > 1e999 INTO $upstream", 33, "number '1e999' is out of range"),
        ("FROM /messages/* WHERE (a = 'x' INTO $upstream", 32, "expected ')' or an operator, found 'INTO'"),
        ("FROM /messages/* WHERE a = 'x') INTO $upstream", 30, "expected an operator or INTO, found ')'"),
        ("FROM /messages/* WHERE $ = 'x' INTO $upstream", 23, "expected a property name after '$'"),
        ("FROM /messages/* WHERE $body = 'x' INTO $upstream", 23, "$body needs a path, e.g. $body.temperature"),
        ("FROM /messages/* WHERE $body.a..b = 1 INTO $upstream", 23, "invalid $body path '$body.a..b': a property name is missing"),
        ("FROM /messages/* WHERE $body.a[x] = 1 INTO $upstream", 23, "invalid $body path '$body.a[x]': an index is a whole number, like [0]"),
        ("FROM /messages/* WHERE $body.a[\u{0711}0] = 1 INTO $upstream", 23, "invalid $body path '$body.a[\u{0711}0]': an index is a whole number, like [0]"),
        ("FROM /messages/* WHERE $connectionDeviceId[0] = 'x' INTO $upstream", 23, "only $body paths take an [index], found '$connectionDeviceId[0]'"),
        ("FROM /messages/* WHERE {contentType} = 'x' INTO $upstream", 24, "expected a $property after '{', found 'contentType'"),
        ("FROM /messages/* WHERE FOO(a) INTO $upstream", 23, "unknown function 'FOO'; functions are IS_DEFINED, IS_NULL, IS_STRING, IS_NUMBER, IS_BOOL, AS_NUMBER, STARTS_WITH, ENDS_WITH, CONTAINS, INDEX_OF, LOWER, UPPER, LENGTH, CONCAT, SUBSTRING, ABS, CEILING, FLOOR, SIGN, SQRT, EXP, POWER, SQUARE"),
        ("FROM /messages/* WHERE STARTS_WITH(a) INTO $upstream", 23, "STARTS_WITH takes 2 arguments, found 1: STARTS_WITH(string, string)"),
        ("FROM /messages/* WHERE SUBSTRING(a) = 'x' INTO $upstream", 23, "SUBSTRING takes 2 or 3 arguments, found 1: SUBSTRING(string, number, [number])"),
        ("FROM /messages/* WHERE IS_DEFINED() INTO $upstream", 23, "IS_DEFINED takes 1 argument, found 0: IS_DEFINED(value)"),
        ("FROM /messages/* WHERE CONCAT() = 'x' INTO $upstream", 23, "CONCAT takes at least 1 argument, found 0: CONCAT(string, …)"),
        ("FROM /messages/* WHERE a = 'x' INTO $upstream extra", 46, "expected end of route, found 'extra'"),
    ])
    func syntax(_ text: String, _ position: Int, _ message: String) throws {
        let error = try #require(Fixture.error(text))
        #expect(error.message == message)
        #expect(error.position == position)
        #expect(error.kind == .syntax)
    }

    @Test("sources and sinks", arguments: [
        ("FROM / INTO $upstream", 6, RouteError.Kind.source, "empty segment in the source path"),
        ("FROM /messages/events INTO $upstream", 15, .source, "unknown source '/messages/events'; sources are /*, /messages/*, /messages/modules/*, /messages/modules/{moduleId}/*, /messages/modules/{moduleId}/outputs/*, /messages/modules/{moduleId}/outputs/{output} or /twinChangeNotifications"),
        ("FROM /messages/modules/m/inputs/x INTO $upstream", 25, .source, "unknown source '/messages/modules/m/inputs/x'; sources are /*, /messages/*, /messages/modules/*, /messages/modules/{moduleId}/*, /messages/modules/{moduleId}/outputs/*, /messages/modules/{moduleId}/outputs/{output} or /twinChangeNotifications"),
        ("FROM /messages/*/modules INTO $upstream", 15, .source, "'*' must end the source path"),
        ("FROM /messages/mod*INTO $upstream", 15, .source, "'*' cannot appear in a source segment ('mod*INTO'); '*' stands alone at the end"),
        ("FROM /messages//modules INTO $upstream", 15, .source, "empty segment in the source path"),
        ("FROM /messages/* INTO $downstream", 22, .sink, "expected a sink, $upstream or BrokeredEndpoint(\"/modules/{moduleId}/inputs/{input}\"), found '$downstream'"),
        ("FROM /messages/* INTO upstream", 22, .sink, "expected a sink, $upstream or BrokeredEndpoint(\"/modules/{moduleId}/inputs/{input}\"), found 'upstream'"),
        ("FROM /messages/* INTO BrokeredEndpoint(\"/modules/m/outputs/o\")", 39, .sink, "expected an address \"/modules/{moduleId}/inputs/{input}\", found '\"/modules/m/outputs/o\"'"),
        ("FROM /messages/* INTO BrokeredEndpoint(\"/modules//inputs/i\")", 39, .sink, "expected an address \"/modules/{moduleId}/inputs/{input}\", found '\"/modules//inputs/i\"'"),
        ("FROM /messages/* INTO BrokeredEndpoint(/modules/m/inputs/i)", 39, .syntax, "expected a quoted address \"/modules/{moduleId}/inputs/{input}\", found '/'"),
        ("FROM /messages/* INTO BrokeredEndpoint(\"/modules/m/inputs/i\"", 60, .syntax, "expected ')' after the address, found end of route"),
    ])
    func endpoints(_ text: String, _ position: Int, _ kind: RouteError.Kind, _ message: String) throws {
        let error = try #require(Fixture.error(text))
        #expect(error.message == message)
        #expect(error.position == position)
        #expect(error.kind == kind)
    }

    @Test("type errors, as edgeHub's compiler gives them", arguments: [
        ("alert = true", 29, "invalid operands to '=': a string and a boolean (message properties are strings: compare alert with 'true')"),
        ("$contentType = 1", 36, "invalid operands to '=': a string and a number (message properties are strings: compare AS_NUMBER($contentType) with a number, or $contentType with a quoted string)"),
        ("a = null", 25, "invalid operands to '=': a string and null"),
        ("a + 1 = 2", 25, "invalid operands to '+': a string and a number (message properties are strings: compare AS_NUMBER(a) with a number, or a with a quoted string)"),
        ("true < false", 28, "invalid operands to '<': a boolean and a boolean"),
        ("'a' || 1 = 'a1'", 27, "invalid operands to '||': a string and a number"),
        ("-a = 1", 23, "invalid operand to unary '-': a string"),
        ("NOT a", 23, "NOT needs a condition, found a string"),
        ("a AND b = 'c'", 25, "AND joins conditions, found a string"),
        ("a = 'b' OR 1", 31, "OR joins conditions, found a number"),
        ("a", 23, "a condition must be true or false, found a string"),
        ("LENGTH(a)", 23, "a condition must be true or false, found a number"),
        ("STARTS_WITH(a, 1)", 38, "argument 2 of STARTS_WITH must be a string, found a number: STARTS_WITH(string, string)"),
        ("ABS(a) = 1", 27, "argument 1 of ABS must be a number, found a string: ABS(number)"),
    ])
    func types(_ condition: String, _ position: Int, _ message: String) throws {
        let error = try #require(Fixture.error("FROM /messages/* WHERE \(condition) INTO $upstream"))
        #expect(error.message == message)
        #expect(error.position == position)
        #expect(error.kind == .type)
    }

    @Test("$body values are checked per message, so they pass the type check")
    func dynamic() throws {
        for condition in ["$body.a > 30", "$body.a = 'x'", "$body.a = true", "$body.a + 1 = 2", "NOT $body.flag", "$body.a", "{$body.a} || 'x' = 'yx'"] {
            #expect(Fixture.error("FROM /* WHERE \(condition) INTO $upstream") == nil, "\(condition)")
        }
    }

    @Test("length and depth are bounded")
    func limits() throws {
        let long = "FROM /* WHERE a = '" + String(repeating: "x", count: Route.maxLength) + "' INTO $upstream"
        let tooLong = try #require(Fixture.error(long))
        #expect(tooLong.kind == .limit && tooLong.position == Route.maxLength)
        #expect(tooLong.message == "route is longer than 8192 characters")

        let parens = "FROM /* WHERE " + String(repeating: "(", count: 100) + "a = 'x'" + String(repeating: ")", count: 100) + " INTO $upstream"
        let deep = try #require(Fixture.error(parens))
        #expect(deep.kind == .limit && deep.position == 14 + Route.maxDepth)
        #expect(deep.message == "condition is nested more than 64 levels deep")

        let sum = "FROM /* WHERE $body.a" + String(repeating: " + 1", count: 100) + " > 0 INTO $upstream"
        #expect(Fixture.error(sum)?.kind == .limit)
        let nots = "FROM /* WHERE " + String(repeating: "NOT ", count: 100) + "IS_DEFINED(a) INTO $upstream"
        #expect(Fixture.error(nots)?.kind == .limit)
        let minus = "FROM /* WHERE " + String(repeating: "-", count: 100) + "$body.a > 0 INTO $upstream"
        #expect(Fixture.error(minus)?.kind == .limit)

        // A long chain of ORs is flat: one level, however many operands.
        let ors = (0..<200).map { "$connectionDeviceId = 'd\($0)'" }.joined(separator: " OR ")
        #expect(Fixture.error("FROM /* WHERE \(ors) INTO $upstream") == nil)
    }

    @Test("the caret stays inside the text, even past its end")
    func renderBounds() {
        let error = RouteError(.syntax, at: 99, "x")
        #expect(error.render(route: "ab") == "ab\n  ^\nx")
        #expect(RouteError(.syntax, at: -3, "y").render(route: "ab") == "ab\n^\ny")
    }
}
