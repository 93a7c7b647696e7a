"""Identity registry through azure-iot-hub 2.7.0 (REST, msrest) and through the iothub CLI."""

from __future__ import annotations

import json
import time

import pytest
import requests
from msrest.exceptions import HttpOperationError

import sas
from outpost import random_key, unique

API = "api-version=2021-04-12"


def status_of(excinfo) -> int:
    return excinfo.value.response.status_code


def error_text(excinfo) -> str:
    r = excinfo.value.response
    return f"{r.headers.get('iothub-errorcode', '')} {r.text}"


# ---- devices ---------------------------------------------------------------------------------


def test_device_crud_with_etag(module_hub, registry_manager):
    rm = registry_manager(module_hub)
    did = unique("reg")
    pk, sk = random_key(), random_key()

    created = rm.create_device_with_sas(did, pk, sk, "enabled")
    assert created.device_id == did
    assert created.status == "enabled"
    assert created.etag, "a created device carries an etag"
    assert created.generation_id, "a created device carries a generationId"
    assert created.authentication.type == "sas"
    assert created.authentication.symmetric_key.primary_key == pk
    assert created.authentication.symmetric_key.secondary_key == sk
    assert created.capabilities is not None and created.capabilities.iot_edge is False
    assert created.connection_state in ("Disconnected", "disconnected")
    assert created.cloud_to_device_message_count in (0, None)

    got = rm.get_device(did)
    assert got.device_id == did
    assert got.etag == created.etag
    assert got.generation_id == created.generation_id
    assert got.authentication.symmetric_key.primary_key == pk

    listed = rm.get_devices()
    assert did in [d.device_id for d in listed]

    updated = rm.update_device_with_sas(did, created.etag, pk, sk, "disabled",
                                        status_reason="compat test")
    assert updated.status == "disabled"
    assert updated.etag and updated.etag != created.etag, "an update changes the etag"
    assert updated.generation_id == created.generation_id, "an update keeps the generationId"
    assert rm.get_device(did).status == "disabled"

    # Without an etag the SDK sends If-Match: "*" -> unconditional update.
    again = rm.update_device_with_sas(did, None, pk, sk, "enabled")
    assert again.status == "enabled"

    rm.delete_device(did)
    with pytest.raises(HttpOperationError) as ei:
        rm.get_device(did)
    assert status_of(ei) == 404


def test_create_without_keys_generates_them(module_hub, registry_manager):
    # The SDK sends "symmetricKey": {} when both keys are None; Azure generates the keys.
    rm = registry_manager(module_hub)
    did = unique("genkeys")
    d = rm.create_device_with_sas(did, None, None, "enabled")
    import base64
    for k in (d.authentication.symmetric_key.primary_key,
              d.authentication.symmetric_key.secondary_key):
        assert k and len(base64.b64decode(k)) >= 16
    rm.delete_device(did)


def test_duplicate_create_is_409(module_hub, registry_manager):
    rm = registry_manager(module_hub)
    did = unique("dup")
    rm.create_device_with_sas(did, random_key(), random_key(), "enabled")
    with pytest.raises(HttpOperationError) as ei:
        rm.create_device_with_sas(did, random_key(), random_key(), "enabled")
    assert status_of(ei) == 409
    assert "DeviceAlreadyExists" in error_text(ei)


def test_stale_etag_update_is_412(module_hub, registry_manager):
    rm = registry_manager(module_hub)
    did = unique("etag")
    pk, sk = random_key(), random_key()
    first = rm.create_device_with_sas(did, pk, sk, "enabled")
    rm.update_device_with_sas(did, first.etag, pk, sk, "disabled")
    with pytest.raises(HttpOperationError) as ei:
        rm.update_device_with_sas(did, first.etag, pk, sk, "enabled")
    assert status_of(ei) == 412
    assert "PreconditionFailed" in error_text(ei)
    assert rm.get_device(did).status == "disabled", "a refused update changes nothing"


def test_get_unknown_device_is_404(module_hub, registry_manager):
    rm = registry_manager(module_hub)
    with pytest.raises(HttpOperationError) as ei:
        rm.get_device(unique("nosuch"))
    assert status_of(ei) == 404
    assert "DeviceNotFound" in error_text(ei)


def test_delete_unknown_device_is_404(module_hub, registry_manager):
    rm = registry_manager(module_hub)
    with pytest.raises(HttpOperationError) as ei:
        rm.delete_device(unique("nosuch"))
    assert status_of(ei) == 404


def test_get_devices_top(module_hub, registry_manager):
    rm = registry_manager(module_hub)
    for _ in range(3):
        rm.create_device_with_sas(unique("top"), random_key(), random_key(), "enabled")
    assert len(rm.get_devices(max_number_of_devices=2)) <= 2
    assert len(rm.get_devices()) >= 3


# ---- modules ---------------------------------------------------------------------------------


def test_module_crud(module_hub, registry_manager):
    rm = registry_manager(module_hub)
    did, mid = unique("moddev"), "compatmod"
    rm.create_device_with_sas(did, random_key(), random_key(), "enabled")
    pk, sk = random_key(), random_key()

    m = rm.create_module_with_sas(did, mid, None, pk, sk)
    assert (m.device_id, m.module_id) == (did, mid)
    assert m.etag and m.generation_id
    assert m.authentication.type == "sas"
    assert m.authentication.symmetric_key.primary_key == pk

    got = rm.get_module(did, mid)
    assert (got.device_id, got.module_id) == (did, mid)
    assert got.authentication.symmetric_key.secondary_key == sk

    assert mid in [x.module_id for x in rm.get_modules(did)]

    pk2 = random_key()
    upd = rm.update_module_with_sas(did, mid, None, got.etag, pk2, sk)
    assert upd.authentication.symmetric_key.primary_key == pk2
    assert upd.etag != got.etag
    with pytest.raises(HttpOperationError) as ei:
        rm.update_module_with_sas(did, mid, None, got.etag, pk, sk)
    assert status_of(ei) == 412

    with pytest.raises(HttpOperationError) as ei:
        rm.create_module_with_sas(did, mid, None, random_key(), random_key())
    assert status_of(ei) == 409

    rm.delete_module(did, mid)
    with pytest.raises(HttpOperationError) as ei:
        rm.get_module(did, mid)
    assert status_of(ei) == 404
    assert mid not in [x.module_id for x in rm.get_modules(did)]


def test_module_on_unknown_device_is_404(module_hub, registry_manager):
    rm = registry_manager(module_hub)
    with pytest.raises(HttpOperationError) as ei:
        rm.create_module_with_sas(unique("nosuch"), "m", None, random_key(), random_key())
    assert status_of(ei) == 404


def test_deleting_device_deletes_its_modules(module_hub, registry_manager):
    rm = registry_manager(module_hub)
    did = unique("cascade")
    rm.create_device_with_sas(did, random_key(), random_key(), "enabled")
    rm.create_module_with_sas(did, "m1", None, random_key(), random_key())
    rm.delete_device(did)
    with pytest.raises(HttpOperationError) as ei:
        rm.get_module(did, "m1")
    assert status_of(ei) == 404


# ---- authorization ---------------------------------------------------------------------------


def test_wrong_service_key_is_401(module_hub, registry_manager):
    p = sas.parse_connection_string(module_hub.service_cs)
    bad = f"HostName={p['HostName']};SharedAccessKeyName={p['SharedAccessKeyName']};" \
          f"SharedAccessKey={random_key()}"
    rm = registry_manager(module_hub, bad)
    with pytest.raises(HttpOperationError) as ei:
        rm.get_devices()
    assert status_of(ei) == 401


def test_unknown_policy_is_401(module_hub, registry_manager):
    p = sas.parse_connection_string(module_hub.service_cs)
    bad = f"HostName={p['HostName']};SharedAccessKeyName=nosuchpolicy;" \
          f"SharedAccessKey={p['SharedAccessKey']}"
    rm = registry_manager(module_hub, bad)
    with pytest.raises(HttpOperationError) as ei:
        rm.get_device("whatever")
    assert status_of(ei) == 401


def test_raw_requests_without_or_with_expired_token_are_401(module_hub):
    p = sas.parse_connection_string(module_hub.service_cs)
    url = f"https://{module_hub.host}/devices?{API}"
    ca = str(module_hub.ca_path)
    r = requests.get(url, verify=ca, timeout=10)
    assert r.status_code == 401
    expired = sas.generate_sas_token(p["HostName"], p["SharedAccessKey"],
                                     expiry=int(time.time()) - 120,
                                     policy_name=p["SharedAccessKeyName"])
    r = requests.get(url, headers={"Authorization": expired}, verify=ca, timeout=10)
    assert r.status_code == 401
    good = sas.generate_sas_token(p["HostName"], p["SharedAccessKey"],
                                  policy_name=p["SharedAccessKeyName"])
    r = requests.get(url, headers={"Authorization": good}, verify=ca, timeout=10)
    assert r.status_code == 200
    assert isinstance(r.json(), list)


# ---- statistics ------------------------------------------------------------------------------


def test_statistics(hub, registry_manager):
    rm = registry_manager(hub)
    for i in range(3):
        rm.create_device_with_sas(f"stat{i}", random_key(), random_key(),
                                  "disabled" if i == 0 else "enabled")
    reg = rm.get_device_registry_statistics()
    assert (reg.total_device_count, reg.enabled_device_count, reg.disabled_device_count) \
        == (3, 2, 1)
    svc = rm.get_service_statistics()
    assert isinstance(svc.connected_device_count, int)
    assert svc.connected_device_count == 0


# ---- CLI -------------------------------------------------------------------------------------


def _json_list(text: str) -> list:
    text = text.strip()
    if text.startswith("["):
        return json.loads(text)
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_cli_device_lifecycle(module_hub, registry_manager):
    did = unique("cli")
    cp = module_hub.cli("device", "create", did, "--output", "json")
    assert cp.returncode == 0, cp.stderr
    created = json.loads(cp.stdout)
    assert created["deviceId"] == did
    assert created["status"] == "enabled"
    assert created["authentication"]["type"] == "sas"
    assert created["authentication"]["symmetricKey"]["primaryKey"]
    assert created["etag"]

    cp = module_hub.cli("device", "show", did, "--output", "json")
    assert cp.returncode == 0, cp.stderr
    assert json.loads(cp.stdout)["deviceId"] == did

    cp = module_hub.cli("device", "list", "--output", "json")
    assert cp.returncode == 0, cp.stderr
    assert did in [d["deviceId"] for d in _json_list(cp.stdout)]

    # The CLI and the REST API see the same registry.
    rm = registry_manager(module_hub)
    assert rm.get_device(did).authentication.symmetric_key.primary_key == \
        created["authentication"]["symmetricKey"]["primaryKey"]

    cp = module_hub.cli("device", "update", did, "--status", "disabled")
    assert cp.returncode == 0, cp.stderr
    assert rm.get_device(did).status == "disabled"

    cs = module_hub.device_cs(did)
    p = sas.parse_connection_string(cs)
    assert p == {"HostName": module_hub.host, "DeviceId": did,
                 "SharedAccessKey": created["authentication"]["symmetricKey"]["primaryKey"]}

    cp = module_hub.cli("device", "delete", did)
    assert cp.returncode == 0, cp.stderr
    cp = module_hub.cli("device", "show", did)
    assert cp.returncode != 0
    assert cp.stderr.strip(), "an error exit says why on stderr"


def test_cli_create_disabled(module_hub):
    did = unique("clidis")
    cp = module_hub.cli("device", "create", did, "--status", "disabled", "--output", "json")
    assert cp.returncode == 0, cp.stderr
    assert json.loads(cp.stdout)["status"] == "disabled"


def test_cli_errors(module_hub):
    did = unique("clierr")
    module_hub.cli("device", "create", did, check=True)

    dup = module_hub.cli("device", "create", did)
    assert dup.returncode != 0 and dup.stderr.strip()

    for args in (("device", "show", unique("nosuch")),
                 ("device", "delete", unique("nosuch")),
                 ("device", "connection-string", unique("nosuch")),
                 ("device", "update", unique("nosuch"), "--status", "disabled"),
                 ("module", "create", unique("nosuch"), "m1")):
        cp = module_hub.cli(*args)
        assert cp.returncode != 0, f"{args} should fail"
        assert cp.stderr.strip(), f"{args} should say why on stderr"


def test_cli_module_commands(module_hub, registry_manager):
    did = unique("climod")
    module_hub.create_device(did)
    cs = module_hub.create_module(did, "m1")
    p = sas.parse_connection_string(cs)
    assert (p["HostName"], p["DeviceId"], p["ModuleId"]) == (module_hub.host, did, "m1")
    rm = registry_manager(module_hub)
    assert rm.get_module(did, "m1").authentication.symmetric_key.primary_key == \
        p["SharedAccessKey"]


def test_cli_with_login(module_hub, registry_manager):
    did = unique("login")
    rm = registry_manager(module_hub)
    rm.create_device_with_sas(did, random_key(), random_key(), "enabled")
    # A user pointing the CLI at a hub with a private CA; give it the usual variables.
    env = {"REQUESTS_CA_BUNDLE": str(module_hub.ca_path), "SSL_CERT_FILE": str(module_hub.ca_path)}
    cp = module_hub.cli("device", "show", did, "--output", "json",
                        login=module_hub.service_cs, env=env)
    assert cp.returncode == 0, cp.stderr
    assert json.loads(cp.stdout)["deviceId"] == did

    p = sas.parse_connection_string(module_hub.service_cs)
    bad = f"HostName={p['HostName']};SharedAccessKeyName={p['SharedAccessKeyName']};" \
          f"SharedAccessKey={random_key()}"
    cp = module_hub.cli("device", "show", did, login=bad, env=env)
    assert cp.returncode != 0 and cp.stderr.strip()
