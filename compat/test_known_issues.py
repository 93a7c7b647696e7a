"""The known issues of seed 000 ("Common issues and resolutions for Azure IoT Edge") provoked
for real on an Outpost edge device, each asserting that Outpost names the root cause and the
fix; and the preview's commands of seed 002 (`iotedgectl setup|login|restart`, printing a
module's environment as `docker exec edgeAgent printenv` did). The agent that cannot reach
its hub and the 404 "Module not found" of a second process are in test_edge_runtime.py; the
invalid hostname in test_iotedge_cli.py and test_iotedge_check.py."""

from __future__ import annotations

import base64
import http.server
import json
import os
import socket
import stat
import subprocess
import threading
import time

import pytest

from edgekit import IOTEDGE, IOTEDGED, EdgeDevice, deployed_device, deployment
from outpost import BIN_DIR, allocate_host, unique

pytestmark = pytest.mark.skipif(not IOTEDGE.exists() or not IOTEDGED.exists(), reason="iotedge is not built")
IOTEDGECTL = BIN_DIR / "iotedgectl"

GREETER = b'#!/bin/sh\necho "greeter fetched and running"\nwhile true; do sleep 1; done\n'


class Registry:
    """A module artifact server that wants HTTP Basic credentials, as a private registry does."""

    def __init__(self, host: str, user: str, password: str):
        expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.requests: list[tuple[str, str | None]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                auth = self.headers.get("Authorization")
                outer.requests.append((self.path, auth))
                if auth != expected:
                    self.send_response(403)
                    self.end_headers()
                    self.wfile.write(b"forbidden")
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(GREETER)))
                self.end_headers()
                self.wfile.write(GREETER)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer((host, 0), Handler)
        self.address = f"{host}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, name: str) -> str:
        return f"http://{self.address}/modules/{name}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def registry():
    r = Registry(allocate_host(), "puller", "s3cret")
    yield r
    r.close()


def start_device(hub, tmp_path, modules, runtime_settings=None, agent_env=None) -> EdgeDevice:
    manifest = deployment(modules)
    if runtime_settings:
        manifest["modulesContent"]["$edgeAgent"]["properties.desired"]["runtime"]["settings"] = runtime_settings
    return deployed_device(hub, tmp_path, manifest, prefix="ki", agent_env=agent_env)


def module(r, name):
    return (r.get("modules") or {}).get(name) or {}


def test_module_image_403_names_the_registry_credentials_then_login_fixes_it(module_hub, tmp_path, registry):
    modules = {
        "greeter": {"type": "process", "status": "running", "restartPolicy": "always", "settings": {"image": registry.url("greeter")}},
        "withcreds": {"type": "process", "status": "running", "restartPolicy": "always", "settings": {"image": registry.url("withcreds")}},
    }
    creds = {"registryCredentials": {"mine": {"address": registry.address, "username": "puller", "password": "s3cret"}}}
    device = start_device(module_hub, tmp_path, modules, runtime_settings=creds)
    try:
        # Credentials in the manifest are used for the module whose image is on that registry…
        device.wait_reported(lambda r: module(r, "withcreds").get("runtimeStatus") == "running", timeout=90, what="withcreds running")
        # …and a registry that refuses gives a 403 with the resolution, in the twin and the agent's log.
        modules["greeter"]["settings"]["image"] = f"http://{registry.address}/modules/greeter?x=1".replace(registry.address, registry.address)
        del creds["registryCredentials"]["mine"]
        creds["registryCredentials"]["other"] = {"address": "elsewhere.example.net", "username": "puller", "password": "s3cret"}
        manifest = deployment(modules)
        manifest["modulesContent"]["$edgeAgent"]["properties.desired"]["runtime"]["settings"] = creds
        (tmp_path / "d2.json").write_text(json.dumps(manifest))
        assert module_hub.cli("edge", "set-modules", device.device_id, "--content", str(tmp_path / "d2.json")).returncode == 0
        r = device.wait_reported(lambda r: "403" in module(r, "greeter").get("statusDescription", ""), timeout=90,
                                 what="greeter failing with 403")
        why = module(r, "greeter")["statusDescription"]
        assert "edgeAgent has no permission to access the module's image" in why
        assert "runtime.settings.registryCredentials" in why and "iotedgectl login --address" in why
        assert "403" in device.module_log("edgeAgent")
        cp = device.iotedge("list")
        assert "greeter" in cp.stdout and "403" in cp.stdout or "Backoff" in cp.stdout

        # The preview's fix: iotedgectl login, kept readable by its owner only; the next retry runs it.
        env = {**os.environ, "OUTPOST_EDGE_CONFIG": str(device.config)}
        cp = subprocess.run([str(IOTEDGECTL), "login", "--address", registry.address, "--username", "puller", "--password", "s3cret"],
                            capture_output=True, text=True, env=env, timeout=30)
        assert cp.returncode == 0 and "Login Succeeded" in cp.stdout, cp.stderr
        store = device.root / "data" / "registry-logins.json"
        assert stat.S_IMODE(os.stat(store).st_mode) == 0o600
        device.wait_reported(lambda r: module(r, "greeter").get("runtimeStatus") == "running", timeout=120, what="greeter running after login")
        assert "greeter fetched and running" in device.module_log("greeter")
    finally:
        device.stop()


def test_iotedgectl_setup_runtime_log_level_and_restart(module_hub, tmp_path):
    device = start_device(module_hub, tmp_path, {})
    env = {**os.environ, "OUTPOST_EDGE_CONFIG": str(device.config)}
    try:
        device.wait_reported(lambda r: r["systemModules"]["edgeHub"]["runtimeStatus"] == "running", timeout=90, what="runtime up")
        cp = subprocess.run([str(IOTEDGECTL), "setup", "--runtime-log-level", "DEBUG"], capture_output=True, text=True, env=env, timeout=30)
        assert cp.returncode == 0 and "iotedgectl restart" in cp.stdout, cp.stderr
        assert 'RuntimeLogLevel = "debug"' in device.config.read_text()
        cp = subprocess.run([str(IOTEDGECTL), "restart"], capture_output=True, text=True, env=env, timeout=90)
        assert cp.returncode == 0 and "running again" in cp.stdout, cp.stderr
        # `docker exec edgeAgent printenv`, today: the agent's environment, no secret in it.
        def agent_env():
            cp = device.iotedge("exec", "edgeAgent", "printenv")
            return cp.returncode == 0 and "RuntimeLogLevel=debug" in cp.stdout and cp.stdout
            deadline = time.monotonic() + 60
        out = agent_env()
        while not out and time.monotonic() < deadline:
            time.sleep(0.5)
            out = agent_env()
        assert out, device.iotedge("exec", "edgeAgent", "printenv").stdout
        assert f"IOTEDGE_DEVICEID={device.device_id}" in out and "IOTEDGE_MODULEID=$edgeAgent" in out
        assert "SharedAccessKey" not in out
        cp = device.iotedge("exec", "edgeAgent", "printenv", "IOTEDGE_IOTHUBHOSTNAME")
        assert cp.returncode == 0 and cp.stdout.strip() == module_hub.host
        cp = device.iotedge("exec", "edgeAgent", "sh")
        assert cp.returncode != 0 and "only printenv" in cp.stderr
        cp = subprocess.run([str(IOTEDGECTL), "setup", "--runtime-log-level", "LOUD"], capture_output=True, text=True, env=env, timeout=30)
        assert cp.returncode != 0 and "--runtime-log-level LOUD" in cp.stderr
    finally:
        device.stop()


def test_edge_hub_names_the_process_holding_port_443(module_hub, tmp_path):
    gateway = allocate_host()
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.bind((gateway, 443))
    holder.listen(1)
    device = deployed_device(module_hub, tmp_path, deployment({}), prefix="port", gateway=gateway)
    try:
        deadline = time.monotonic() + 60
        while "port is already allocated" not in device.module_log("edgeHub") and time.monotonic() < deadline:
            time.sleep(0.3)
        log = device.iotedge("logs", "edgeHub").stdout
        assert f"Bind for {gateway}:443 failed: port is already allocated" in log, log[-3000:]
        assert f"pid {os.getpid()} (" in log and "find and stop the process that is using port 443" in log
        r = device.wait_reported(lambda r: r["systemModules"]["edgeHub"]["runtimeStatus"] in ("backoff", "failed")
                                 and r["systemModules"]["edgeHub"].get("exitCode") == 1, timeout=60, what="edgeHub failing")
        # Freeing the port lets the agent's next restart succeed.
        holder.close()
        device.wait_reported(lambda r: r["systemModules"]["edgeHub"]["runtimeStatus"] == "running", timeout=90, what="edgeHub running")
    finally:
        holder.close()
        device.stop()


def test_constrained_device_optimize_for_performance_false(module_hub, tmp_path):
    """Seed 000's resource-constrained devices: OptimizeForPerformance=false on edgeHub makes it
    run in a low-memory mode, and messages still flow module → route → $upstream."""
    manifest = deployment({"sensor": {"type": "process", "status": "running", "restartPolicy": "always",
                                      "settings": {"image": "simulated-temperature-sensor"},
                                      "env": {"SendInterval": {"value": "1"}, "MessageCount": {"value": "3"}}}},
                          routes={"up": "FROM /messages/modules/sensor/outputs/* INTO $upstream"})
    hub_spec = manifest["modulesContent"]["$edgeAgent"]["properties.desired"]["systemModules"]["edgeHub"]
    hub_spec["env"] = {"OptimizeForPerformance": {"value": "false"}}
    device = deployed_device(module_hub, tmp_path, manifest, prefix="pi")
    did = device.device_id
    try:
        deadline = time.monotonic() + 60
        events = []
        while len(events) < 3 and time.monotonic() < deadline:
            events = [e for e in module_hub.monitor(device=did, timeout=2) if e.get("moduleId") == "sensor"]
        assert len(events) >= 3, device.module_log("edgeHub")[-2000:]
        assert "OptimizeForPerformance is false: low-memory mode" in device.module_log("edgeHub")
        # A value that is neither true nor false is refused with what to write.
        hub_spec["env"] = {"OptimizeForPerformance": {"value": "maybe"}}
        (tmp_path / "d.json").write_text(json.dumps(manifest))
        assert module_hub.cli("edge", "set-modules", did, "--content", str(tmp_path / "d.json")).returncode == 0
        deadline = time.monotonic() + 60
        while "OptimizeForPerformance=maybe: use true or false" not in device.module_log("edgeHub") and time.monotonic() < deadline:
            time.sleep(0.5)
        assert "OptimizeForPerformance=maybe: use true or false" in device.module_log("edgeHub")
    finally:
        device.stop()
