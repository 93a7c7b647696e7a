import Testing
import Twin
@testable import EdgeCheck

/// A check with a fixed result that counts its runs.
final class FakeCheck: Checker, @unchecked Sendable {
    let id: String
    let description: String
    let fix = "do the thing"
    let result: CheckResult
    var runs = 0

    init(_ id: String, _ result: CheckResult) {
        self.id = id
        self.description = "the \(id) check"
        self.result = result
    }

    func run(_ context: CheckContext) async -> CheckResult {
        runs += 1
        return result
    }
}

@Suite("check framework")
struct CheckFrameworkTests {
    let context = CheckContext(options: .init(configPath: "/nonexistent/config.toml"))

    func runner(_ checks: [FakeCheck], dontRun: Set<String> = []) -> CheckRunner {
        CheckRunner(sections: [CheckSection("First", Array(checks.prefix(2))), CheckSection("Second", Array(checks.dropFirst(2)))],
                    dontRun: dontRun)
    }

    @Test func countsEachKindOfResult() async {
        let checks = [
            FakeCheck("a", .ok()), FakeCheck("b", .warning("meh", fix: "f")), FakeCheck("c", .failed("bad", fix: "f")),
            FakeCheck("d", .skipped("needs c")), FakeCheck("e", .ignored("n/a")), FakeCheck("f", .ok()),
        ]
        let report = await runner(checks).run(context)
        #expect(report.entries.map(\.id) == ["a", "b", "c", "d", "e", "f"])
        #expect(report.succeeded == 2 && report.warnings == 1 && report.errors == 1 && report.skipped == 1)
        #expect(report.entries.map(\.section) == ["First", "First", "Second", "Second", "Second", "Second"])
        let summary = CheckText(verbose: false, colour: false).summary(report)
        #expect(summary == """
            2 check(s) succeeded.
            1 check(s) raised warnings. Re-run with --verbose for more details.
            1 check(s) raised errors. Re-run with --verbose for more details.
            1 check(s) were skipped due to errors from other checks. Re-run with --verbose for more details.
            """)
        #expect(!CheckText(verbose: true, colour: false).summary(report).contains("Re-run"))
    }

    @Test func fatalStopsTheChecksAfterIt() async {
        let checks = [FakeCheck("a", .ok()), FakeCheck("b", .fatal("no config", fix: "f")), FakeCheck("c", .ok()), FakeCheck("d", .ok())]
        let report = await runner(checks).run(context)
        #expect(report.entries.map(\.id) == ["a", "b"])
        #expect(checks[2].runs == 0 && checks[3].runs == 0)
        #expect(report.stoppedBy == "b" && report.errors == 1)
        #expect(report.exitCode(warningsAsErrors: false) == 1)
    }

    @Test func dontRunIgnoresWithoutRunning() async {
        let checks = [FakeCheck("a", .failed("x", fix: "y")), FakeCheck("b", .ok()), FakeCheck("c", .fatal("x", fix: "y"))]
        let r = runner(checks, dontRun: ["a", "c"])
        let report = await r.run(context)
        #expect(checks[0].runs == 0 && checks[2].runs == 0 && checks[1].runs == 1)
        #expect(report.entries.map(\.result.status) == [.ignored, .ok, .ignored])
        #expect(report.exitCode(warningsAsErrors: true) == 0)
        #expect(runner(checks, dontRun: ["a", "zzz", "yyy"]).unknownDontRun == ["yyy", "zzz"])
    }

    @Test func exitCodeRules() async {
        func code(_ results: [CheckResult], strict: Bool) async -> Int32 {
            let checks = results.enumerated().map { FakeCheck("c\($0.offset)", $0.element) }
            return await runner(checks).run(context).exitCode(warningsAsErrors: strict)
        }
        #expect(await code([.ok(), .ignored("x"), .skipped("y")], strict: true) == 0)
        #expect(await code([.ok(), .warning("w", fix: "f")], strict: false) == 0)
        #expect(await code([.ok(), .warning("w", fix: "f")], strict: true) == 1)
        #expect(await code([.failed("e", fix: "f"), .ok()], strict: false) == 1)
    }

    @Test func jsonHasEdgeletsShape() async throws {
        let checks = [FakeCheck("a", .ok("fine", info: ["ms": 12])), FakeCheck("b", .failed("bad", fix: "f")), FakeCheck("c", .warning("w", fix: "g"))]
        let report = await runner(checks).run(context)
        let json = report.json
        #expect(json["additional_info"]?["config_file"] == "/nonexistent/config.toml")
        #expect(json["checks"]?["a"] == ["result": "ok", "details": ["fine"], "additional_info": ["ms": 12]])
        #expect(json["checks"]?["b"]?["result"] == "error")
        #expect(json["checks"]?["b"]?["details"] == ["bad", "Fix: f"])
        #expect(json["checks"]?["c"]?["result"] == "warning")
        // It round-trips as JSON text.
        #expect(try JSONValue(parsing: json.jsonText) == json)
    }

    @Test func textMarksEachResultAndColoursOnlyWhenAsked() {
        let plain = CheckText(verbose: false, colour: false)
        let ok = CheckReport.Entry(section: "S", id: "a", description: "thing works", result: .ok("12 ms"))
        let bad = CheckReport.Entry(section: "S", id: "b", description: "other works", result: .failed("it broke\nbadly", fix: "mend it"))
        let warn = CheckReport.Entry(section: "S", id: "c", description: "third", result: .warning("hmm", fix: "f"))
        let ignored = CheckReport.Entry(section: "S", id: "d", description: "fourth", result: .ignored("n/a"))
        #expect(plain.render(ok) == "\u{2713} thing works - OK")
        #expect(plain.render(bad) == "\u{00D7} other works - Error\n    it broke\n    badly\n    Fix: mend it")
        #expect(plain.render(warn) == "\u{203C} third - Warning\n    hmm\n    Fix: f")
        #expect(plain.render(ignored) == nil)
        let verbose = CheckText(verbose: true, colour: false)
        #expect(verbose.render(ok) == "\u{2713} thing works - OK [a]\n    12 ms")
        #expect(verbose.render(ignored) != nil)
        #expect(CheckText(verbose: false, colour: true).render(bad)?.hasPrefix("\u{1B}[31m") == true)
        #expect(plain.render(bad)?.contains("\u{1B}") == false)
    }

    @Test func everyRegisteredCheckHasAUniqueIDAndSaysHowToFix() {
        let checks = AllChecks.sections.flatMap(\.checks)
        #expect(Set(checks.map(\.id)).count == checks.count)
        for c in checks {
            #expect(c.id.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "-" }, "\(c.id)")
            #expect(!c.description.isEmpty && !c.fix.isEmpty, "\(c.id)")
        }
        for id in ["config-toml-well-formed", "hostname", "host-connect-iothub-amqp", "host-connect-iothub-https",
                   "host-connect-iothub-mqtt", "edgehub-host-ports", "host-local-time", "certs-match-private-keys"] {
            #expect(checks.contains { $0.id == id }, "\(id)")
        }
    }
}
