"""Seed 001 ("Troubleshoot your IoT Edge device") played in order on an Outpost edge device:
`iotedge list`, `logs` (the version in the module logs), the `$edgeAgent` twin read with the
service SDK, `system status|logs|set-log-level|restart`, `restart edgeAgent && restart edgeHub`,
`config apply`, then `system stop` and starting again with `config apply`. Every command's
output is asserted on. One device serves the whole module: each step builds on the last."""

from __future__ import annotations

import json
import os
import re
import time

import pytest

from edgekit import IOTEDGE, IOTEDGED, deployed_device, deployment, script_module

pytestmark = pytest.mark.skipif(not IOTEDGE.exists() or not IOTEDGED.exists(), reason="iotedge is not built")


@pytest.fixture(scope="module")
def device(module_hub, tmp_path_factory):
    root = tmp_path_factory.mktemp("iotedge-cli")
    crasher = script_module(root / "crasher", 'echo "crasher: failing on purpose"; exit 1')
    edge = deployed_device(module_hub, root, deployment({"crasher": crasher}), prefix="cli")
    yield edge
    edge.stop()


def listing(device) -> dict[str, dict]:
    cp = device.iotedge("list", "--json")
    assert cp.returncode == 0, cp.stderr
    return {m["name"]: m for m in json.loads(cp.stdout)}


def wait_for(what, predicate, timeout=60.0, every=0.5):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}; last: {last!r}")


def test_list_shows_the_runtime_and_a_module_in_backoff(device):
    def ready():
        m = listing(device)
        ok = all(m.get(n, {}).get("status", {}).get("listStatus") == "running" for n in ("edgeAgent", "edgeHub"))
        return ok and m.get("crasher", {}).get("status", {}).get("listStatus") == "backoff" and m
    wait_for("edgeAgent and edgeHub running, crasher in backoff", ready, timeout=90)
    cp = device.iotedge("list")
    assert cp.returncode == 0, cp.stderr
    lines = cp.stdout.splitlines()
    assert re.split(r"\s{2,}", lines[0].strip()) == ["NAME", "STATUS", "DESCRIPTION", "CONFIG"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert re.search(r"edgeAgent\s+running\s+Up \d+ (second|minute)s?\s+edge-agent", rows["edgeAgent"]), rows
    assert re.search(r"edgeHub\s+running\s+Up ", rows["edgeHub"]), rows
    assert re.search(r"crasher\s+backoff\s+Backoff \d+ seconds?, exited \(1\)", rows["crasher"]), rows


def test_check(device):
    """Seed 001 starts with `sudo iotedge check`."""
    cp = device.iotedge("check")
    assert re.search(r"\d+ check\(s\) succeeded\.", cp.stdout), cp.stdout + cp.stderr
    report = json.loads(device.iotedge("check", "--output", "json").stdout)
    results = {cid: c["result"] for cid, c in report["checks"].items()}
    assert results["connect-management-uri"] == "ok" and results["system-modules-running"] == "ok", results
    assert results["host-connect-iothub-mqtt"] == "ok" and results["host-connect-iothub-https"] == "ok", results
    assert not [cid for cid, r in results.items() if r in ("error", "fatal") and cid != "disk-space"], results


def test_support_bundle(device, tmp_path):
    """Seed 001's second step: `sudo iotedge support-bundle --since 6h`, opened and read."""
    import zipfile
    out = tmp_path / "support_bundle.zip"
    cp = device.iotedge("support-bundle", "--since", "6h", "-o", str(out))
    assert cp.returncode == 0, cp.stderr
    assert f"Created support bundle at {out}" in cp.stdout + cp.stderr
    with zipfile.ZipFile(out) as z:
        names = set(z.namelist())
        assert {"logs/edgeAgent.log", "logs/edgeHub.log", "logs/iotedged.log", "config.toml", "systeminfo.json"} <= names, names
        assert "Starting module management agent." in z.read("logs/edgeAgent.log").decode()
        assert "SharedAccessKey=" not in z.read("config.toml").decode().replace("SharedAccessKey=<redacted>", "")
        assert "check.json" in names or "check.txt" in names
    assert "support-bundle" in device.iotedge("support-bundle", "--help").stdout


def test_module_logs_show_the_version_and_filter(device):
    cp = device.iotedge("logs", "edgeAgent")
    assert cp.returncode == 0, cp.stderr
    assert "Starting module management agent." in cp.stdout
    assert re.search(r"Version - \S+", cp.stdout)
    cp = device.iotedge("logs", "edgeHub", "--tail", "1")
    assert cp.returncode == 0 and len(cp.stdout.strip().splitlines()) == 1
    cp = device.iotedge("logs", "crasher", "--since", "10m", "--timestamps")
    assert cp.returncode == 0 and "crasher: failing on purpose" in cp.stdout
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", cp.stdout)
    # Unhappy paths: a bad time and an unknown module are named, with a non-zero exit.
    cp = device.iotedge("logs", "edgeAgent", "--since", "yesterday-ish")
    assert cp.returncode != 0 and "--since yesterday-ish" in cp.stderr
    cp = device.iotedge("logs", "nosuchmodule")
    assert cp.returncode != 0 and "No such module: nosuchmodule" in cp.stderr


def test_edge_agent_twin_reported_properties_with_the_service_sdk(device, module_hub, registry_manager):
    rm = registry_manager(module_hub)
    def reported():
        r = rm.get_module_twin(device.device_id, "$edgeAgent").properties.reported
        crasher = (r.get("modules") or {}).get("crasher") or {}
        return crasher.get("restartCount", 0) >= 1 and r
    r = wait_for("crasher restarted in the reported properties", reported, timeout=90, every=1)
    agent = r["systemModules"]["edgeAgent"]
    assert agent["runtimeStatus"] == "running" and agent["lastStartTimeUtc"]
    crasher = r["modules"]["crasher"]
    assert crasher["exitCode"] == 1 and crasher["lastExitTimeUtc"] and crasher["runtimeStatus"] in ("backoff", "running")


def test_system_status(device):
    cp = device.iotedge("system", "status")
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.startswith("System services:")
    assert re.search(r"iotedged\s+Running\s+pid \d+, up", cp.stdout)
    assert re.search(r"identity\s+Ready\s+device " + re.escape(device.device_id), cp.stdout)
    assert re.search(r"edgeHub\s+Running", cp.stdout)
    assert "Use 'iotedge check' to diagnose connectivity and configuration issues." in cp.stdout
    status = json.loads(device.iotedge("system", "status", "--json").stdout)
    assert status["configFile"] == str(device.config) and status["logLevel"] == "info"


def test_system_logs(device):
    cp = device.iotedge("system", "logs")
    assert cp.returncode == 0, cp.stderr
    assert "Starting Outpost IoT Edge security daemon (iotedged)" in cp.stdout
    assert "Provisioned module identity $edgeHub" in cp.stdout
    cp = device.iotedge("system", "logs", "--", "-n", "3")
    assert cp.returncode == 0 and len(cp.stdout.strip().splitlines()) == 3
    cp = device.iotedge("system", "logs", "--", "--bogus")
    assert cp.returncode != 0 and "--bogus" in cp.stderr


def test_set_log_level_debug_then_restart_keeps_it(device):
    before = json.loads(device.iotedge("system", "status", "--json").stdout)
    cp = device.iotedge("system", "set-log-level", "debug")
    assert cp.returncode == 0 and "debug" in cp.stdout, cp.stderr
    cp = device.iotedge("system", "restart")
    assert cp.returncode == 0, cp.stderr
    assert "iotedged is running again" in cp.stdout
    after = json.loads(device.iotedge("system", "status", "--json").stdout)
    # The same process (the daemon starts itself again in place), started anew, still at debug.
    assert after["pid"] == before["pid"] == device.proc.pid
    assert after["startTime"] > before["startTime"] and after["logLevel"] == "debug"
    wait_for("edgeAgent running again", lambda: listing(device).get("edgeAgent", {}).get("status", {}).get("listStatus") == "running")
    assert "[DBUG]" in device.iotedge("system", "logs", "--since", "2m").stdout
    cp = device.iotedge("system", "set-log-level", "loud")
    assert cp.returncode != 0 and "unknown log level \"loud\"" in cp.stderr
    cp = device.iotedge("system", "set-log-level", "info")
    assert cp.returncode == 0
    assert json.loads(device.iotedge("system", "status", "--json").stdout)["logLevel"] == "info"


def test_restart_edge_agent_and_edge_hub(device):
    wait_for("runtime running", lambda: all(listing(device).get(n, {}).get("status", {}).get("listStatus") == "running"
                                            for n in ("edgeAgent", "edgeHub")))
    started = {n: listing(device)[n]["status"]["startTime"] for n in ("edgeAgent", "edgeHub")}
    cp = device.iotedge("restart", "edgeAgent")
    assert cp.returncode == 0 and cp.stdout.strip() == "edgeAgent", cp.stderr
    cp = device.iotedge("restart", "edgeHub")
    assert cp.returncode == 0 and cp.stdout.strip() == "edgeHub", cp.stderr
    now = listing(device)
    for n in ("edgeAgent", "edgeHub"):
        assert now[n]["status"]["startTime"] > started[n] and now[n]["status"]["listStatus"] == "running"
    cp = device.iotedge("restart", "ghost")
    assert cp.returncode != 0 and "No such module: ghost" in cp.stderr


def test_config_apply_restarts_what_changed(device, tmp_path):
    cp = device.iotedge("config", "apply", "--json")
    assert cp.returncode == 0 and json.loads(cp.stdout)["action"] == "none", cp.stdout + cp.stderr
    text = device.config.read_text().replace('RuntimeLogLevel = "info"', 'RuntimeLogLevel = "debug"')
    device.config.write_text(text)
    cp = device.iotedge("config", "apply")
    assert cp.returncode == 0, cp.stderr
    assert "Restarted edgeAgent" in cp.stdout and "agent.env.RuntimeLogLevel: info → debug" in cp.stdout
    agent = listing(device)["edgeAgent"]
    assert {"key": "RuntimeLogLevel", "value": "debug"} in agent["config"]["env"]
    # A config that does not validate is refused with its line, and nothing changes.
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace(f'hostname = "{device.gateway}"', 'hostname = "' + "h" * 70 + '"'))
    cp = device.iotedge("config", "apply", "-c", str(bad))
    assert cp.returncode != 0
    assert "Error parsing user input data: invalid hostname. Hostname cannot be empty or greater than 64 characters" in cp.stderr
    assert f"{bad}:1:" in cp.stderr and "Nothing was applied." in cp.stderr
    assert device.config.read_text() == text


def test_system_reprovision(device):
    before = json.loads(device.iotedge("system", "status", "--json").stdout)
    cp = device.iotedge("system", "reprovision")
    assert cp.returncode == 0, cp.stderr
    assert "Successfully reprovisioned: identity Ready" in cp.stdout, cp.stdout
    after = json.loads(device.iotedge("system", "status", "--json").stdout)
    assert after["startTime"] > before["startTime"]
    assert "Reprovisioning requested" in device.iotedge("system", "logs", "--since", "2m").stdout
    wait_for("the runtime back", lambda: all(listing(device).get(n, {}).get("status", {}).get("listStatus") == "running"
                                             for n in ("edgeAgent", "edgeHub")), timeout=90)


def test_system_stop_then_config_apply_starts_it_again(device):
    cp = device.iotedge("system", "stop")
    assert cp.returncode == 0 and "iotedged stopped" in cp.stdout, cp.stderr
    assert device.proc.wait(30) == 0
    cp = device.iotedge("system", "status")
    assert cp.returncode == 3 and "iotedged is not running" in cp.stdout
    cp = device.iotedge("list")
    assert cp.returncode != 0
    assert "iotedged is not running" in cp.stderr and "iotedge system restart" in cp.stderr
    cp = device.iotedge("config", "apply")
    assert cp.returncode == 0 and "iotedged is running" in cp.stdout, cp.stdout + cp.stderr
    wait_for("the runtime back", lambda: all(listing(device).get(n, {}).get("status", {}).get("listStatus") == "running"
                                             for n in ("edgeAgent", "edgeHub")), timeout=90)
    cp = device.iotedge("version")
    assert cp.returncode == 0 and re.match(r"iotedge \S+\niotedged \S+ \(pid \d+\)", cp.stdout)
