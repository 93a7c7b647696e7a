"""An Outpost edge device for tests: config.toml written for a hub, `iotedged` started from
OUTPOST_BIN_DIR (edgeAgent and edgeHub are found next to it), and helpers that read what the
agent reports to the hub."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from outpost import BIN_DIR, Hub

IOTEDGED = BIN_DIR / "iotedged"
IOTEDGE = BIN_DIR / "iotedge"


class EdgeDevice:
    def __init__(self, hub: Hub, device_id: str, connection_string: str, root: Path, gateway: str,
                 agent_env: dict[str, str] | None = None):
        self.hub, self.device_id, self.root, self.gateway = hub, device_id, Path(root), gateway
        self.root.mkdir(parents=True, exist_ok=True)
        self.config = self.root / "config.toml"
        self.log_path = self.root / "iotedged.out"
        env = {"RuntimeLogLevel": "info", **(agent_env or {})}
        env_lines = "\n".join(f'{k} = "{v}"' for k, v in env.items())
        self.config.write_text(f'''hostname = "{gateway}"
homedir = "{self.root / 'data'}"
trust_bundle_cert = "file://{hub.ca_path}"

[provisioning]
source = "manual"
connection_string = "{connection_string}"

[agent]
name = "edgeAgent"
type = "process"

[agent.config]
image = "edge-agent"

[agent.env]
{env_lines}

[connect]
management_uri = "unix://{self.root / 'mgmt.sock'}"
workload_uri = "unix://{self.root / 'workload.sock'}"

[listen]
management_uri = "unix://{self.root / 'mgmt.sock'}"
workload_uri = "unix://{self.root / 'workload.sock'}"
''')
        self.proc: subprocess.Popen | None = None

    def start(self) -> "EdgeDevice":
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([str(IOTEDGED), "--config", str(self.config)], stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_listening()
        return self

    def wait_listening(self, timeout: float = 20) -> None:
        """Until the management socket accepts (or the daemon exits, e.g. on a bad config)."""
        import socket
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                try:
                    s.connect(str(self.root / "mgmt.sock"))
                    return
                except OSError:
                    time.sleep(0.1)

    def iotedge(self, *args: str, timeout: float = 90, input: str | None = None) -> subprocess.CompletedProcess:
        """`iotedge ARGS` aimed at this device's daemon (through OUTPOST_EDGE_CONFIG)."""
        env = {**os.environ, "OUTPOST_EDGE_CONFIG": str(self.config)}
        return subprocess.run([str(IOTEDGE), *args], capture_output=True, text=True, timeout=timeout, env=env,
                              input=input, stdin=None if input is not None else subprocess.DEVNULL)

    def stop(self, timeout: float = 20) -> int | None:
        if not self.proc or self.proc.poll() is not None:
            # A daemon that `iotedge config apply` started runs outside self.proc.
            if IOTEDGE.exists() and (self.root / "mgmt.sock").exists():
                self.iotedge("system", "stop", timeout=timeout + 10)
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
            raise AssertionError(f"iotedged did not stop within {timeout} s after SIGTERM")

    def module_log(self, name: str) -> str:
        path = self.root / "data" / "logs" / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def daemon_log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def reported(self) -> dict:
        cp = self.hub.cli("twin", "show", self.device_id, "$edgeAgent", "--json")
        assert cp.returncode == 0, cp.stderr
        return json.loads(cp.stdout)["properties"]["reported"]

    def wait_reported(self, predicate, timeout: float = 60, what: str = "reported state") -> dict:
        deadline = time.monotonic() + timeout
        last: dict = {}
        while time.monotonic() < deadline:
            last = self.reported()
            try:
                if predicate(last):
                    return last
            except (KeyError, TypeError):
                pass
            time.sleep(0.5)
        raise AssertionError(f"timed out waiting for {what}; last reported: {json.dumps(last)[:2000]}\n"
                             f"daemon log tail:\n{self.daemon_log()[-3000:]}\nagent log tail:\n{self.module_log('edgeAgent')[-3000:]}")


def deployed_device(hub: Hub, root: Path, manifest: dict, prefix: str = "gw", gateway: str | None = None,
                    agent_env: dict[str, str] | None = None) -> EdgeDevice:
    """An edge device created on `hub`, `manifest` (see deployment()) set as its modules, and its
    iotedged started, listening on `gateway` (a fresh loopback address by default)."""
    from outpost import allocate_host, unique
    did = unique(prefix)
    cp = hub.cli("edge", "create", did, "--json")
    assert cp.returncode == 0, cp.stderr
    device = EdgeDevice(hub, did, json.loads(cp.stdout)["connectionString"], Path(root) / "edge", gateway or allocate_host(),
                        agent_env=agent_env)
    path = Path(root) / f"{did}-deployment.json"
    path.write_text(json.dumps(manifest))
    cp = hub.cli("edge", "set-modules", did, "--content", str(path))
    assert cp.returncode == 0, cp.stderr
    return device.start()


def deployment(modules: dict, routes: dict | None = None, edge_hub_image: str = "edge-hub") -> dict:
    return {"modulesContent": {
        "$edgeAgent": {"properties.desired": {
            "schemaVersion": "1.1", "runtime": {"type": "process", "settings": {}},
            "systemModules": {
                "edgeAgent": {"type": "process", "settings": {"image": "edge-agent"}},
                "edgeHub": {"type": "process", "status": "running", "restartPolicy": "always",
                            "settings": {"image": edge_hub_image}}},
            "modules": modules}},
        "$edgeHub": {"properties.desired": {
            "schemaVersion": "1.1", "routes": routes or {},
            "storeAndForwardConfiguration": {"timeToLiveSecs": 7200}}},
    }}


def script_module(path: Path, body: str, policy: str = "always", status: str = "running", env: dict | None = None) -> dict:
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    spec = {"type": "process", "status": status, "restartPolicy": policy, "settings": {"image": str(path)}}
    if env:
        spec["env"] = {k: {"value": v} for k, v in env.items()}
    return spec
