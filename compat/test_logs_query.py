"""The log query (issue 5): the troubleshooting page's query pasted verbatim, through
`iothub logs query` and `POST /$outpost/logs/query`, over a connection history this module
scripts with real clients on a fresh hub; the KQL operators an operator writes next; syntax
errors with a caret.

History (on a hub with `--connect-timeout 2s`):
  A: 2 clean paho sessions, 2 raw MQTT sessions dropped without DISCONNECT (404104)
  B: 1 expired token, 1 bad signature (401003 each)
  C: 2 paho clients with one id (409002 for the first), the second disconnects cleanly
  a TCP connection that never starts TLS (500008)
"""

from __future__ import annotations

import collections
import datetime as dt
import gc
import json
import time

import pytest

from devicekit import (CODE_NAMES, SEED_QUERY, OutpostApi, badly_signed_token, cli_json,
                       expired_token, paho_clean_cycle, paho_conflict, paho_refused, parse_time,
                       raw_vanish, running_hub, tcp_silent)
from outpost import unique

EXPECTED_ERRORS = collections.Counter({
    ("deviceDisconnect", "404104"): 2,
    ("deviceConnect", "401003"): 2,
    ("deviceDisconnect", "409002"): 1,
    ("deviceConnect", "500008"): 1,
})
EXPECTED_RECORDS = 15  # 6 errors + 6 successful connects + 3 clean disconnects


class History:
    def __init__(self, hub, a: str, b: str, c: str, start: dt.datetime):
        self.hub, self.a, self.b, self.c, self.start = hub, a, b, c, start

    def split(self, rows: list[dict]) -> tuple[list[dict], list[dict]]:
        """(rows of the scripted history, earlier rows). Earlier rows can only be the harness's
        readiness probe (a TCP connection to 8883 closed at once while the hub started); they
        carry no device id."""
        mine = [r for r in rows if parse_time(r["TimeGenerated"]) >= self.start]
        earlier = [r for r in rows if parse_time(r["TimeGenerated"]) < self.start]
        for r in earlier:
            assert not r.get("DeviceId"), f"a record from before the history: {r}"
        return mine, earlier


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    with running_hub(tmp_path_factory, "logsquery", ("--connect-timeout", "2s")) as hub:
        api = OutpostApi(hub)
        try:
            a, b, c = unique("lq-a"), unique("lq-b"), unique("lq-c")
            cs_a, cs_b, cs_c = (hub.create_device(d) for d in (a, b, c))
            time.sleep(1.0)
            start = dt.datetime.now(dt.timezone.utc)
            # Each session's end is logged before the next connection with the same id (else
            # the hub could see the new one first and log a conflict).
            for i in range(2):
                paho_clean_cycle(hub, cs_a)
                api.wait_records(a, 2 + 2 * i, settle=0)
            for i in range(2):
                raw_vanish(hub, cs_a)
                api.wait_records(a, 6 + 2 * i, settle=0)
            assert paho_refused(hub, b, expired_token(cs_b)) in (4, 5)
            assert paho_refused(hub, b, badly_signed_token(hub, b)) in (4, 5)
            paho_conflict(hub, cs_c)
            tcp_silent(hub)

            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                recs = [r for r in api.records(since="1h")
                        if parse_time(r["time"]) >= start]
                if len(recs) >= EXPECTED_RECORDS:
                    break
                time.sleep(0.2)
            time.sleep(1.0)
            recs = [r for r in api.records(since="1h") if parse_time(r["time"]) >= start]
            assert len(recs) == EXPECTED_RECORDS, \
                f"the scripted history should leave {EXPECTED_RECORDS} records: {recs}"
        finally:
            api.close()
        yield History(hub, a, b, c, start)
        gc.collect()


@pytest.fixture
def api(history):
    a = OutpostApi(history.hub)
    yield a
    a.close()


def query_cli(hub, kql: str) -> list[dict]:
    rows = cli_json(hub, "logs", "query", kql)
    assert isinstance(rows, list), rows
    return rows


def counts(rows, *cols) -> collections.Counter:
    return collections.Counter(tuple(r[c] for c in cols) for r in rows)


def check_seed_rows(history: History, rows: list[dict]) -> None:
    mine, _ = history.split(rows)
    assert counts(mine, "OperationName", "ResultType") == EXPECTED_ERRORS, mine
    by_code = {"404104": history.a, "401003": history.b, "409002": history.c}
    for r in rows:
        assert r["Type"] == "AzureDiagnostics" and r["ResourceType"] == "IOTHUBS", r
        assert r["Category"] == "Connections" and r["Level"] == "Error", r
        assert r["$table"] == "AzureDiagnostics", r
        assert r["Resource"] == history.hub.host.upper(), r
        assert r["ResultDescription"].lower().startswith(CODE_NAMES[r["ResultType"]].lower()), r
        parse_time(r["TimeGenerated"])
    for r in mine:
        assert r["DeviceId"] == by_code.get(r["ResultType"]) or \
            (r["ResultType"] == "500008" and not r["DeviceId"]), r
    descriptions = [r["ResultDescription"].lower() for r in mine if r["ResultType"] == "401003"]
    assert any("expired" in d for d in descriptions), descriptions
    assert any("signature" in d for d in descriptions), descriptions


# ---- the seed's query ------------------------------------------------------------------------


def test_seed_query_verbatim_cli(history):
    check_seed_rows(history, query_cli(history.hub, SEED_QUERY))


def test_seed_query_verbatim_rest(history, api):
    r = api.query_raw(SEED_QUERY)
    assert r.status_code == 200, r.text
    body = r.json()
    [table] = [t for t in body["tables"] if t["name"] == "PrimaryResult"]
    types = {c["name"]: c["type"] for c in table["columns"]}
    for col in ("TimeGenerated", "OperationName", "ResultType", "ResultDescription", "Category",
                "Level", "DeviceId", "DurationMs"):
        assert col in types, f"column {col} missing: {list(types)}"
    assert types["TimeGenerated"] == "datetime" and types["ResultType"] == "string", types
    assert types["DurationMs"] == "long", types
    check_seed_rows(history, api.query(SEED_QUERY))


def test_output_json_is_an_alias_of_json(history):
    kql = 'AzureDiagnostics | where DeviceId == "%s" | order by TimeGenerated asc' % history.a
    cp = history.hub.cli("logs", "query", kql, "--output", "json")
    assert cp.returncode == 0, cp.stderr
    assert json.loads(cp.stdout) == query_cli(history.hub, kql)


def test_summarize_count_by_result_type(history, api):
    _, earlier = history.split(api.query(SEED_QUERY))
    want: collections.Counter = collections.Counter()
    for (_, code), n in EXPECTED_ERRORS.items():
        want[code] += n
    for r in earlier:
        want[r["ResultType"]] += 1
    kql = SEED_QUERY + "\n| summarize count() by ResultType"
    for rows in (api.query(kql), query_cli(history.hub, kql)):
        got = {r["ResultType"]: r["count_"] for r in rows}
        assert got == dict(want), rows
        assert all(set(r) == {"ResultType", "count_"} for r in rows), rows


def test_table_output_is_aligned(history):
    kql = ('AzureDiagnostics | where DeviceId == "%s" | order by TimeGenerated asc '
           '| project OperationName, Level, ResultType' % history.a)
    cp = history.hub.cli("logs", "query", kql)
    assert cp.returncode == 0, cp.stderr
    assert "\x1b[" not in cp.stdout, "no colour when stdout is not a terminal"
    lines = [ln for ln in cp.stdout.splitlines() if ln.strip()]
    header = next(ln for ln in lines if "OperationName" in ln)
    assert header.index("OperationName") < header.index("Level") < header.index("ResultType")
    data = [ln for ln in lines if "deviceConnect" in ln or "deviceDisconnect" in ln]
    assert len(data) == 8, cp.stdout
    for ln in data:
        assert ln[header.index("Level"):].startswith(("Information", "Error")), (header, ln)
    assert sum("404104" in ln for ln in data) == 2, cp.stdout
    for ln in data:
        if "404104" in ln:
            assert ln.index("404104") == header.index("ResultType"), (header, ln)


# ---- operators -------------------------------------------------------------------------------

# History of A: 4 connects, 2 clean disconnects, 2 dropped (404104).
OPERATOR_CASES = {
    "summarize-by-two": (
        'AzureDiagnostics | where DeviceId == "{a}" | summarize count() by OperationName, Level',
        lambda rows, h: counts_of(rows, "OperationName", "Level") == {
            ("deviceConnect", "Information"): 4, ("deviceDisconnect", "Information"): 2,
            ("deviceDisconnect", "Error"): 2}),
    "summarize-all": (
        'AzureDiagnostics | where DeviceId == "{a}" | summarize count()',
        lambda rows, h: [r["count_"] for r in rows] == [8]),
    "project": (
        'AzureDiagnostics | where DeviceId == "{a}" and ResultType != "" '
        '| project OperationName, ResultType',
        lambda rows, h: rows == [{"OperationName": "deviceDisconnect",
                                  "ResultType": "404104"}] * 2),
    "in-and-or": (
        'AzureDiagnostics | where (DeviceId == "{b}" or DeviceId == "{c}") and Level == "Error" '
        '| where ResultType in ("401003", "409002")',
        lambda rows, h: dict(counts(rows, "DeviceId", "ResultType")) == {
            (h.b, "401003"): 2, (h.c, "409002"): 1}),
    "not": (
        'AzureDiagnostics | where DeviceId == "{a}" and not(Level == "Error")',
        lambda rows, h: len(rows) == 6 and all(r["Level"] == "Information" for r in rows)),
    "has": (
        'AzureDiagnostics | where DeviceId == "{b}" and ResultDescription has "expired"',
        lambda rows, h: len(rows) == 1 and rows[0]["ResultType"] == "401003"),
    "contains": (
        'AzureDiagnostics | where DeviceId == "{b}" and ResultDescription contains "signatur"',
        lambda rows, h: len(rows) == 1 and rows[0]["ResultType"] == "401003"),
    "startswith": (
        'AzureDiagnostics | where DeviceId startswith "{a_prefix}"',
        lambda rows, h: len(rows) == 8),
    "ago": (
        'AzureDiagnostics | where DeviceId == "{a}" and TimeGenerated > ago(1h)',
        lambda rows, h: len(rows) == 8),
    "ago-none": (
        'AzureDiagnostics | where DeviceId == "{a}" and TimeGenerated < ago(1h)',
        lambda rows, h: rows == []),
    "between": (
        'AzureDiagnostics | where DeviceId == "{a}" and OperationName == "deviceDisconnect" '
        'and DurationMs between (0 .. 3600000)',
        lambda rows, h: len(rows) == 4),
    "extend": (
        'AzureDiagnostics | where DeviceId == "{a}" | extend IsError = Level == "Error" '
        '| summarize count() by IsError',
        lambda rows, h: counts_of(rows, "IsError") == {(True,): 2, (False,): 6}),
    "order-desc-take": (
        'AzureDiagnostics | where DeviceId == "{a}" | order by TimeGenerated desc | take 3',
        lambda rows, h: len(rows) == 3 and times(rows) == sorted(times(rows), reverse=True)),
    "order-asc": (
        'AzureDiagnostics | where DeviceId == "{a}" | order by TimeGenerated asc',
        lambda rows, h: len(rows) == 8 and times(rows) == sorted(times(rows))
        and rows[0]["OperationName"] == "deviceConnect"),
    "top": (
        'AzureDiagnostics | where DeviceId == "{a}" | top 1 by TimeGenerated desc',
        lambda rows, h: len(rows) == 1 and rows[0]["OperationName"] == "deviceDisconnect"),
    "distinct": (
        'AzureDiagnostics | where DeviceId == "{a}" | distinct OperationName',
        lambda rows, h: sorted(r["OperationName"] for r in rows)
        == ["deviceConnect", "deviceDisconnect"]),
    "bin": (
        'AzureDiagnostics | where DeviceId == "{a}" | summarize count() by bin(TimeGenerated, 5m)',
        lambda rows, h: sum(r["count_"] for r in rows) == 8 and all(
            parse_time(r["TimeGenerated"]).minute % 5 == 0
            and parse_time(r["TimeGenerated"]).second == 0 for r in rows)),
}


def counts_of(rows, *cols) -> dict:
    """The `summarize count() by cols` answer as {(values…): count}."""
    return {tuple(r[c] for c in cols): r["count_"] for r in rows}


def times(rows) -> list:
    return [parse_time(r["TimeGenerated"]) for r in rows]


@pytest.mark.parametrize("case", list(OPERATOR_CASES))
def test_operators(history, api, case):
    template, check = OPERATOR_CASES[case]
    kql = template.format(a=history.a, b=history.b, c=history.c,
                          a_prefix=history.a[:-3])
    rows = api.query(kql)
    assert check(rows, history), f"{kql}\n-> {rows}"
    assert query_cli(history.hub, kql) == rows, "the CLI prints the same rows as the REST API"


# ---- syntax errors ---------------------------------------------------------------------------


def caret_column(text: str, line: str) -> int:
    """The caret's column under `line` in a message, relative to where `line` starts."""
    lines = text.splitlines()
    for i, ln in enumerate(lines):
        if line in ln and i + 1 < len(lines) and "^" in lines[i + 1]:
            return lines[i + 1].index("^") - ln.index(line)
    raise AssertionError(f"no caret line under {line!r} in:\n{text}")


def test_syntax_error_shows_caret_cli(history):
    kql = 'AzureDiagnostics | wher Level == "Error"'
    cp = history.hub.cli("logs", "query", kql)
    assert cp.returncode != 0, cp.stdout
    text = cp.stderr + cp.stdout
    assert "expected" in text.lower(), text
    assert caret_column(text, kql) == kql.index("wher"), text

    cp = history.hub.cli("logs", "query", kql, "--json")
    assert cp.returncode != 0 and "expected" in (cp.stderr + cp.stdout).lower()


def test_syntax_error_on_a_later_line(history, api):
    """A multi-line query: the caret is under the line with the error."""
    bad_line = '| where ( Category == "Connections" and Level == )'
    kql = SEED_QUERY.rsplit("\n", 1)[0] + "\n" + bad_line
    cp = history.hub.cli("logs", "query", kql)
    assert cp.returncode != 0
    text = cp.stderr + cp.stdout
    assert "expected" in text.lower(), text
    assert caret_column(text, bad_line) == bad_line.rindex(")"), text


def test_syntax_error_rest_is_400_argument_invalid(history, api):
    kql = 'AzureDiagnostics | wher Level == "Error"'
    r = api.query_raw(kql)
    assert r.status_code == 400, r.text
    assert "400004" in r.text or "ArgumentInvalid" in r.text, r.text
    message = r.json().get("Message") or r.json().get("message") or ""
    message = message.split("ErrorCode:ArgumentInvalid;", 1)[-1]
    assert "expected" in message.lower(), message
    assert caret_column(message, kql) == kql.index("wher"), message

    for bad in ("", "AzureDiagnostics | take", 'AzureDiagnostics | where Level == "Error',
                "AzureDiagnostics | where (Level == 1"):
        r = api.query_raw(bad)
        assert r.status_code == 400, f"{bad!r}: {r.status_code} {r.text}"
