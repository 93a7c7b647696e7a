"""`iotedge check` on a real edge device with a real hub, asserted on its JSON output: a healthy
device passes; a device pointed at an unreachable hub gets the host-connect errors with the
network advice (seed 000: the agent that cannot reach the hub); a foreign process on the gateway
host's 443 is named by pid and command line (seed 000: "Edge Hub fails to start"); a hostname
over 64 characters gets the seed's message with its line."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time

import pytest

from edgekit import IOTEDGED, EdgeDevice, deployment
from outpost import BIN_DIR, allocate_host, unique

IOTEDGE = BIN_DIR / "iotedge"
pytestmark = pytest.mark.skipif(not (IOTEDGE.exists() and IOTEDGED.exists() and (BIN_DIR / "edge-hub").exists()),
                                reason="iotedge, iotedged or edge-hub is not built")

# A test device lives under pytest's /tmp: the storage checks rightly warn about that.
TMP_WARNINGS = {"edge-agent-storage-mounted-from-host", "edge-hub-storage-mounted-from-host"}
# Host facts that depend on the machine the suite runs on, not on Outpost.
HOST_DEPENDENT = {"disk-space", "edge-hub-optimize-for-performance"}


def run_check(device: EdgeDevice, *args: str) -> tuple[int, dict, subprocess.CompletedProcess]:
    cp = subprocess.run([str(IOTEDGE), "check", "--config", str(device.config), "--output", "json", *args],
                        capture_output=True, text=True, timeout=120)
    try:
        report = json.loads(cp.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"iotedge check printed no JSON (exit {cp.returncode}):\n{cp.stdout}\n{cp.stderr}")
    return cp.returncode, report, cp


def make_device(hub, tmp_path, connection_string: str | None = None) -> EdgeDevice:
    did = unique("chk")
    cp = hub.cli("edge", "create", did, "--json")
    assert cp.returncode == 0, cp.stderr
    cs = connection_string or json.loads(cp.stdout)["connectionString"]
    device = EdgeDevice(hub, did, cs, tmp_path / "edge", allocate_host())
    manifest = deployment({})
    manifest["modulesContent"]["$edgeAgent"]["properties.desired"]["systemModules"]["edgeHub"]["env"] = {
        "OUTPOST_EDGEHUB_METRICS_PORT": {"value": "0"}}
    path = tmp_path / "deployment.json"
    path.write_text(json.dumps(manifest))
    cp = hub.cli("edge", "set-modules", did, "--content", str(path))
    assert cp.returncode == 0, cp.stderr
    return device


def wait_system_modules(device: EdgeDevice, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        cp = subprocess.run([str(IOTEDGE), "list", "--json", "--config", str(device.config)],
                            capture_output=True, text=True, timeout=30)
        if cp.returncode == 0:
            status = {m["name"]: m["status"]["runtimeStatus"]["status"] for m in json.loads(cp.stdout)}
            if status.get("edgeAgent") == "running" and status.get("edgeHub") == "running":
                return
            last = str(status)
        time.sleep(0.5)
    raise AssertionError(f"edgeAgent and edgeHub did not both run within {timeout} s: {last}\n{device.daemon_log()[-2000:]}")


def wait_identity(device: EdgeDevice, done, timeout: float = 60) -> str:
    """The daemon's identity status once `done(status)`, from `iotedge system status --json`."""
    deadline = time.monotonic() + timeout
    status = ""
    while time.monotonic() < deadline:
        cp = subprocess.run([str(IOTEDGE), "system", "status", "--json", "--config", str(device.config)],
                            capture_output=True, text=True, timeout=30)
        if cp.returncode == 0:
            status = next(s["status"] for s in json.loads(cp.stdout)["services"] if s["name"] == "identity")
            if done(status):
                return status
        time.sleep(0.5)
    raise AssertionError(f"identity status {status!r} after {timeout} s\n{device.daemon_log()[-2000:]}")


def results(report: dict) -> dict[str, str]:
    return {k: v["result"] for k, v in report["checks"].items()}


def text(report: dict, check_id: str) -> str:
    return "\n".join(report["checks"][check_id]["details"])


def test_healthy_device_passes(module_hub, tmp_path):
    device = make_device(module_hub, tmp_path).start()
    try:
        wait_system_modules(device)
        wait_identity(device, lambda status: status == "Ready")
        code, report, cp = run_check(device)
        r = results(report)
        problems = {k: v for k, v in r.items() if v not in ("ok", "ignored")}
        expected_warnings = TMP_WARNINGS | {"host-connect-iothub-amqp"}
        assert set(problems) - HOST_DEPENDENT == expected_warnings, json.dumps(report, indent=1)
        assert all(v == "warning" for v in problems.values()), problems
        assert code == 0, cp.stderr
        for ok in ("config-toml-well-formed", "config-up-to-date", "connection-string", "hostname", "connect-management-uri",
                   "system-modules-running", "connect-workload-uri", "identity-provisioned", "edge-ca-certificate-expiry",
                   "certs-match-private-keys", "log-rotation", "host-connect-dns", "host-connect-iothub-https",
                   "host-connect-iothub-mqtt", "host-local-time", "edgehub-host-ports", "iotedged-version"):
            assert r[ok] == "ok", (ok, report["checks"][ok])
        assert "MQTT and HTTPS only" in text(report, "host-connect-iothub-amqp")
        assert str(tmp_path) in text(report, "edge-hub-storage-mounted-from-host") and "/tmp" in text(report, "edge-hub-storage-mounted-from-host")
        ports = report["checks"]["edgehub-host-ports"]["additional_info"]
        assert ports["443"].startswith("edgeHub (pid ") and ports["8883"].startswith("edgeHub (pid "), ports
        assert report["checks"]["host-connect-iothub-mqtt"]["additional_info"]["port"] == 8883
        assert report["additional_info"]["iotedged_version"] == report["additional_info"]["iotedge_version"]

        # The warnings fail the run under --warnings-as-errors; --dont-run ignores a check.
        code, strict, _ = run_check(device, "--warnings-as-errors", "--dont-run", "host-connect-iothub-amqp")
        assert code == 1
        assert strict["checks"]["host-connect-iothub-amqp"]["result"] == "ignored"

        # Text output: edgelet's marks and summary lines.
        cp = subprocess.run([str(IOTEDGE), "check", "--config", str(device.config)], capture_output=True, text=True, timeout=120)
        assert cp.returncode == 0, cp.stdout + cp.stderr
        assert "Configuration checks\n--------------------" in cp.stdout
        assert "\u2713 host can connect to and perform TLS handshake with IoT Hub MQTT port - OK" in cp.stdout
        assert "\u203c host can connect to and perform TLS handshake with IoT Hub AMQP port - Warning" in cp.stdout
        assert "\x1b[" not in cp.stdout, "no colour when not on a terminal"
        succeeded = sum(1 for v in r.values() if v == "ok")
        assert f"\n{succeeded} check(s) succeeded.\n" in cp.stdout
        assert f"{len(problems)} check(s) raised warnings. Re-run with --verbose for more details." in cp.stdout
        assert "raised errors" not in cp.stdout
    finally:
        device.stop()


def test_unreachable_hub_fails_the_connection_checks_with_network_advice(module_hub, tmp_path):
    dead = allocate_host()  # nothing listens there
    did = unique("chkoff")
    cp = module_hub.cli("edge", "create", did, "--json")
    cs = json.loads(cp.stdout)["connectionString"].replace(f"HostName={module_hub.host}", f"HostName={dead}")
    device = make_device(module_hub, tmp_path, connection_string=cs).start()
    try:
        wait_identity(device, lambda status: status in ("Failed", "Degraded"))
        code, report, _ = run_check(device)
        r = results(report)
        assert code == 1
        assert r["host-connect-dns"] == "ok"
        for port, check_id in ((8883, "host-connect-iothub-mqtt"), (443, "host-connect-iothub-https")):
            assert r[check_id] == "error", report["checks"][check_id]
            details = text(report, check_id)
            assert f"connection to {dead}:{port} refused" in details
            assert "cannot connect to IoT Hub" in details and "firewall" in details
            assert "outbound 443 (HTTPS, and MQTT over WebSockets), 8883 (MQTT)" in details
        assert r["host-connect-iothub-amqp"] == "warning"
        assert r["host-local-time"] == "skipped"
        assert r["identity-provisioned"] == "error", report["checks"]["identity-provisioned"]
        assert dead in text(report, "identity-provisioned")
        assert r["connect-management-uri"] == "ok" and r["config-toml-well-formed"] == "ok"
    finally:
        device.stop()


def test_a_foreign_process_on_the_gateways_443_is_named(module_hub, tmp_path):
    device = make_device(module_hub, tmp_path)
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((device.gateway, 443))
    server.listen(1)
    device.start()
    try:
        # Without waiting for edgeHub: whatever it does, 443 is this test's.
        time.sleep(2)
        code, report, _ = run_check(device)
        assert code == 1
        check = report["checks"]["edgehub-host-ports"]
        assert check["result"] == "error", check
        details = "\n".join(check["details"])
        assert f"{device.gateway}:443 is held by pid {os.getpid()} (" in details, details
        assert "python" in details.split(f"pid {os.getpid()} (")[1].split(")")[0]
        assert "Stop the process that holds the port" in details
        assert check["additional_info"]["443"].startswith(f"pid {os.getpid()}: ")
        assert not check["additional_info"]["8883"].startswith(f"pid {os.getpid()}")
    finally:
        device.stop()
        server.close()


def test_a_hostname_over_64_characters_gets_the_seeds_message(module_hub, tmp_path):
    device = make_device(module_hub, tmp_path)
    long_name = "a" * 60 + ".example.com"
    lines = device.config.read_text().splitlines()
    assert lines[0].startswith("hostname = ")
    lines[0] = f'hostname = "{long_name}"'
    device.config.write_text("\n".join(lines) + "\n")
    code, report, _ = run_check(device)  # the daemon would refuse this file, so it is not started
    r = results(report)
    assert code == 1
    assert r["hostname"] == "error"
    details = text(report, "hostname")
    assert f"{device.config}:1: Error parsing user input data: invalid hostname. Hostname cannot be empty or greater than 64 characters" in details
    assert long_name in details and "DNS name" in details
    assert r["config-toml-well-formed"] == "error"
    assert f"{device.config}:1: the hostname is invalid" in text(report, "config-toml-well-formed")
    # The rest of the file is still checked; what needs the gateway name is skipped.
    assert r["connection-string"] == "ok" and r["host-connect-iothub-mqtt"] == "ok"
    assert r["edgehub-host-ports"] == "skipped" and r["connect-management-uri"] == "error"
