"""Diagnostic settings (issue 5): per category enabled, retention and sink, through
`iothub diagnostics show|set` and `/$outpost/diagnostics/settings`; Connections on by default;
turning it off stops the records; a `file:` sink gets NDJSON, a `webhook:` sink posts to a real
HTTP receiver; bad values are refused with a clear message."""

from __future__ import annotations

import gc
import json
import time

import pytest

from devicekit import (HookReceiver, OutpostApi, check_record_shape, cli_failed_with, cli_json,
                       free_port, paho_clean_cycle, raw_vanish, records_in_body, shape)
from outpost import unique, wait_for

CATEGORIES = ["Connections", "DeviceTelemetry", "TwinQueries", "DirectMethods", "C2DCommands", "FileUploadOperations"]


@pytest.fixture(scope="module", autouse=True)
def _release_http_connections(module_hub):
    yield
    gc.collect()


@pytest.fixture
def api(module_hub):
    a = OutpostApi(module_hub)
    yield a
    a.close()


@pytest.fixture
def restore_connections(module_hub, api):
    """Put Connections back to its defaults after the test, whatever it did."""
    yield
    r = api.put("diagnostics/settings/Connections",
                {"enabled": True, "retentionDays": 7, "sink": None})
    assert r.status_code == 200, r.text


def settings_cli(hub) -> dict[str, dict]:
    out = cli_json(hub, "diagnostics", "show")
    assert isinstance(out, list), out
    return {s["category"]: s for s in out}


def test_defaults(module_hub, api):
    for source in (settings_cli(module_hub), api.settings()):
        assert sorted(source) == sorted(CATEGORIES), source
        for cat, s in source.items():
            assert s["enabled"] is (cat == "Connections"), s
            assert s["retentionDays"] == 7, s
            assert s["sink"] is None, s

    cp = module_hub.cli("diagnostics", "show")
    assert cp.returncode == 0, cp.stderr
    header = cp.stdout.splitlines()[0]
    for col in ("CATEGORY", "ENABLED", "RETENTION", "SINK"):
        assert col in header, cp.stdout
    for cat in CATEGORIES:
        assert cat in cp.stdout


def test_disable_connections_stops_records(module_hub, api, restore_connections):
    out = cli_json(module_hub, "diagnostics", "set", "--category", "Connections",
                   "--enabled", "false")
    assert out["category"] == "Connections" and out["enabled"] is False, out
    assert api.settings()["Connections"]["enabled"] is False
    assert settings_cli(module_hub)["Connections"]["enabled"] is False

    did = unique("quiet")
    cs = module_hub.create_device(did)
    paho_clean_cycle(module_hub, cs)
    raw_vanish(module_hub, cs)
    time.sleep(1.5)
    assert api.records(device=did) == [], "records while Connections is disabled"

    out = cli_json(module_hub, "diagnostics", "set", "--category", "Connections",
                   "--enabled", "true")
    assert out["enabled"] is True, out
    paho_clean_cycle(module_hub, cs)
    recs = api.wait_records(did, 2, settle=1.0)
    assert shape(recs) == [("deviceConnect", "Information", ""),
                           ("deviceDisconnect", "Information", "")], recs


def test_retention_and_other_categories(module_hub, api):
    out = cli_json(module_hub, "diagnostics", "set", "--category", "DirectMethods",
                   "--enabled", "true", "--retention-days", "30")
    assert (out["category"], out["enabled"], out["retentionDays"]) == ("DirectMethods", True, 30)
    try:
        s = api.settings()
        assert (s["DirectMethods"]["enabled"], s["DirectMethods"]["retentionDays"]) == (True, 30)
        assert s["Connections"]["enabled"] is True, "other categories are untouched"
        # Only what is given changes.
        out = cli_json(module_hub, "diagnostics", "set", "--category", "DirectMethods",
                       "--enabled", "false")
        assert (out["enabled"], out["retentionDays"]) == (False, 30), out
    finally:
        r = api.put("diagnostics/settings/DirectMethods", {"enabled": False, "retentionDays": 7})
        assert r.status_code == 200, r.text
    assert api.settings()["DirectMethods"]["retentionDays"] == 7


def test_file_sink_receives_ndjson(module_hub, api, tmp_path, restore_connections):
    path = tmp_path / "connections.ndjson"
    out = cli_json(module_hub, "diagnostics", "set", "--category", "Connections",
                   "--sink", f"file:{path}")
    assert out["sink"] == f"file:{path}", out
    assert api.settings()["Connections"]["sink"] == f"file:{path}"

    clean, dropped = unique("sinkok"), unique("sinkdrop")
    paho_clean_cycle(module_hub, module_hub.create_device(clean))
    raw_vanish(module_hub, module_hub.create_device(dropped))

    def ours() -> list[dict]:
        if not path.exists():
            return []
        recs = []
        text = path.read_text()
        complete = text[:text.rfind("\n") + 1]  # a line still being written is not a record
        for line in complete.splitlines():
            assert line.strip(), f"an empty line in the NDJSON sink: {text!r}"
            recs.append(json.loads(line))
        return [r for r in recs if r["properties"]["deviceId"] in (clean, dropped)]

    got = wait_for(lambda: len(ours()) >= 4 and ours(), timeout=10)
    time.sleep(1.0)
    got = ours()
    assert len(got) == 4, got
    for r in got:
        check_record_shape(r, module_hub)
    assert shape([r for r in got if r["properties"]["deviceId"] == clean]) == [
        ("deviceConnect", "Information", ""), ("deviceDisconnect", "Information", "")]
    assert shape([r for r in got if r["properties"]["deviceId"] == dropped]) == [
        ("deviceConnect", "Information", ""), ("deviceDisconnect", "Error", "404104")]
    # The store keeps them as well, the same records.
    stored = api.records(device=dropped)
    assert [r["time"] for r in stored] == \
        [r["time"] for r in got if r["properties"]["deviceId"] == dropped]

    # Removing the sink stops the file.
    out = cli_json(module_hub, "diagnostics", "set", "--category", "Connections",
                   "--sink", "none")
    assert out["sink"] is None, out
    size = path.stat().st_size
    later = unique("nosink")
    paho_clean_cycle(module_hub, module_hub.create_device(later))
    api.wait_records(later, 2, settle=1.0)
    assert path.stat().st_size == size, "records still go to a removed sink"


def test_webhook_sink_posts_records(module_hub, api, restore_connections):
    receiver = HookReceiver()
    try:
        url = receiver.url("/diag")
        out = cli_json(module_hub, "diagnostics", "set", "--category", "Connections",
                       "--sink", f"webhook:{url}")
        assert out["sink"] == f"webhook:{url}", out

        did = unique("hooked")
        raw_vanish(module_hub, module_hub.create_device(did))

        def ours() -> list[dict]:
            return [r for req in receiver.snapshot() for r in records_in_body(req)
                    if r.get("properties", {}).get("deviceId") == did]

        wait_for(lambda: len(ours()) >= 2, timeout=15)
        time.sleep(1.0)
        got = ours()
        assert shape(got) == [("deviceConnect", "Information", ""),
                              ("deviceDisconnect", "Error", "404104")], got
        for r in got:
            check_record_shape(r, module_hub)
        for req in receiver.snapshot():
            assert req["method"] == "POST" and req["path"] == "/diag", req
            assert "json" in req["headers"].get("Content-Type", "").lower() or \
                "ndjson" in req["headers"].get("Content-Type", "").lower(), req["headers"]
    finally:
        receiver.close()


def test_unreachable_webhook_sink_does_not_block_the_hub(module_hub, api, restore_connections):
    """A sink whose receiver is gone: devices still connect and records are still stored."""
    url = f"http://127.0.0.1:{free_port()}/gone"
    r = api.put("diagnostics/settings/Connections", {"sink": f"webhook:{url}"})
    assert r.status_code == 200, r.text
    did = unique("sinkless")
    cs = module_hub.create_device(did)
    started = time.monotonic()
    for i in range(3):
        paho_clean_cycle(module_hub, cs, hold=0)
        api.wait_records(did, 2 * (i + 1), settle=0)
    assert time.monotonic() - started < 15
    assert len(api.wait_records(did, 6, settle=0.5)) == 6


# ---- bad values ------------------------------------------------------------------------------


def test_bad_values_are_refused(module_hub, api):
    before = api.settings()
    cli_failed_with(module_hub.cli("diagnostics", "set", "--category", "Bogus",
                                   "--enabled", "true"), "Connections")
    cli_failed_with(module_hub.cli("diagnostics", "set", "--category", "Connections",
                                   "--enabled", "maybe"), "--enabled", "true", "false")
    for days in ("0", "366", "-1", "x"):
        cli_failed_with(module_hub.cli("diagnostics", "set", "--category", "Connections",
                                       "--retention-days", days), "retention", "365")
    for sink in ("ftp://x", "file:", "webhook:", "webhook:not a url"):
        cli_failed_with(module_hub.cli("diagnostics", "set", "--category", "Connections",
                                       "--sink", sink), "sink", "file:", "webhook:")

    for category, body, needles in (
            ("Bogus", {"enabled": True}, CATEGORIES),
            ("Connections", {"retentionDays": 0}, ("retention",)),
            ("Connections", {"retentionDays": 366}, ("retention",)),
            ("Connections", {"enabled": "yes"}, ("enabled",)),
            ("Connections", {"sink": "ftp://x"}, ("sink", "file:", "webhook:"))):
        r = api.put(f"diagnostics/settings/{category}", body)
        assert r.status_code == 400, f"{category} {body}: {r.status_code} {r.text}"
        assert any(n.lower() in r.text.lower() for n in needles), r.text
        if category == "Bogus":
            assert all(c in r.text for c in CATEGORIES), \
                f"an unknown category names the valid ones: {r.text}"
    assert api.settings() == before, "refused changes leave the settings as they were"


def test_settings_and_records_survive_restart(hub):
    api = OutpostApi(hub)
    try:
        did = unique("persist")
        cs = hub.create_device(did)
        paho_clean_cycle(hub, cs)
        assert len(api.wait_records(did, 2, settle=0)) == 2
        cli_json(hub, "diagnostics", "set", "--category", "TwinQueries", "--enabled", "true",
                 "--retention-days", "3")
    finally:
        api.close()
    hub.restart()
    api = OutpostApi(hub)
    try:
        s = api.settings()
        assert (s["TwinQueries"]["enabled"], s["TwinQueries"]["retentionDays"]) == (True, 3), s
        recs = api.records(device=did)
        assert shape(recs)[:2] == [("deviceConnect", "Information", ""),
                                   ("deviceDisconnect", "Information", "")], recs
    finally:
        api.close()
