"""Metric alerts (issue 5) as the troubleshooting page sets them up: connectedDeviceCount below a
threshold fires when devices drop and resolves when they return, delivering Azure Monitor's
common alert schema to a real HTTP receiver started by the test, exactly once per transition;
`exec:` actions; failing actions are retried and recorded without stopping evaluation.

Each test has its own hub (connectedDeviceCount is hub-wide) started with `--alert-interval 1s`;
alert windows are 2 s."""

from __future__ import annotations

import json
import shlex
import time

import pytest

from devicekit import (HookReceiver, OutpostApi, cli_failed_with, cli_json, free_port,
                       parse_time)
from outpost import PahoDevice, unique, wait_for

ALERT_ARGS = ("--alert-interval", "1s")
WINDOW = 2


@pytest.fixture
def pahos():
    made: list[PahoDevice] = []
    yield made
    for p in made:
        p.close()


@pytest.fixture
def receivers():
    made: list[HookReceiver] = []
    yield made
    for r in made:
        r.close()


@pytest.fixture
def ahub(hub_factory):
    """A fresh hub with --alert-interval 1s; `ahub.api` is an OutpostApi on it."""
    h = hub_factory("alerts", extra_args=ALERT_ARGS)
    h.api = OutpostApi(h)
    yield h
    h.api.close()


def connect(hub, cs: str, made: list) -> PahoDevice:
    p = PahoDevice.from_connection_string(hub, cs)
    made.append(p)
    assert p.connect() == 0
    return p


def create_alert(hub, name: str, threshold: float, *actions: str, operator: str = "LessThan",
                 aggregation: str = "Minimum", window: str = f"{WINDOW}s") -> dict:
    args = ["alerts", "create", name, "--metric", "connectedDeviceCount", "--operator", operator,
            "--threshold", str(threshold), "--window", window, "--aggregation", aggregation]
    for a in actions:
        args += ["--action", a]
    return cli_json(hub, *args)


def history(hub, name: str) -> list[dict]:
    h = cli_json(hub, "alerts", "history", name)
    assert isinstance(h, list), h
    return sorted(h, key=lambda e: parse_time(e["time"]))


def condition_of(req: dict) -> str | None:
    try:
        return req["json"]["data"]["essentials"]["monitorCondition"]
    except (KeyError, TypeError):
        return None


def check_payload(req: dict, name: str, condition: str, value: float, threshold: float) -> None:
    body = req["json"]
    assert req["method"] == "POST", req
    assert "json" in req["headers"].get("Content-Type", ""), req["headers"]
    assert body["schemaId"] == "azureMonitorCommonAlertSchema", body
    ess = body["data"]["essentials"]
    assert ess["alertRule"] == name, ess
    assert ess["monitorCondition"] == condition, ess
    # As Azure Monitor sends it: a Resolved notification carries the instance's firedDateTime
    # and its resolvedDateTime.
    fired_at = parse_time(ess["firedDateTime"])
    if condition == "Resolved":
        assert parse_time(ess["resolvedDateTime"]) >= fired_at, ess
    cond = body["data"]["alertContext"]["condition"]
    assert cond["windowSize"] == f"PT{WINDOW}S", cond
    [c] = cond["allOf"]
    assert c["metricName"] == "connectedDeviceCount", c
    assert c["operator"] == "LessThan", c
    assert float(c["threshold"]) == threshold, c
    assert c["timeAggregation"] == "Minimum", c
    assert float(c["metricValue"]) == value, c


def test_fires_when_devices_drop_and_resolves_when_they_return(ahub, pahos, receivers):
    api = ahub.api
    receiver = HookReceiver()
    receivers.append(receiver)
    css = [ahub.create_device(unique("watched")) for _ in range(2)]
    for cs in css:
        connect(ahub, cs, pahos)
    api.wait_metric("connectedDeviceCount", lambda v: v == 2)
    time.sleep(WINDOW + 0.5)  # the whole window has 2 devices

    name = unique("devices-down")
    url = receiver.url("/hook")
    out = create_alert(ahub, name, 2, f"webhook:{url}")
    assert (out["name"], out["metric"], out["operator"], out["aggregation"]) == \
        (name, "connectedDeviceCount", "LessThan", "Minimum"), out
    assert float(out["threshold"]) == 2 and out["actions"] == [f"webhook:{url}"], out
    assert out["enabled"] is True and out["state"] in ("Unknown", "Resolved"), out

    time.sleep(3)  # evaluations with the condition false deliver nothing
    assert receiver.snapshot() == [], "nothing is delivered while the condition does not hold"
    assert cli_json(ahub, "alerts", "show", name)["state"] == "Resolved"

    # One device drops: the alert fires, once.
    pahos[1].close()
    api.wait_metric("connectedDeviceCount", lambda v: v == 1)
    fired = receiver.wait_count(1, timeout=10)
    assert [condition_of(r) for r in fired] == ["Fired"], fired
    check_payload(fired[0], name, "Fired", value=1, threshold=2)
    assert fired[0]["path"] == "/hook"
    assert cli_json(ahub, "alerts", "show", name)["state"] == "Fired"
    time.sleep(3)
    assert len(receiver.snapshot()) == 1, "a held condition fires once"

    # It comes back: the alert resolves, once.
    connect(ahub, css[1], pahos)
    both = receiver.wait_count(2, timeout=15)
    assert [condition_of(r) for r in both] == ["Fired", "Resolved"], both
    check_payload(both[1], name, "Resolved", value=2, threshold=2)
    assert both[1]["json"]["data"]["essentials"]["firedDateTime"] == \
        both[0]["json"]["data"]["essentials"]["firedDateTime"], "one alert instance"
    time.sleep(3)
    assert [condition_of(r) for r in receiver.snapshot()] == ["Fired", "Resolved"], \
        "each transition is delivered exactly once"
    assert cli_json(ahub, "alerts", "show", name)["state"] == "Resolved"

    entries = history(ahub, name)
    assert [e["state"] for e in entries] == ["Fired", "Resolved"], entries
    assert [float(e["value"]) for e in entries] == [1, 2], entries
    for e in entries:
        assert (e["metric"], e["operator"], e["aggregation"]) == \
            ("connectedDeviceCount", "LessThan", "Minimum"), e
        assert float(e["threshold"]) == 2, e
        [a] = e["actions"]
        assert (a["action"], a["ok"], a["attempts"]) == (f"webhook:{url}", True, 1), a
    r = api.get(f"alerts/{name}/history")
    assert r.status_code == 200, r.text
    assert sorted(e["state"] for e in r.json()) == ["Fired", "Resolved"], r.json()


def test_exec_action_runs_a_command(ahub, pahos, tmp_path):
    """exec: gets OUTPOST_ALERT_* in its environment and the alert JSON on stdin; a command
    that fails is recorded as failed."""
    out_dir = tmp_path / "exec"
    out_dir.mkdir()
    d = shlex.quote(str(out_dir))
    command = (f"env | grep '^OUTPOST_ALERT_' | sort > {d}/$OUTPOST_ALERT_CONDITION.env; "
               f"cat > {d}/$OUTPOST_ALERT_CONDITION.json")
    name = unique("none-connected")
    failing = unique("failing-exec")
    create_alert(ahub, name, 1, f"exec:{command}")
    create_alert(ahub, failing, 1, "exec:exit 3")

    # No device is connected: the condition (count < 1) holds at once.
    fired_env = out_dir / "Fired.env"
    assert wait_for(lambda: fired_env.exists() and (out_dir / "Fired.json").exists()
                    and fired_env.read_text().count("\n") >= 4, timeout=15), \
        f"the exec action did not run: {list(out_dir.iterdir())}"
    time.sleep(0.5)
    env = dict(line.split("=", 1) for line in fired_env.read_text().splitlines())
    assert env["OUTPOST_ALERT_NAME"] == name, env
    assert env["OUTPOST_ALERT_CONDITION"] == "Fired", env
    assert env["OUTPOST_ALERT_METRIC"] == "connectedDeviceCount", env
    assert float(env["OUTPOST_ALERT_VALUE"]) == 0, env
    body = json.loads((out_dir / "Fired.json").read_text())
    assert body["schemaId"] == "azureMonitorCommonAlertSchema", body
    assert body["data"]["essentials"]["monitorCondition"] == "Fired", body
    assert body["data"]["essentials"]["alertRule"] == name, body

    connect(ahub, ahub.create_device(unique("arrives")), pahos)
    assert wait_for(lambda: (out_dir / "Resolved.env").exists()
                    and (out_dir / "Resolved.env").read_text().count("\n") >= 4, timeout=15), \
        "the exec action did not run on resolve"
    time.sleep(0.5)
    env = dict(line.split("=", 1) for line in (out_dir / "Resolved.env").read_text().splitlines())
    assert env["OUTPOST_ALERT_CONDITION"] == "Resolved" and float(env["OUTPOST_ALERT_VALUE"]) == 1

    [fired, resolved] = history(ahub, name)
    assert (fired["state"], resolved["state"]) == ("Fired", "Resolved")
    assert fired["actions"][0]["ok"] is True and resolved["actions"][0]["ok"] is True

    def failing_history():
        h = history(ahub, failing)
        return h if len(h) == 2 and all(e["actions"] and "ok" in e["actions"][0]
                                        for e in h) else None

    h = wait_for(failing_history, timeout=30, interval=0.5)
    assert h, f"the failing exec alert's history: {history(ahub, failing)}"
    assert [e["state"] for e in h] == ["Fired", "Resolved"], h
    for e in h:
        assert e["actions"][0]["ok"] is False, e


def test_failing_webhook_is_retried_recorded_and_evaluation_goes_on(ahub, pahos, receivers):
    api = ahub.api
    # The receiver refuses every Fired notification with 500 and takes Resolved ones.
    receiver = HookReceiver(lambda req: 500 if condition_of(req) == "Fired" else 200)
    receivers.append(receiver)
    gone = f"http://127.0.0.1:{free_port()}/nobody"
    refused, unreachable = unique("refused"), unique("unreachable")
    create_alert(ahub, refused, 1, f"webhook:{receiver.url('/r')}")
    create_alert(ahub, unreachable, 1, f"webhook:{gone}")

    first = receiver.wait_count(1, timeout=15)
    assert [condition_of(r) for r in first] == ["Fired"], first
    # While the Fired notification is being retried, the condition stops holding.
    connect(ahub, ahub.create_device(unique("back")), pahos)

    def settled(name: str):
        h = history(ahub, name)
        done = [e for e in h if e["actions"] and "ok" in e["actions"][0]
                and e["actions"][0].get("attempts")]
        return h if len(h) == 2 and len(done) == 2 else None

    h = wait_for(lambda: settled(refused), timeout=60, interval=0.5)
    assert h, f"history of {refused}: {history(ahub, refused)}"
    assert [e["state"] for e in h] == ["Fired", "Resolved"], h
    fired_posts = receiver.snapshot(lambda r: condition_of(r) == "Fired")
    resolved_posts = receiver.snapshot(lambda r: condition_of(r) == "Resolved")
    fa, ra = h[0]["actions"][0], h[1]["actions"][0]
    assert fa["ok"] is False and fa["attempts"] >= 2, f"a failing webhook is retried: {fa}"
    assert fa["attempts"] == len(fired_posts), (fa, len(fired_posts))
    assert "500" in str(fa.get("error", "")), fa
    assert ra["ok"] is True and ra["attempts"] == 1, ra
    assert len(resolved_posts) == 1, resolved_posts

    h = wait_for(lambda: settled(unreachable), timeout=60, interval=0.5)
    assert h, f"history of {unreachable}: {history(ahub, unreachable)}"
    assert [e["state"] for e in h] == ["Fired", "Resolved"], h
    for e in h:
        a = e["actions"][0]
        assert a["ok"] is False and a["attempts"] >= 2 and a.get("error"), a
    # The device came back right after the first Fired attempt: both alerts resolved one window
    # later, not after their Fired notifications had been retried to the end.
    for name in (refused, unreachable):
        fired, resolved = (parse_time(e["time"]) for e in history(ahub, name))
        assert (resolved - fired).total_seconds() <= WINDOW + 6, \
            f"{name} resolved {resolved - fired} after it fired: evaluation waited for actions"

    # Later transitions are still evaluated and delivered.
    pahos[-1].close()
    api.wait_metric("connectedDeviceCount", lambda v: v == 0)
    again = receiver.wait_count(len(fired_posts) + 2, timeout=30,
                                pred=lambda r: condition_of(r) == "Fired")
    assert len(again) > len(fired_posts), "a second Fired is delivered (and retried)"


# ---- management ------------------------------------------------------------------------------


def test_alert_management_and_bad_values(ahub, receivers):
    api = ahub.api
    receiver = HookReceiver()
    receivers.append(receiver)
    name = unique("managed")
    out = create_alert(ahub, name, 5, "log", f"webhook:{receiver.url()}",
                       operator="GreaterThanOrEqual", aggregation="Maximum", window="5m")
    assert out["actions"] == ["log", f"webhook:{receiver.url()}"], out
    assert name in [a["name"] for a in cli_json(ahub, "alerts", "list")]
    shown = cli_json(ahub, "alerts", "show", name)
    assert (shown["operator"], shown["aggregation"], float(shown["threshold"])) == \
        ("GreaterThanOrEqual", "Maximum", 5), shown
    cp = ahub.cli("alerts", "list")
    assert cp.returncode == 0 and name in cp.stdout, cp.stderr

    r = api.get("alerts")
    assert r.status_code == 200 and name in [a["name"] for a in r.json()], r.text
    r = api.get(f"alerts/{name}")
    assert r.status_code == 200 and r.json()["metric"] == "connectedDeviceCount", r.text

    # REST: create, a disabled alert never fires.
    quiet = unique("disabled")
    r = api.put(f"alerts/{quiet}", {
        "metric": "connectedDeviceCount", "operator": "LessThan", "threshold": 1,
        "window": "PT2S", "aggregation": "Minimum", "actions": [f"webhook:{receiver.url()}"],
        "enabled": False})
    assert r.status_code == 200, r.text
    assert r.json()["enabled"] is False, r.json()

    for bad, needles in (
            (["--operator", "Less"], ("LessThan", "operator")),
            (["--metric", "noSuchMetric"], ("noSuchMetric", "metric")),
            (["--aggregation", "Median"], ("Minimum", "aggregation")),
            (["--window", "5 minutes"], ("window", "duration")),
            (["--threshold", "many"], ("threshold",)),
            (["--action", "ftp:x"], ("webhook:", "exec:", "action"))):
        args = {"--metric": "connectedDeviceCount", "--operator": "LessThan", "--threshold": "1",
                "--window": "2s", "--aggregation": "Minimum", "--action": "log"}
        args[bad[0]] = bad[1]
        flat = [x for kv in args.items() for x in kv]
        cli_failed_with(ahub.cli("alerts", "create", unique("bad"), *flat), *needles)
    r = api.put(f"alerts/{unique('bad')}", {
        "metric": "connectedDeviceCount", "operator": "Sideways", "threshold": 1,
        "window": "PT2S", "aggregation": "Minimum", "actions": ["log"]})
    assert r.status_code == 400 and "LessThan" in r.text, r.text

    time.sleep(3)
    assert receiver.snapshot() == [], "neither alert's condition held (or it was disabled)"
    assert history(ahub, quiet) == []

    cp = ahub.cli("alerts", "delete", name)
    assert cp.returncode == 0, cp.stderr
    assert name not in [a["name"] for a in cli_json(ahub, "alerts", "list")]
    cli_failed_with(ahub.cli("alerts", "show", name), name, "not found", "404")
    cli_failed_with(ahub.cli("alerts", "delete", name), name, "not found", "404")
    r = api.delete(f"alerts/{quiet}")
    assert r.status_code in (200, 204), r.text
    assert api.get(f"alerts/{quiet}").status_code == 404
