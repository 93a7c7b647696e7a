"""The edge runtime with a real hub: iotedged provisions the device's module identities,
starts edgeAgent, and edgeAgent turns the deployment set on the hub (`iothub edge
set-modules`) into running processes, restarts failing ones with growing waits, and reports
what runs in the `$edgeAgent` twin."""

from __future__ import annotations

import json
import time

import pytest

from edgekit import IOTEDGED, EdgeDevice, deployment, script_module
from outpost import allocate_host, unique

pytestmark = pytest.mark.skipif(not IOTEDGED.exists(), reason=f"{IOTEDGED} is not built")

TICKER = 'echo "ticker up as $IOTEDGE_MODULEID on $IOTEDGE_DEVICEID via $IOTEDGE_GATEWAYHOSTNAME"\nwhile true; do echo tick; sleep 1; done'


@pytest.fixture
def edge(module_hub, tmp_path):
    did = unique("gw")
    cp = module_hub.cli("edge", "create", did, "--json")
    assert cp.returncode == 0, cp.stderr
    device = EdgeDevice(module_hub, did, json.loads(cp.stdout)["connectionString"], tmp_path / "edge", allocate_host())
    # The system edgeHub is a long-running placeholder here: these tests are about the agent.
    hub_stub = script_module(tmp_path / "edgehub-stub", "while true; do sleep 1; done")
    device.edge_hub_image = hub_stub["settings"]["image"]
    device.start()
    yield device
    code = device.stop()
    assert code == 0, f"iotedged exited with {code} on SIGTERM\n{device.daemon_log()[-2000:]}"


def apply(hub, device, tmp_path, modules):
    path = tmp_path / "deployment.json"
    path.write_text(json.dumps(deployment(modules, edge_hub_image=device.edge_hub_image)))
    cp = hub.cli("edge", "set-modules", device.device_id, "--content", str(path))
    assert cp.returncode == 0, cp.stderr


def module(reported, name):
    return (reported.get("modules") or {}).get(name) or (reported.get("systemModules") or {}).get(name)


def test_agent_connects_reports_and_runs_the_deployment(module_hub, edge, tmp_path):
    edge.wait_reported(lambda r: r["lastDesiredStatus"]["code"] == 200 and r["lastDesiredVersion"] == 2,
                       what="the base deployment applied")
    agent_log = edge.module_log("edgeAgent")
    assert "Starting module management agent." in agent_log
    assert "Edge agent attempting to connect to IoT Hub via MQTT..." in agent_log
    assert "Version - " in agent_log

    apply(module_hub, edge, tmp_path, {"ticker": script_module(tmp_path / "ticker", TICKER, env={"Greeting": "hi"})})
    r = edge.wait_reported(lambda r: module(r, "ticker")["runtimeStatus"] == "running", what="ticker running")
    assert r["lastDesiredVersion"] == 3 and r["runtime"]["type"] == "process"
    deadline = time.monotonic() + 10
    while "ticker up" not in edge.module_log("ticker") and time.monotonic() < deadline:
        time.sleep(0.2)
    line = edge.module_log("ticker")
    assert f"ticker up as ticker on {edge.device_id} via {edge.gateway}" in line
    cp = module_hub.cli("edge", "show", edge.device_id)
    assert cp.returncode == 0 and "ticker" in cp.stdout and "running" in cp.stdout

    # Removing it from the deployment stops and removes it, and the report drops it.
    apply(module_hub, edge, tmp_path, {})
    edge.wait_reported(lambda r: "ticker" not in (r.get("modules") or {}), what="ticker removed")


def test_failing_module_backs_off_and_never_stays_stopped(module_hub, edge, tmp_path):
    apply(module_hub, edge, tmp_path, {
        "crasher": script_module(tmp_path / "crasher", 'echo "failing on purpose"; exit 1'),
        "once": script_module(tmp_path / "once", "exit 1", policy="never"),
    })
    r = edge.wait_reported(lambda r: module(r, "crasher")["restartCount"] >= 1 and module(r, "crasher")["runtimeStatus"] == "backoff",
                           timeout=60, what="crasher in backoff after a restart")
    crasher = module(r, "crasher")
    assert crasher["exitCode"] == 1 and "exited with code 1" in crasher["statusDescription"]
    assert crasher["lastExitTimeUtc"] and crasher["lastRestartTimeUtc"]
    once = module(r, "once")
    assert once["runtimeStatus"] == "stopped" and once["restartCount"] == 0 and once["exitCode"] == 1
    assert "failing on purpose" in edge.module_log("crasher")


def test_invalid_deployment_is_reported_and_the_last_good_one_keeps_running(module_hub, edge, tmp_path):
    apply(module_hub, edge, tmp_path, {"ticker": script_module(tmp_path / "ticker", TICKER)})
    edge.wait_reported(lambda r: module(r, "ticker")["runtimeStatus"] == "running", what="ticker running")
    # The hub checks manifests, so write a bad desired document straight into the twin.
    bad = {"schemaVersion": "9.9", "runtime": {}, "systemModules": {}, "modules": {}}
    cp = module_hub.cli("twin", "update", edge.device_id, "$edgeAgent", "--desired", json.dumps(bad), "--replace")
    assert cp.returncode == 0, cp.stderr
    r = edge.wait_reported(lambda r: r["lastDesiredStatus"]["code"] == 412, what="412 for the unsupported schema")
    assert "schemaVersion 9.9" in r["lastDesiredStatus"]["description"]
    assert module(r, "ticker")["runtimeStatus"] == "running"


def test_agent_without_a_reachable_hub_says_so_and_modules_keep_running(module_hub, tmp_path):
    did = unique("gwoff")
    cp = module_hub.cli("edge", "create", did, "--json")
    cs = json.loads(cp.stdout)["connectionString"]
    # Point the device at an address where no hub listens.
    dead = allocate_host()
    device = EdgeDevice(module_hub, did, cs.replace(f"HostName={module_hub.host}", f"HostName={dead}"), tmp_path / "edge",
                        allocate_host())
    device.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            log = device.module_log("edgeAgent") + device.daemon_log()
            if "via MQTT over WebSocket" in log and "could not connect to IoT Hub" in log:
                break
            time.sleep(0.5)
        log = device.module_log("edgeAgent") + device.daemon_log()
        assert "Edge agent attempting to connect to IoT Hub via MQTT..." in log
        assert "Edge agent attempting to connect to IoT Hub via MQTT over WebSocket..." in log
        assert "could not connect to IoT Hub" in log
    finally:
        device.stop()


def test_workload_api_refuses_a_process_that_is_not_the_module(module_hub, edge, tmp_path):
    """Seed 000: a module whose SDK runs in a child process (not the process the runtime
    started) gets 404 "Module not found" from the workload API, and the daemon says why."""
    import sys
    child = tmp_path / "child.py"
    child.write_text("from azure.iot.device import IoTHubModuleClient\n"
                     "try:\n    IoTHubModuleClient.create_from_edge_environment().connect()\n"
                     "    print('child connected')\nexcept Exception as e:\n    print('child failed:', repr(e), repr(e.__cause__))\n")
    # The shell stays the module's main process; python runs as its child.
    apply(module_hub, edge, tmp_path, {"forker": script_module(
        tmp_path / "forker", f"{sys.executable} {child}\nwhile true; do sleep 1; done")})
    deadline = time.monotonic() + 60
    while "child " not in edge.module_log("forker") and time.monotonic() < deadline:
        time.sleep(0.5)
    log = edge.module_log("forker")
    assert "child failed" in log, log[-3000:]  # the SDK reports the 404 as a SasTokenError
    daemon = edge.daemon_log()
    refusal = [line for line in daemon.splitlines() if "Workload API: request for module forker" in line]
    assert refusal, daemon[-3000:]
    assert "404 Module not found" in refusal[0] and refusal[0].count("pid") >= 2
    assert "exec it" in refusal[0]
