"""The hub side of IoT Edge: `iothub edge create`, `iothub edge set-modules` (the deployment
manifest checked and applied to module twins), and a device's own SAS token managing its module
identities as an edge daemon does."""

from __future__ import annotations

import json

import pytest
import requests

import sas
from outpost import unique

API = "api-version=2021-04-12"

MANIFEST = {
    "modulesContent": {
        "$edgeAgent": {"properties.desired": {
            "schemaVersion": "1.1",
            "runtime": {"type": "process", "settings": {}},
            "systemModules": {
                "edgeAgent": {"type": "process", "settings": {"image": "edge-agent"}},
                "edgeHub": {"type": "process", "status": "running", "restartPolicy": "always",
                            "settings": {"image": "edge-hub"}},
            },
            "modules": {
                "SimulatedTemperatureSensor": {
                    "type": "process", "status": "running", "restartPolicy": "always", "version": "1.0",
                    "settings": {"image": "simulated-temperature-sensor",
                                 "createOptions": json.dumps({"Env": ["MessageCount=5"]})},
                },
            },
        }},
        "$edgeHub": {"properties.desired": {
            "schemaVersion": "1.1",
            "routes": {"sensorToUpstream": "FROM /messages/modules/SimulatedTemperatureSensor/* INTO $upstream"},
            "storeAndForwardConfiguration": {"timeToLiveSecs": 7200},
        }},
        "SimulatedTemperatureSensor": {"properties.desired": {"SendData": True, "SendInterval": 5}},
    }
}


def cli_json(hub, *args):
    cp = hub.cli(*args, "--json")
    assert cp.returncode == 0, cp.stderr
    return json.loads(cp.stdout)


def test_edge_create_and_set_modules(module_hub, tmp_path):
    did = unique("edge")
    created = cli_json(module_hub, "edge", "create", did)
    assert created["deviceId"] == did and f"DeviceId={did}" in created["connectionString"]
    device = cli_json(module_hub, "device", "show", did)
    assert device["capabilities"]["iotEdge"] is True
    modules = {m["moduleId"] for m in cli_json(module_hub, "module", "list", did)}
    assert modules == {"$edgeAgent", "$edgeHub"}
    base = cli_json(module_hub, "twin", "show", did, "$edgeAgent")
    assert set(base["properties"]["desired"]["systemModules"]) == {"edgeAgent", "edgeHub"}

    path = tmp_path / "deployment.json"
    path.write_text(json.dumps(MANIFEST))
    cp = module_hub.cli("edge", "set-modules", did, "--content", str(path))
    assert cp.returncode == 0, cp.stderr
    assert "SimulatedTemperatureSensor" in cp.stdout
    modules = {m["moduleId"] for m in cli_json(module_hub, "module", "list", did)}
    assert modules == {"$edgeAgent", "$edgeHub", "SimulatedTemperatureSensor"}
    agent = cli_json(module_hub, "twin", "show", did, "$edgeAgent")["properties"]["desired"]
    assert agent["modules"]["SimulatedTemperatureSensor"]["settings"]["image"] == "simulated-temperature-sensor"
    assert agent["$version"] == 3  # fresh 1, base deployment 2, this one 3
    hub_twin = cli_json(module_hub, "twin", "show", did, "$edgeHub")["properties"]["desired"]
    assert "sensorToUpstream" in hub_twin["routes"]
    sensor = cli_json(module_hub, "twin", "show", did, "SimulatedTemperatureSensor")["properties"]["desired"]
    assert sensor["SendInterval"] == 5

    cp = module_hub.cli("edge", "show", did)
    assert cp.returncode == 0 and "Desired version" in cp.stdout


@pytest.mark.parametrize("change, needle", [
    (lambda m: m["modulesContent"].pop("$edgeAgent"), "$edgeAgent"),
    (lambda m: m["modulesContent"]["$edgeAgent"]["properties.desired"]["modules"]["SimulatedTemperatureSensor"]
     .update(restartPolicy="sometimes"), "restartPolicy"),
    (lambda m: m["modulesContent"]["$edgeAgent"]["properties.desired"]["modules"]["SimulatedTemperatureSensor"]
     ["settings"].pop("image"), "settings.image"),
    (lambda m: m["modulesContent"]["$edgeAgent"]["properties.desired"]["modules"]["SimulatedTemperatureSensor"]
     ["settings"].update(createOptions="{not json"), "createOptions"),
])
def test_bad_manifest_is_refused_with_the_path(module_hub, tmp_path, change, needle):
    did = unique("edgebad")
    cli_json(module_hub, "edge", "create", did)
    manifest = json.loads(json.dumps(MANIFEST))
    change(manifest)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(manifest))
    cp = module_hub.cli("edge", "set-modules", did, "--content", str(path))
    assert cp.returncode != 0
    assert needle in cp.stderr, cp.stderr
    modules = {m["moduleId"] for m in cli_json(module_hub, "module", "list", did)}
    assert modules == {"$edgeAgent", "$edgeHub"}, "nothing of a refused deployment is applied"


def test_set_modules_on_a_plain_device_is_refused(module_hub, tmp_path):
    did = unique("plain")
    module_hub.create_device(did)
    path = tmp_path / "d.json"
    path.write_text(json.dumps(MANIFEST))
    cp = module_hub.cli("edge", "set-modules", did, "--content", str(path))
    assert cp.returncode != 0 and "not an edge device" in cp.stderr


def device_session(hub, did: str, key: str) -> requests.Session:
    s = requests.Session()
    s.headers["Authorization"] = sas.generate_sas_token(f"{hub.host}/devices/{did}", key)
    return s


def test_device_token_manages_only_its_own_modules(module_hub):
    did, other = unique("edgetok"), unique("other")
    created = cli_json(module_hub, "edge", "create", did)
    key = sas.parse_connection_string(created["connectionString"])["SharedAccessKey"]
    module_hub.create_device(other)
    ca = str(module_hub.ca_path)
    s = device_session(module_hub, did, key)
    base = f"https://{module_hub.host}/devices/{did}/modules"
    listed = s.get(f"{base}?{API}", verify=ca, timeout=10)
    assert listed.status_code == 200 and {m["moduleId"] for m in listed.json()} == {"$edgeAgent", "$edgeHub"}
    agent = s.get(f"{base}/$edgeAgent?{API}", verify=ca, timeout=10).json()
    assert agent["authentication"]["symmetricKey"]["primaryKey"]
    put = s.put(f"{base}/filter?{API}", json={"moduleId": "filter", "managedBy": "iotEdge"}, verify=ca, timeout=10)
    assert put.status_code in (200, 201), put.text
    assert s.delete(f"{base}/filter?{API}", headers={"If-Match": "*"}, verify=ca, timeout=10).status_code == 204
    # Not another device's modules, not the registry, not twins.
    for url in (f"https://{module_hub.host}/devices/{other}/modules?{API}",
                f"https://{module_hub.host}/devices?{API}",
                f"https://{module_hub.host}/twins/{did}?{API}"):
        r = s.get(url, verify=ca, timeout=10)
        assert r.status_code == 401, (url, r.status_code, r.text)
    # A token signed with a wrong key is refused.
    bad = device_session(module_hub, did, sas.random_key() if hasattr(sas, "random_key") else "AAAA" * 11)
    assert bad.get(f"{base}?{API}", verify=ca, timeout=10).status_code == 401


def test_edge_hub_token_reads_but_does_not_write_modules(module_hub):
    did = unique("edgehubtok")
    cli_json(module_hub, "edge", "create", did)
    hub_module = cli_json(module_hub, "module", "show", did, "$edgeHub")
    key = hub_module["authentication"]["symmetricKey"]["primaryKey"]
    ca = str(module_hub.ca_path)
    s = requests.Session()
    s.headers["Authorization"] = sas.generate_sas_token(f"{module_hub.host}/devices/{did}/modules/$edgeHub", key)
    base = f"https://{module_hub.host}/devices/{did}/modules"
    r = s.get(f"{base}?{API}", verify=ca, timeout=10)
    assert r.status_code == 200 and {m["moduleId"] for m in r.json()} == {"$edgeAgent", "$edgeHub"}
    r = s.put(f"{base}/x?{API}", json={"moduleId": "x"}, verify=ca, timeout=10)
    assert r.status_code == 401 and "read" in r.text
