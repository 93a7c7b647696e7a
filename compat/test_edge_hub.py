"""edgeHub with real modules: the shipped simulated temperature sensor and a Python module
written with azure-iot-device's `create_from_edge_environment()`; routes module → module →
$upstream to a real hub; store-and-forward while the hub is down (in order, none twice) and
TTL drops counted on edgeHub's Prometheus endpoint."""

from __future__ import annotations

import json
import os
import re
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from edgekit import IOTEDGED, EdgeDevice, deployment
from outpost import BIN_DIR, allocate_host, unique

pytestmark = pytest.mark.skipif(not (BIN_DIR / "edge-hub").exists(), reason="edge-hub is not built")

FILTER = f"""#!{sys.executable}
import time
from azure.iot.device import IoTHubModuleClient, Message
c = IoTHubModuleClient.create_from_edge_environment()
def forward(m):
    out = Message(m.data, content_type="application/json", content_encoding="utf-8")
    out.custom_properties.update(m.custom_properties)
    out.custom_properties["filtered"] = "yes"
    c.send_message_to_output(out, "output1")
c.on_message_received = forward
c.connect()
print("filter ready", flush=True)
while True:
    time.sleep(1)
"""

SENDER = f"""#!{sys.executable}
import os, time
from azure.iot.device import IoTHubModuleClient, Message
c = IoTHubModuleClient.create_from_edge_environment()
c.connect()
print("sender ready", flush=True)
while not os.path.exists(os.environ["TRIGGER"]):
    time.sleep(0.1)
for i in range(int(os.environ["COUNT"])):
    c.send_message_to_output(Message(str(i)), "out")
print("sent all", flush=True)
while True:
    time.sleep(1)
"""


def write_script(path, text):
    path.write_text(text)
    path.chmod(0o755)
    return str(path)


def start_edge(hub, tmp_path, manifest, metrics_port=None, hub_env=None):
    did = unique("gw")
    cp = hub.cli("edge", "create", did, "--json")
    assert cp.returncode == 0, cp.stderr
    env = {"OUTPOST_EDGEHUB_METRICS_PORT": str(metrics_port or 0), **(hub_env or {})}
    device = EdgeDevice(hub, did, json.loads(cp.stdout)["connectionString"], tmp_path / "edge", allocate_host())
    path = tmp_path / "deployment.json"
    for m in manifest["modulesContent"]["$edgeAgent"]["properties.desired"]["systemModules"].values():
        if m["settings"]["image"] == "edge-hub":
            m["env"] = {k: {"value": v} for k, v in env.items()}
    path.write_text(json.dumps(manifest))
    cp = hub.cli("edge", "set-modules", did, "--content", str(path))
    assert cp.returncode == 0, cp.stderr
    device.start()
    return device


def wait_events(hub, did, n, timeout=60, module=None):
    deadline = time.monotonic() + timeout
    events = []
    while time.monotonic() < deadline:
        events = [e for e in hub.monitor(device=did, timeout=2) if module is None or e.get("moduleId") == module]
        if len(events) >= n:
            return events
    raise AssertionError(f"{len(events)} of {n} events arrived at the hub")


def test_sensor_to_python_filter_to_upstream(module_hub, tmp_path):
    manifest = deployment({
        "sensor": {"type": "process", "status": "running", "restartPolicy": "always",
                   "settings": {"image": "simulated-temperature-sensor"},
                   "env": {"MessageCount": {"value": "5"}, "SendInterval": {"value": "0.2"}}},
        "filter": {"type": "process", "status": "running", "restartPolicy": "always",
                   "settings": {"image": write_script(tmp_path / "filter.py", FILTER)}},
    }, routes={
        "sensorToFilter": 'FROM /messages/modules/sensor/outputs/temperatureOutput INTO BrokeredEndpoint("/modules/filter/inputs/input1")',
        "filterToUpstream": "FROM /messages/modules/filter/outputs/* INTO $upstream",
    })
    # Seed 001: RuntimeLogLevel=debug makes edgeHub log each message it routes.
    edge = start_edge(module_hub, tmp_path, manifest, hub_env={"RuntimeLogLevel": "debug"})
    try:
        events = wait_events(module_hub, edge.device_id, 5, module="filter")
        hub_log = edge.module_log("edgeHub")
        routed = [l for l in hub_log.splitlines() if "Routed message" in l]
        assert any(f"from {edge.device_id}/sensor to BrokeredEndpoint" in l and "by route sensorToFilter" in l for l in routed), hub_log[-3000:]
        assert any(f"from {edge.device_id}/filter to $upstream" in l and "by route filterToUpstream" in l for l in routed), hub_log[-3000:]
        bodies = [json.loads(e["body"]) for e in events]
        assert all(b["machine"]["temperature"] >= 21 for b in bodies)
        assert [e["properties"]["sequenceNumber"] for e in events] == [str(i) for i in range(5)]
        assert all(e["properties"]["filtered"] == "yes" for e in events)
        assert not [e for e in module_hub.monitor(device=edge.device_id, timeout=1) if e.get("moduleId") == "sensor"], \
            "the sensor's messages go only to the filter"
        r = edge.wait_reported(lambda r: r["modules"]["sensor"]["runtimeStatus"] == "running"
                               and r["modules"]["filter"]["runtimeStatus"] == "running"
                               and r["systemModules"]["edgeHub"]["runtimeStatus"] == "running", what="all running")
        assert r["lastDesiredStatus"]["code"] == 200
        # The sensor answers its reset method through the hub.
        cp = module_hub.cli("method", "invoke", edge.device_id, "sensor", "reset", "--json")
        assert cp.returncode == 0, cp.stderr
        assert json.loads(cp.stdout)["status"] == 200
    finally:
        edge.stop()


def test_store_and_forward_while_the_hub_is_down(hub, tmp_path):
    manifest = deployment({
        "sender": {"type": "process", "status": "running", "restartPolicy": "never",
                   "settings": {"image": write_script(tmp_path / "sender.py", SENDER)},
                   "env": {"COUNT": {"value": "500"}, "TRIGGER": {"value": str(tmp_path / "go")}}},
    }, routes={"up": "FROM /messages/modules/sender/outputs/* INTO $upstream"})
    edge = start_edge(hub, tmp_path, manifest)
    try:
        wait_log(edge, "sender", "sender ready")
        time.sleep(1)  # edgeHub has read its routes from the hub
        hub.stop()
        (tmp_path / "go").touch()
        deadline = time.monotonic() + 60
        while "sent all" not in edge.module_log("sender") and time.monotonic() < deadline:
            time.sleep(0.5)
        assert "sent all" in edge.module_log("sender"), edge.module_log("sender")[-2000:]
        hub.start()
        events = wait_events(hub, edge.device_id, 500, timeout=90, module="sender")
        assert [e["body"] for e in events] == [str(i) for i in range(500)], "all 500, in order, none twice"
    finally:
        edge.stop()


def wait_log(edge, module, needle, timeout=60):
    deadline = time.monotonic() + timeout
    while needle not in edge.module_log(module) and time.monotonic() < deadline:
        time.sleep(0.3)
    assert needle in edge.module_log(module), f"{module} log:\n{edge.module_log(module)[-2000:]}\n{edge.daemon_log()[-2000:]}"


def prometheus_samples(text):
    """(name, labels, value) for each sample line of a Prometheus text exposition."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        head, value = line.rsplit(" ", 1)
        name, labels = head, {}
        if "{" in head:
            name, rest = head.split("{", 1)
            for pair in re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', rest):
                labels[pair[0]] = pair[1]
        out.append((name, labels, float(value)))
    return out


def metric(samples, name, **labels):
    """The sum of `name`'s samples whose labels include `labels`, or None when there is none."""
    values = [v for n, l, v in samples if n == name and all(l.get(k) == w for k, w in labels.items())]
    return sum(values) if values else None


def test_messages_past_their_ttl_are_dropped_and_counted(hub, tmp_path):
    manifest = deployment({
        "sender": {"type": "process", "status": "running", "restartPolicy": "never",
                   "settings": {"image": write_script(tmp_path / "sender.py", SENDER)},
                   "env": {"COUNT": {"value": "20"}, "TRIGGER": {"value": str(tmp_path / "go")}}},
    }, routes={"up": {"route": "FROM /messages/modules/sender/outputs/* INTO $upstream", "timeToLiveSecs": 5}})
    metrics_port = 19600 + (int(time.time()) % 300)
    edge = start_edge(hub, tmp_path, manifest, metrics_port=metrics_port)
    try:
        wait_log(edge, "sender", "sender ready")
        time.sleep(1)
        hub.stop()
        (tmp_path / "go").touch()
        deadline = time.monotonic() + 60
        while "sent all" not in edge.module_log("sender") and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(7)  # longer than the TTL
        hub.start()
        deadline = time.monotonic() + 30
        text, samples = "", []
        while time.monotonic() < deadline:
            text = urllib.request.urlopen(f"http://{edge.gateway}:{metrics_port}/metrics", timeout=5).read().decode()
            samples = prometheus_samples(text)
            if metric(samples, "edgehub_messages_dropped_total", reason="ttl_expiry") == 20:
                break
            time.sleep(1)
        sender = f"{edge.device_id}/sender"
        assert metric(samples, "edgehub_messages_dropped_total", reason="ttl_expiry", **{"from": sender}) == 20, text
        assert metric(samples, "edgehub_messages_received_total", id=sender) == 20, text
        assert metric(samples, "edgehub_offline_count_total") >= 1, text
        assert metric(samples, "edgehub_connected_clients") >= 1, text
        assert metric(samples, "edgehub_queue_length", endpoint="$upstream") is not None, text
        for name, labels, _ in samples:
            if name.startswith("edgehub_"):
                assert labels["iothub"] == hub.host and labels["edge_device"] == edge.device_id and labels["instance_number"], (name, labels)
        assert not [e for e in hub.monitor(device=edge.device_id, timeout=2) if e.get("moduleId") == "sender"]
    finally:
        edge.stop()


TWIN_MODULE = f"""#!{sys.executable}
import json, time
from azure.iot.device import IoTHubModuleClient
c = IoTHubModuleClient.create_from_edge_environment()
c.on_twin_desired_properties_patch_received = lambda p: print("desired patch", json.dumps(p), flush=True)
c.connect()
c.patch_twin_reported_properties({{"hello": "edge"}})
print("twin", json.dumps(c.get_twin()), flush=True)
while True:
    time.sleep(1)
"""


def test_module_twin_through_edge_hub(module_hub, tmp_path):
    manifest = deployment({
        "twinmod": {"type": "process", "status": "running", "restartPolicy": "always",
                    "settings": {"image": write_script(tmp_path / "twinmod.py", TWIN_MODULE)}},
    })
    edge = start_edge(module_hub, tmp_path, manifest)
    try:
        wait_log(edge, "twinmod", "twin ")
        line = [l for l in edge.module_log("twinmod").splitlines() if " twin " in l][-1]
        twin = json.loads(line.split(" twin ", 1)[1])
        assert twin["reported"]["hello"] == "edge", twin
        cp = module_hub.cli("twin", "show", edge.device_id, "twinmod", "--json")
        assert cp.returncode == 0, cp.stderr
        assert json.loads(cp.stdout)["properties"]["reported"]["hello"] == "edge", "the reported patch reached the hub"
        time.sleep(2)  # edgeHub subscribes upstream for the module's desired patches
        cp = module_hub.cli("twin", "update", edge.device_id, "twinmod", "--desired", '{"interval": 7}')
        assert cp.returncode == 0, cp.stderr
        wait_log(edge, "twinmod", '"interval": 7')
    finally:
        edge.stop()


def module_processes(daemon_pid: int) -> dict[str, str]:
    """The daemon's child processes: argv[0]'s basename → the executable (/proc/PID/exe)."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if ppid != daemon_pid:
                continue
            argv0 = (entry / "cmdline").read_bytes().split(b"\0", 1)[0].decode()
            out[os.path.basename(argv0)] = os.readlink(entry / "exe")
        except (OSError, IndexError, ValueError):
            continue
    return out


@pytest.mark.parametrize("hub_image", ["edge-hub", "absolute"])
def test_system_modules_run_from_the_daemons_executable(module_hub, tmp_path, hub_image):
    """edgeAgent and edgeHub are programs of iotedged's own executable (picked by argv[0]), so
    the three processes share its text pages; an absolute image path still runs that file (here
    the standalone edge-hub), and other modules run their own executables."""
    image = str(BIN_DIR / "edge-hub") if hub_image == "absolute" else hub_image
    manifest = deployment({
        "sensor": {"type": "process", "status": "running", "restartPolicy": "always",
                   "settings": {"image": "simulated-temperature-sensor"},
                   "env": {"MessageCount": {"value": "3"}, "SendInterval": {"value": "0.2"}}},
    }, routes={"up": "FROM /messages/modules/* INTO $upstream"}, edge_hub_image=image)
    edge = start_edge(module_hub, tmp_path, manifest)
    try:
        wait_events(module_hub, edge.device_id, 3, module="sensor")
        edge.wait_reported(lambda r: r["systemModules"]["edgeHub"]["runtimeStatus"] == "running", what="edgeHub running")
        daemon_exe = os.readlink(f"/proc/{edge.proc.pid}/exe")
        assert daemon_exe == str(IOTEDGED.resolve())
        kids = module_processes(edge.proc.pid)
        assert kids.get("edge-agent") == daemon_exe, kids
        if hub_image == "absolute":
            assert kids.get("edge-hub") == str((BIN_DIR / "edge-hub").resolve()), kids
        else:
            assert kids.get("edge-hub") == daemon_exe, kids
        assert kids.get("simulated-temperature-sensor") == str((BIN_DIR / "simulated-temperature-sensor").resolve()), kids
        # `iotedge list` still names the images the deployment gave.
        cp = edge.iotedge("list")
        assert cp.returncode == 0, cp.stderr
        assert re.search(r"edgeHub\s+running.*" + re.escape(image), cp.stdout), cp.stdout
    finally:
        edge.stop()
