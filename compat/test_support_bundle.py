"""`iotedge support-bundle` on a real edge device (iotedged, edgeAgent, a module) with a real
hub, as seed 001 has a person run it: the zip is opened with zipfile and its parts checked —
module and daemon logs for the window, the config without its key, the module list,
edgeAgent's cached deployment, system facts, and `iotedge check`'s JSON or why it is missing.
Then -e, -o -, -q, the bundle of a device whose daemon is down, and the mistakes a person
makes (a bad --since, a place that cannot be written)."""

from __future__ import annotations

import io
import json
import re
import subprocess
import time
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from edgekit import IOTEDGED, EdgeDevice, deployment, script_module
from outpost import BIN_DIR, allocate_host, unique

IOTEDGE = BIN_DIR / "iotedge"

pytestmark = pytest.mark.skipif(not (IOTEDGED.exists() and IOTEDGE.exists()), reason=f"iotedged or iotedge is not built in {BIN_DIR}")

TICKER = 'echo "ticker started for the bundle"\nwhile true; do echo tick; sleep 1; done'
AGENT_START = "Starting module management agent."


def iotedge(device: EdgeDevice, *args: str, cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([str(IOTEDGE), *args, "--config", str(device.config)], cwd=cwd, capture_output=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def device_key(device: EdgeDevice) -> str:
    match = re.search(r"SharedAccessKey=([^;\"]+)", device.config.read_text())
    assert match, device.config.read_text()
    return match.group(1)


def start_device(hub, root: Path) -> EdgeDevice:
    did = unique("bundle")
    cp = hub.cli("edge", "create", did, "--json")
    assert cp.returncode == 0, cp.stderr
    device = EdgeDevice(hub, did, json.loads(cp.stdout)["connectionString"], root / "edge", allocate_host())
    stub = script_module(root / "edgehub-stub", 'echo "edgeHub stand-in up"\nwhile true; do sleep 1; done')
    path = root / "deployment.json"
    path.write_text(json.dumps(deployment({"ticker": script_module(root / "ticker", TICKER)},
                                          edge_hub_image=stub["settings"]["image"])))
    cp = hub.cli("edge", "set-modules", did, "--content", str(path))
    assert cp.returncode == 0, cp.stderr
    return device.start()


def wait_for(predicate, what: str, device: EdgeDevice, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}\ndaemon log tail:\n{device.daemon_log()[-3000:]}")


@pytest.fixture(scope="module")
def edge(module_hub, tmp_path_factory):
    device = start_device(module_hub, tmp_path_factory.mktemp("bundle"))
    device.wait_reported(lambda r: r["modules"]["ticker"]["runtimeStatus"] == "running", what="ticker running")
    wait_for(lambda: "tick" in device.module_log("ticker") and "stand-in up" in device.module_log("edgeHub"),
             "ticker's and edgeHub's output", device)
    yield device
    code = device.stop()
    assert code == 0, f"iotedged exited with {code} on SIGTERM\n{device.daemon_log()[-2000:]}"


def open_zip(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.testzip() is None
        return {name: z.read(name).decode("utf-8", "replace") for name in z.namelist()}


def assert_check_part(files: dict[str, str]) -> None:
    """`iotedge check` is another person's work: its JSON, or a file saying why there is none."""
    if "check.json" in files:
        assert "checks" in json.loads(files["check.json"])
    else:
        assert "iotedge check --output json could not be included" in files["check.txt"]
        assert re.search(r"exited with status \d+|not found|did not finish|could not be started|found neither", files["check.txt"])


def test_bundle_holds_logs_config_modules_deployment_and_system_facts(edge, tmp_path):
    cp = iotedge(edge, "support-bundle", "--since", "1h", cwd=tmp_path)
    assert cp.returncode == 0, cp.stderr.decode()
    out, err = cp.stdout.decode(), cp.stderr.decode()
    path = tmp_path / "support_bundle.zip"  # the default, in the working directory
    assert f"Created support bundle at {path} (" in out and ("KB)" in out or "MB)" in out), out
    # One progress line per step on stderr.
    for step in ["Making support bundle (logs since", "Listing modules", "Writing logs/edgeAgent.log", "Writing logs/ticker.log",
                 "Writing logs/iotedged.log", "Running iotedge check --output json", "Writing config.toml (secrets redacted)",
                 "Writing edgeAgent/deployment.json", "Writing systeminfo.json", "Writing bundle-info.json"]:
        assert step in err, f"{step!r} not in progress:\n{err}"

    files = open_zip(path.read_bytes())
    assert AGENT_START in files["logs/edgeAgent.log"]
    assert "Edge agent connected to IoT Hub" in files["logs/edgeAgent.log"]
    assert "ticker started for the bundle" in files["logs/ticker.log"] and "tick" in files["logs/ticker.log"]
    assert "edgeHub stand-in up" in files["logs/edgeHub.log"]
    # Each line keeps the time it was captured, inside the window.
    first = files["logs/ticker.log"].splitlines()[0]
    stamp = datetime.fromisoformat(first.split(" ", 1)[0].replace("Z", "+00:00"))
    assert datetime.now(timezone.utc) - stamp < timedelta(hours=1)
    assert "Starting Outpost IoT Edge security daemon" in files["logs/iotedged.log"]
    assert "Started module ticker" in files["logs/iotedged.log"]

    key = device_key(edge)
    assert f"DeviceId={edge.device_id};SharedAccessKey=<redacted>" in files["config.toml"]
    assert 'homedir = "' in files["config.toml"]
    for name, text in files.items():
        assert key not in text, f"the device key is in {name}"

    modules = {m["name"]: m for m in json.loads(files["modules.json"])["modules"]}
    assert set(modules) == {"edgeAgent", "edgeHub", "ticker"}
    assert modules["ticker"]["status"]["runtimeStatus"]["status"] == "running"
    assert re.search(r"^ticker\s+running\s+Up ", files["list.txt"], re.M), files["list.txt"]
    assert files["list.txt"].startswith("NAME")

    agent_deployment = json.loads(files["edgeAgent/deployment.json"])
    assert "ticker" in agent_deployment["modules"] and agent_deployment["schemaVersion"] == "1.1"
    assert "ticker" in json.loads(files["edgeAgent/deployed.json"])

    facts = json.loads(files["systeminfo.json"])
    assert facts["system"]["kernel_version"] and facts["system"]["operating_system"]
    assert facts["memory"]["totalBytes"] > 0 and facts["hostUptimeSeconds"] > 0
    assert facts["dataDirectoryDisk"]["path"] == str(edge.root / "data") and facts["dataDirectoryDisk"]["availableBytes"] > 0
    assert facts["versions"]["iotedge"] and facts["versions"]["iotedged"] and facts["daemon"]["pid"] > 0
    assert_check_part(files)

    info = json.loads(files["bundle-info.json"])
    since = datetime.fromisoformat(info["window"]["since"].replace("Z", "+00:00"))
    assert abs((datetime.now(timezone.utc) - timedelta(hours=1) - since).total_seconds()) < 300
    assert info["window"]["until"] is None and info["edgeRuntimeOnly"] is False
    assert info["deviceId"] == edge.device_id and info["iothubHostname"] == edge.hub.host
    assert "management API" in info["source"]
    assert set(info["files"]) == set(files)


def test_edge_runtime_only_to_stdout(edge, tmp_path):
    cp = iotedge(edge, "support-bundle", "-e", "--since", "1h", "-o", "-", cwd=tmp_path)
    assert cp.returncode == 0, cp.stderr.decode()
    assert "Wrote the support bundle to stdout (" in cp.stderr.decode()
    assert list(tmp_path.iterdir()) == []
    files = open_zip(cp.stdout)
    assert sorted(n for n in files if n.startswith("logs/")) == ["logs/edgeAgent.log", "logs/edgeHub.log", "logs/iotedged.log"]
    assert [m["name"] for m in json.loads(files["modules.json"])["modules"]] == ["edgeAgent", "edgeHub"]
    assert "ticker" not in files["list.txt"]
    assert json.loads(files["bundle-info.json"])["edgeRuntimeOnly"] is True


def test_quiet_shows_no_progress_and_until_cuts_the_window(edge, tmp_path):
    cp = iotedge(edge, "support-bundle", "-q", "--since", "1h", "--until", "10m", "-o", "q.zip", cwd=tmp_path)
    assert cp.returncode == 0, cp.stderr.decode()
    assert cp.stderr.decode() == ""
    assert f"Created support bundle at {tmp_path / 'q.zip'}" in cp.stdout.decode()
    files = open_zip((tmp_path / "q.zip").read_bytes())
    # Everything on this device is younger than ten minutes: nothing is left in the window.
    assert files["logs/ticker.log"] == ""
    assert json.loads(files["bundle-info.json"])["window"]["until"]


def test_a_bad_since_is_refused_before_anything_is_written(edge, tmp_path):
    cp = iotedge(edge, "support-bundle", "--since", "6x", cwd=tmp_path, timeout=30)
    err = cp.stderr.decode()
    assert cp.returncode != 0
    assert "--since 6x" in err and "duration" in err and "RFC 3339" in err, err
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_output_is_refused_with_the_way_out(edge, tmp_path):
    missing = tmp_path / "no-such-dir" / "bundle.zip"
    cp = iotedge(edge, "support-bundle", "-o", str(missing), cwd=tmp_path, timeout=30)
    assert cp.returncode != 0
    err = cp.stderr.decode()
    assert f"cannot write the support bundle to {missing}" in err and "does not exist" in err and "-o/--output" in err, err
    assert "Making support bundle" not in err  # refused before collecting

    # A place no one can create files in (root included): the system's own words, and the way out.
    cp = iotedge(edge, "support-bundle", "-o", "/proc/bundle.zip", cwd=tmp_path, timeout=30)
    assert cp.returncode != 0
    assert "cannot write the support bundle to /proc/bundle.zip" in cp.stderr.decode() and "-o/--output" in cp.stderr.decode()

    cp = iotedge(edge, "support-bundle", "-o", str(tmp_path), cwd=tmp_path, timeout=30)
    assert cp.returncode != 0
    assert "is a directory" in cp.stderr.decode() and "support_bundle.zip" in cp.stderr.decode()
    assert list(tmp_path.iterdir()) == []


def test_a_device_whose_daemon_is_down_still_gets_a_bundle(module_hub, tmp_path):
    device = start_device(module_hub, tmp_path)
    try:
        wait_for(lambda: AGENT_START in device.module_log("edgeAgent"), "edgeAgent's start", device)
    finally:
        assert device.stop() == 0
    cp = iotedge(device, "support-bundle", "-o", "down.zip", cwd=tmp_path)
    assert cp.returncode == 0, cp.stderr.decode()
    assert "iotedged is not running: reading its log files" in cp.stderr.decode()
    files = open_zip((tmp_path / "down.zip").read_bytes())
    assert AGENT_START in files["logs/edgeAgent.log"]
    assert "iotedged stopped" in files["logs/iotedged.log"]
    assert "modules.json" not in files and "did not answer" in files["list.txt"]
    assert device_key(device) not in files["config.toml"]
    info = json.loads(files["bundle-info.json"])
    assert "log files" in info["source"] and any(p.startswith("modules.json") for p in info["problems"])
    assert_check_part(files)


def test_management_api_serves_the_bundle_for_edge_agent(edge):
    """edgeAgent's UploadSupportBundle asks the daemon, as edgelet's agent does, for
    GET /systeminfo/supportbundle on the management socket."""
    import socket
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(180)
        s.connect(str(edge.root / "mgmt.sock"))
        s.sendall(b"GET /systeminfo/supportbundle?api-version=2020-07-07&since=1h&edge_runtime_only=true HTTP/1.1\r\n"
                  b"Host: mgmt.sock\r\nConnection: close\r\n\r\n")
        raw = b""
        while chunk := s.recv(65536):
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0].startswith("HTTP/1.1 200"), head
    headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    assert headers["content-type"] == "application/zip"
    assert "chunked" not in headers.get("transfer-encoding", "") and int(headers["content-length"]) == len(body)
    files = open_zip(body)
    assert AGENT_START in files["logs/edgeAgent.log"] and "logs/ticker.log" not in files
    assert "runtime" in json.loads(files["bundle-info.json"])["source"]
    assert device_key(edge) not in files["config.toml"]
