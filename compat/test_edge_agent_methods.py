"""edgeAgent's direct methods called from the service SDK (`invoke_device_module_method` on
`$edgeAgent`), as IoT Edge 1.5 names them: ping, RestartModule, GetModuleLogs (filters, gzip,
json, the 127,000-byte cap with its advice), and the errors for bad requests."""

from __future__ import annotations

import base64
import gzip
import json
import time

import pytest
from azure.iot.hub.models import CloudToDeviceMethod

from edgekit import IOTEDGED, deployed_device, deployment, script_module

pytestmark = pytest.mark.skipif(not IOTEDGED.exists(), reason=f"{IOTEDGED} is not built")

CHATTY = 'i=0; while [ $i -lt 3000 ]; do echo "<6> chatty line $i padded with text to make the log large enough"; i=$((i+1)); done\necho "<3> chatty: something failed"\nwhile true; do sleep 1; done'


@pytest.fixture(scope="module")
def device(module_hub, tmp_path_factory):
    root = tmp_path_factory.mktemp("agent-methods")
    edge = deployed_device(module_hub, root, deployment({"chatty": script_module(root / "chatty", CHATTY)}), prefix="meth")
    edge.wait_reported(lambda r: r["modules"]["chatty"]["runtimeStatus"] == "running"
                       and r["systemModules"]["edgeHub"]["runtimeStatus"] == "running", timeout=90, what="chatty running")
    deadline = time.monotonic() + 20
    while "something failed" not in edge.module_log("chatty") and time.monotonic() < deadline:
        time.sleep(0.2)
    yield edge
    edge.stop()


@pytest.fixture
def invoke(device, module_hub, registry_manager):
    rm = registry_manager(module_hub)

    def call(name, payload=None):
        method = CloudToDeviceMethod(method_name=name, payload=payload, response_timeout_in_seconds=30)
        result = rm.invoke_device_module_method(device.device_id, "$edgeAgent", method)
        return result.status, result.payload
    return call


def test_ping(invoke):
    assert invoke("ping", {}) == (200, None)


def test_get_module_logs_with_tail_regex_and_level(invoke):
    status, payload = invoke("GetModuleLogs", {"schemaVersion": "1.0", "items": [
        {"id": "chatty", "filter": {"tail": 3}},
        {"id": "edgeAgent", "filter": {"regex": "Starting module management agent\\.$"}},
    ], "encoding": "none", "contentType": "text"})
    assert status == 200, payload
    by_id = {p["id"]: p["payload"] for p in payload}
    assert by_id["chatty"].strip().splitlines()[-1] == "<3> chatty: something failed"
    assert len(by_id["chatty"].strip().splitlines()) == 3
    agent = by_id["edgeAgent"].strip().splitlines()
    assert len(agent) == 1 and agent[0].startswith("<6> ") and "[INF] - Starting module management agent." in agent[0]
    status, payload = invoke("GetModuleLogs", {"schemaVersion": "1.0", "items": [{"id": "chatty", "filter": {"loglevel": 3}}]})
    assert status == 200 and payload[0]["payload"].strip() == "<3> chatty: something failed"


def test_get_module_logs_regex_id_gzip_and_json(invoke, device):
    status, payload = invoke("GetModuleLogs", {"schemaVersion": "1.0", "items": [{"id": "edge.*", "filter": {"tail": 2}}],
                                               "encoding": "gzip", "contentType": "json"})
    assert status == 200, payload
    assert sorted(p["id"] for p in payload) == ["edgeAgent", "edgeHub"]
    for p in payload:
        assert "payload" not in p or p["payload"] is None
        messages = json.loads(gzip.decompress(base64.b64decode(p["payloadBytes"])))
        assert len(messages) == 2
        for m in messages:
            assert m["iothub"] == device.hub.host and m["device"] == device.device_id and m["id"] == p["id"]
            assert isinstance(m["loglevel"], int) and m["text"] and m["timestamp"].startswith("20")


def test_get_module_logs_over_the_cap_says_how_to_narrow(invoke):
    status, payload = invoke("GetModuleLogs", {"schemaVersion": "1.0", "items": [{"id": "chatty"}]})
    assert status == 200
    text = payload[0]["payload"]
    assert "The payload is too large for a direct method. GetModuleLogs supports up to 127000 bytes of logs." in text
    assert "'tail', 'since' and 'until'" in text


def test_bad_requests_name_what_is_wrong(invoke):
    status, payload = invoke("GetModuleLogs", {"schemaVersion": "1.0"})
    assert status == 400 and "items is missing" in payload["message"]
    status, payload = invoke("GetModuleLogs", {"schemaVersion": "1.0", "items": [{"id": "nosuch"}]})
    assert status == 400 and 'no module matches id "nosuch"' in payload["message"] and "edgeAgent" in payload["message"]
    status, payload = invoke("GetModuleLogs", {"schemaVersion": "1.0", "items": [{"id": "chatty"}], "encoding": "zip"})
    assert status == 400 and 'encoding "zip"' in payload["message"]
    status, payload = invoke("UploadModuleLogs", {"schemaVersion": "1.0", "items": [{"id": "chatty"}]})
    assert status == 400 and "sasUrl is missing" in payload["message"]
    status, payload = invoke("Reboot", {})
    assert status == 400 and "Command 'Reboot' not found" in payload["message"]
    status, payload = invoke("GetTaskStatus", {"schemaVersion": "1.0", "correlationId": "nope"})
    assert status == 200 and payload["status"] == "Unknown"


def test_restart_module(invoke, device):
    before = device.reported()["modules"]["chatty"]["lastStartTimeUtc"]
    status, payload = invoke("RestartModule", {"schemaVersion": "1.0", "id": "chatty"})
    assert status == 200, payload
    device.wait_reported(lambda r: r["modules"]["chatty"]["lastStartTimeUtc"] != before
                         and r["modules"]["chatty"]["runtimeStatus"] == "running", timeout=60, what="chatty restarted")
    status, payload = invoke("RestartModule", {"schemaVersion": "1.0", "id": "ghost"})
    assert status in (400, 500) and "ghost" in payload["message"]


def wait_task(invoke, correlation_id, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, payload = invoke("GetTaskStatus", {"schemaVersion": "1.0", "correlationId": correlation_id})
        assert status == 200, payload
        if payload["status"] in ("Completed", "Failed", "Cancelled"):
            return payload
        time.sleep(0.5)
    raise AssertionError(f"task {correlation_id} still {payload}")


def container_sas(hub, container):
    cp = hub.cli("files", "sas", "--container", container, "--permissions", "rwcl", "--expiry", "1h")
    assert cp.returncode == 0, cp.stderr
    return cp.stdout.strip()


def blobs(hub, container):
    cp = hub.cli("files", "list", "--container", container, "--json")
    assert cp.returncode == 0, cp.stderr
    return json.loads(cp.stdout)


def fetch(hub, container, name, tmp_path) -> bytes:
    out = tmp_path / "blob"
    cp = hub.cli("files", "get", f"{container}/{name}", "-o", str(out))
    assert cp.returncode == 0, cp.stderr
    return out.read_bytes()


def test_upload_module_logs_to_the_hubs_blob_storage(invoke, device, module_hub, tmp_path):
    sas = container_sas(module_hub, "edgelogs")
    status, payload = invoke("UploadModuleLogs", {"schemaVersion": "1.0", "sasUrl": sas, "encoding": "gzip", "contentType": "text",
                                                  "items": [{"id": "chatty", "filter": {"loglevel": 3}}, {"id": "edgeAgent", "filter": {"tail": 10}}]})
    assert status == 200 and payload["status"] in ("NotStarted", "Running", "Completed") and payload["correlationId"], payload
    done = wait_task(invoke, payload["correlationId"])
    assert done["status"] == "Completed", done
    names = {b["name"] for b in blobs(module_hub, "edgelogs")}
    chatty = [n for n in names if n.startswith(f"{module_hub.host}/{device.device_id}/chatty-") and n.endswith(".log.gz")]
    assert len(chatty) == 1 and any("/edgeAgent-" in n for n in names), names
    # One line per run of chatty (test_restart_module ran it again), all at level 3.
    lines = gzip.decompress(fetch(module_hub, "edgelogs", chatty[0], tmp_path)).decode().strip().splitlines()
    assert lines and set(lines) == {"<3> chatty: something failed"}


def test_upload_to_a_sas_the_hub_refuses_fails_the_task_with_the_reason(invoke, module_hub):
    sas = container_sas(module_hub, "edgelogs").replace("sig=", "sig=AAAA")
    status, payload = invoke("UploadModuleLogs", {"schemaVersion": "1.0", "sasUrl": sas, "items": [{"id": "edgeAgent", "filter": {"tail": 1}}]})
    assert status == 200
    done = wait_task(invoke, payload["correlationId"])
    assert done["status"] == "Failed" and "403" in done["message"] and "upload logs" in done["message"], done


def test_upload_support_bundle_with_the_service_sdk_and_fetch_it_back(invoke, device, module_hub, tmp_path):
    import io
    import zipfile
    sas = container_sas(module_hub, "bundles")
    status, payload = invoke("UploadSupportBundle", {"schemaVersion": "1.0", "sasUrl": sas, "since": "1h", "edgeRuntimeOnly": False})
    assert status == 200 and payload["correlationId"], payload
    done = wait_task(invoke, payload["correlationId"], timeout=120)
    assert done["status"] == "Completed", done
    names = [b["name"] for b in blobs(module_hub, "bundles")]
    bundle = [n for n in names if n.startswith(f"{module_hub.host}/{device.device_id}/supportbundle-") and n.endswith(".zip")]
    assert len(bundle) == 1, names
    with zipfile.ZipFile(io.BytesIO(fetch(module_hub, "bundles", bundle[0], tmp_path))) as z:
        listing = z.namelist()
        logs = {n: z.read(n).decode(errors="replace") for n in listing if n.startswith("logs/")}
    assert any("Starting module management agent." in text for name, text in logs.items() if "edgeAgent" in name), listing
    assert any("chatty" in name for name in logs), listing
    assert any(n.endswith("iotedged.log") for n in listing), listing
