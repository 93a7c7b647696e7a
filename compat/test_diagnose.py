"""`iothub diagnose DEVICE` and `GET /$outpost/devices/{d}/diagnosis` (issue 5): a device's
connection history, its error counts with root cause and resolution, and what the hub reads in
it, after a history scripted with paho:

  flaky:    3 keep-alive expiries (keep-alive 1 s, network loop stopped), 1 expired token,
            1 clean session
  twice:    2 replaced connections (409002), 1 dropped socket (404104), 1 clean session
  idle:     never connected
"""

from __future__ import annotations

import collections
import gc
import time

import pytest

from devicekit import (CODE_NAMES, OutpostApi, cli_failed_with, cli_json, expired_token,
                       keepalive_expiry, paho_clean_cycle, paho_conflict, paho_refused,
                       parse_time, raw_vanish, running_hub)
from outpost import unique

KEEPALIVE = 1


class Scripted:
    def __init__(self, hub, flaky: str, twice: str, idle: str):
        self.hub, self.flaky, self.twice, self.idle = hub, flaky, twice, idle


@pytest.fixture(scope="module")
def scripted(tmp_path_factory):
    with running_hub(tmp_path_factory, "diagnose") as hub:
        api = OutpostApi(hub)
        try:
            flaky, twice, idle = unique("flaky"), unique("twice"), unique("idle")
            cs = hub.create_device(flaky)
            for i in range(3):
                keepalive_expiry(hub, cs, KEEPALIVE)
                api.wait_records(flaky, 2 * (i + 1), settle=0)
            assert paho_refused(hub, flaky, expired_token(cs)) in (4, 5)
            api.wait_records(flaky, 7, settle=0)
            paho_clean_cycle(hub, cs)
            assert len(api.wait_records(flaky, 9, settle=0.5)) == 9

            cs = hub.create_device(twice)
            for i in range(2):
                paho_conflict(hub, cs, hold=0.3)
                api.wait_records(twice, 4 * (i + 1), settle=0)
            raw_vanish(hub, cs)
            api.wait_records(twice, 10, settle=0)
            paho_clean_cycle(hub, cs)
            assert len(api.wait_records(twice, 12, settle=0.5)) == 12

            hub.create_device(idle)
        finally:
            api.close()
        yield Scripted(hub, flaky, twice, idle)
        gc.collect()


def diagnose(hub, *args: str) -> dict:
    return cli_json(hub, "diagnose", *args)


def errors_by_code(d: dict) -> dict[str, dict]:
    return {e["resultType"]: e for e in d["errors"]}


def test_diagnose_keepalive_expiries(scripted):
    d = diagnose(scripted.hub, scripted.flaky)
    assert d["deviceId"] == scripted.flaky, d
    reg = d["registry"]
    assert reg["status"] == "enabled", reg
    assert reg["connectionState"] == "Disconnected", reg
    assert d["connects"] in (4, 5), f"4 sessions (and one refused attempt): {d['connects']}"
    assert d["disconnects"] == 4, d

    errors = errors_by_code(d)
    assert set(errors) == {"404104", "401003"}, d["errors"]
    assert errors["404104"]["count"] == 3 and errors["401003"]["count"] == 1, d["errors"]
    for code, e in errors.items():
        assert e["name"].lower() == CODE_NAMES[code].lower(), e
        assert len(e["rootCause"]) > 20 and len(e["resolution"]) > 20, e
        parse_time(e["last"])
    assert "token" in errors["401003"]["rootCause"].lower() or \
        "authent" in errors["401003"]["rootCause"].lower(), errors["401003"]

    findings = d["findings"]
    keepalive = [f for f in findings if "keep-alive" in f.lower() or "keepalive" in f.lower()]
    assert keepalive, f"a finding about keep-alive expiry: {findings}"
    assert any("3" in f and ("expir" in f.lower() or "pingreq" in f.lower())
               for f in keepalive), findings

    history = d["history"]
    assert collections.Counter((h["operationName"], h["level"], h["resultType"] or "")
                               for h in history) == {
        ("deviceConnect", "Information", ""): 4,
        ("deviceDisconnect", "Error", "404104"): 3,
        ("deviceConnect", "Error", "401003"): 1,
        ("deviceDisconnect", "Information", ""): 1,
    }, history
    for h in history:
        assert set(h) >= {"time", "operationName", "level", "resultType", "resultDescription",
                          "protocol", "durationMs"}, h
        assert h["protocol"] == "Mqtt", h
    for h in history:
        if h["resultType"] == "404104":
            assert "keep-alive" in h["resultDescription"].lower() or \
                "keepalive" in h["resultDescription"].lower(), h
            assert h["durationMs"] >= 1.5 * KEEPALIVE * 1000 - 300, h


def test_diagnose_conflicts(scripted):
    d = diagnose(scripted.hub, scripted.twice)
    errors = errors_by_code(d)
    assert set(errors) == {"409002", "404104"}, d["errors"]
    assert (errors["409002"]["count"], errors["404104"]["count"]) == (2, 1), d["errors"]
    assert d["connects"] == 6 and d["disconnects"] == 6, d
    assert len(d["history"]) == 12, d["history"]
    # One enum: the same code has the same root cause and resolution for every device.
    flaky = errors_by_code(diagnose(scripted.hub, scripted.flaky))
    assert (errors["404104"]["rootCause"], errors["404104"]["resolution"]) == \
        (flaky["404104"]["rootCause"], flaky["404104"]["resolution"])
    assert not any("keep-alive expir" in f.lower() for f in d["findings"]), d["findings"]


def test_diagnose_text_output(scripted):
    d = diagnose(scripted.hub, scripted.flaky)
    cp = scripted.hub.cli("diagnose", scripted.flaky)
    assert cp.returncode == 0, cp.stderr
    text = cp.stdout
    assert "\x1b[" not in text
    assert scripted.flaky in text
    for col in ("CODE", "NAME", "COUNT", "LAST"):
        assert col in text, text
    for e in d["errors"]:
        row = next((ln for ln in text.splitlines() if e["resultType"] in ln
                    and e["name"] in ln), None)
        assert row is not None, f"no table row for {e['resultType']}:\n{text}"
        assert str(e["count"]) in row.split(), row
        flat = " ".join(text.split())
        assert " ".join(e["rootCause"].split()) in flat, f"root cause of {e['resultType']} missing"
        assert " ".join(e["resolution"].split()) in flat, f"resolution of {e['resultType']}"
    for f in d["findings"]:
        assert " ".join(f.split()) in " ".join(text.split()), f


def test_diagnose_rest_matches_cli(scripted):
    api = OutpostApi(scripted.hub)
    try:
        r = api.get(f"devices/{scripted.flaky}/diagnosis", params={"since": "24h"})
        assert r.status_code == 200, r.text
        rest = r.json()
    finally:
        api.close()
    cli = diagnose(scripted.hub, scripted.flaky, "--since", "24h")
    for key in ("deviceId", "connects", "disconnects", "errors", "findings", "history"):
        assert rest[key] == cli[key], key
    assert set(rest) >= {"deviceId", "since", "registry", "connects", "disconnects", "errors",
                         "findings", "history"}, rest


def test_diagnose_idle_device_and_short_window(scripted):
    d = diagnose(scripted.hub, scripted.idle)
    assert (d["connects"], d["disconnects"], d["errors"], d["history"]) == (0, 0, [], []), d
    assert d["registry"]["connectionState"] == "Disconnected", d

    time.sleep(2.0)
    d = diagnose(scripted.hub, scripted.flaky, "--since", "1s")
    assert (d["connects"], d["disconnects"], d["errors"], d["history"]) == (0, 0, [], []), d


def test_diagnose_unknown_device_fails(scripted):
    nosuch = unique("nosuch")
    cli_failed_with(scripted.hub.cli("diagnose", nosuch), nosuch, "404001", "DeviceNotFound",
                    "not found")
    cp = scripted.hub.cli("diagnose", nosuch, "--json")
    assert cp.returncode != 0
    cli_failed_with(scripted.hub.cli("diagnose", scripted.flaky, "--since", "yesterday"),
                    "--since", "duration")
    api = OutpostApi(scripted.hub)
    try:
        assert api.get(f"devices/{nosuch}/diagnosis").status_code == 404
    finally:
        api.close()
