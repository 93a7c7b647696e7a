"""`iotedge config import` (a legacy config.yaml, with the seed's tab warning) and `config mp`:
files only, no daemon."""

from __future__ import annotations

import os
import stat

import pytest

from edgekit import IOTEDGE, IOTEDGED

pytestmark = pytest.mark.skipif(not IOTEDGE.exists(), reason="iotedge is not built")

import subprocess

CS = "HostName=hub.example.net;DeviceId=pi4;SharedAccessKey=" + "a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U="

LEGACY = f"""provisioning:
  source: "manual"
  device_connection_string: "{CS}"
agent:
  name: "edgeAgent"
  type: "docker"
  env:
    RuntimeLogLevel: debug
  config:
    image: "mcr.microsoft.com/azureiotedge-agent:1.0"
    auth: {{}}
hostname: "pi4"
connect:
  management_uri: "unix:///var/run/iotedge/mgmt.sock"
  workload_uri: "unix:///var/run/iotedge/workload.sock"
listen:
  management_uri: "fd://iotedge.mgmt.socket"
  workload_uri: "fd://iotedge.socket"
homedir: "/var/lib/iotedge"
moby_runtime:
  docker_uri: "unix:///var/run/docker.sock"
  network: "azure-iot-edge"
"""


def run(*args):
    return subprocess.run([str(IOTEDGE), *args], capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)


def test_import_a_legacy_config_yaml(tmp_path):
    src, out = tmp_path / "config.yaml", tmp_path / "config.toml"
    src.write_text(LEGACY)
    cp = run("config", "import", "-i", str(src), "-o", str(out))
    assert cp.returncode == 0, cp.stderr
    assert "moby_runtime is dropped" in cp.stdout and "fd://iotedge.mgmt.socket is not carried over" in cp.stdout
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    text = out.read_text()
    assert 'hostname = "pi4"' in text and f'connection_string = "{CS}"' in text and "RuntimeLogLevel = \"debug\"" in text
    check = subprocess.run([str(IOTEDGED), "--config", str(out), "--check-config"], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0 and "device pi4 on hub hub.example.net" in check.stdout, check.stderr
    # Refuses to overwrite without --force.
    cp = run("config", "import", "-i", str(src), "-o", str(out))
    assert cp.returncode != 0 and "--force" in cp.stderr


def test_import_names_the_line_indented_with_a_tab(tmp_path):
    src, out = tmp_path / "config.yaml", tmp_path / "config.toml"
    src.write_text(LEGACY.replace("  env:\n    RuntimeLogLevel", "  env:\n\tRuntimeLogLevel"))
    cp = run("config", "import", "-i", str(src), "-o", str(out))
    assert cp.returncode != 0
    assert "line 8: YAML files cannot contain tabs as indentation. Use 2 spaces instead." in cp.stderr
    assert not out.exists()


def test_import_without_a_connection_string(tmp_path):
    src, out = tmp_path / "config.yaml", tmp_path / "config.toml"
    src.write_text(LEGACY.replace(CS, "<ADD DEVICE CONNECTION STRING HERE>"))
    cp = run("config", "import", "-i", str(src), "-o", str(out))
    assert cp.returncode != 0 and "device_connection_string is missing or still the placeholder" in cp.stderr
    assert not out.exists()


def test_mp_writes_manual_provisioning(tmp_path):
    out = tmp_path / "config.toml"
    cp = run("config", "mp", "-c", CS, "-o", str(out))
    assert cp.returncode == 0, cp.stderr
    assert "sudo iotedge config apply" in cp.stdout
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600 and f'connection_string = "{CS}"' in out.read_text()
    cp = run("config", "mp", "-c", "HostName=hub;DeviceId=x", "-o", str(tmp_path / "other.toml"))
    assert cp.returncode != 0 and not (tmp_path / "other.toml").exists()
    assert "SharedAccessKey" in cp.stderr
