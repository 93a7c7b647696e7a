"""Device and module twins: azure-iot-device 2.14.0 on the device side (MQTT), azure-iot-hub
2.7.0 on the service side (REST), raw paho for the wire-level answers, and `iothub twin`.

Versions as in IoT Hub: a new twin has desired and reported `$version` 1; each accepted patch
of a section adds 1 to that section's `$version`."""

from __future__ import annotations

import gc
import json

import pytest
from azure.iot.device import exceptions as device_exceptions
from azure.iot.hub.models import Twin, TwinProperties
from msrest.exceptions import HttpOperationError

from devicekit import Inbox, assert_hub_error, cli_failed_with, set_handler, twin_paho
from outpost import bounded, sdk_device_client, shutdown_quietly, unique, wait_for


@pytest.fixture(scope="module", autouse=True)
def _release_http_connections(module_hub):
    """Collect garbage before the module's hub stops: msrest responses sit in reference cycles
    that keep their keep-alive sockets open, and the hub waits for open connections on stop."""
    yield
    gc.collect()


def user_props(section: dict) -> dict:
    """A desired/reported section without `$version` and `$metadata`."""
    return {k: v for k, v in (section or {}).items() if not k.startswith("$")}


def desired_patch(desired: dict | None = None, tags: dict | None = None) -> Twin:
    return Twin(tags=tags, properties=TwinProperties(desired=desired) if desired is not None
                else None)


@pytest.fixture
def device(module_hub):
    """(device id, connection string) of a new device on the module's hub."""
    did = unique("twin")
    return did, module_hub.create_device(did)


@pytest.fixture
def client_factory(module_hub):
    """client(cs, module=False) -> SDK client, shut down at teardown."""
    made = []

    def make(cs: str, module: bool = False):
        c = sdk_device_client(module_hub, cs, module=module)
        made.append(c)
        return c

    yield make
    for c in made:
        shutdown_quietly(c)


# ---- reported properties -----------------------------------------------------------------


def test_fresh_twin_versions_are_1(module_hub, registry_manager, device, client_factory):
    did, cs = device
    rm = registry_manager(module_hub)
    t = rm.get_twin(did)
    assert t.device_id == did
    assert t.module_id in (None, "")
    assert t.etag, "a twin carries an etag"
    assert t.properties.desired["$version"] == 1
    assert t.properties.reported["$version"] == 1
    assert user_props(t.properties.desired) == {} and user_props(t.properties.reported) == {}

    c = client_factory(cs)
    bounded(c.connect, timeout=30, what="connect")
    got = bounded(c.get_twin, timeout=20, what="get_twin")
    assert got["desired"]["$version"] == 1
    assert got["reported"]["$version"] == 1


def test_device_reports_service_reads(module_hub, registry_manager, device, client_factory):
    did, cs = device
    rm = registry_manager(module_hub)
    c = client_factory(cs)
    bounded(c.connect, timeout=30, what="connect")

    bounded(c.patch_twin_reported_properties, {"temp": 21.5, "fw": "1.0", "net": {"a": 1}},
            timeout=20, what="patch_twin_reported_properties")
    rep = rm.get_twin(did).properties.reported
    assert rep["$version"] == 2
    assert user_props(rep) == {"temp": 21.5, "fw": "1.0", "net": {"a": 1}}
    assert "$lastUpdated" in rep.get("$metadata", {}), "reported carries $metadata"

    # A patch merges (objects recursively) and null removes.
    bounded(c.patch_twin_reported_properties, {"temp": 22, "net": {"b": 2}, "fw": None},
            timeout=20, what="patch_twin_reported_properties")
    rep = rm.get_twin(did).properties.reported
    assert rep["$version"] == 3
    assert user_props(rep) == {"temp": 22, "net": {"a": 1, "b": 2}}

    # The device reads back the same.
    got = bounded(c.get_twin, timeout=20, what="get_twin")
    assert got["reported"]["$version"] == 3
    assert user_props(got["reported"]) == {"temp": 22, "net": {"a": 1, "b": 2}}


# ---- desired properties ------------------------------------------------------------------


def test_desired_patch_reaches_connected_device(module_hub, registry_manager, device,
                                                 client_factory):
    did, cs = device
    rm = registry_manager(module_hub)
    c = client_factory(cs)
    patches = Inbox()
    set_handler(c, "on_twin_desired_properties_patch_received", patches.put)

    etag = rm.get_twin(did).etag
    t = rm.update_twin(did, desired_patch({"fan": "on", "cfg": {"a": 1, "b": 2}}), etag)
    assert t.properties.desired["$version"] == 2
    assert user_props(t.properties.desired) == {"fan": "on", "cfg": {"a": 1, "b": 2}}
    assert t.etag != etag

    p = patches.wait_for(lambda p: p.get("$version") == 2, timeout=10)
    assert p is not None, f"the device got no desired patch with $version 2: {patches.items}"
    assert user_props(p) == {"fan": "on", "cfg": {"a": 1, "b": 2}}

    # null removes a property, nested merge keeps the siblings.
    t = rm.update_twin(did, desired_patch({"fan": None, "cfg": {"b": None, "c": 3}}), t.etag)
    assert t.properties.desired["$version"] == 3
    assert user_props(t.properties.desired) == {"cfg": {"a": 1, "c": 3}}
    p = patches.wait_for(lambda p: p.get("$version") == 3, timeout=10)
    assert p is not None, f"no desired patch with $version 3: {patches.items}"
    assert p["fan"] is None and p["cfg"] == {"b": None, "c": 3}

    assert user_props(rm.get_twin(did).properties.desired) == {"cfg": {"a": 1, "c": 3}}
    got = bounded(c.get_twin, timeout=20, what="get_twin")
    assert got["desired"]["$version"] == 3
    assert user_props(got["desired"]) == {"cfg": {"a": 1, "c": 3}}


def test_rapid_desired_patches_arrive_in_version_order(module_hub, registry_manager, device,
                                                       client_factory):
    did, cs = device
    rm = registry_manager(module_hub)
    c = client_factory(cs)
    patches = Inbox()
    set_handler(c, "on_twin_desired_properties_patch_received", patches.put)
    for i in range(10):
        rm.update_twin(did, desired_patch({"step": i}))
    got = patches.wait_count(10, timeout=15)
    assert [p["$version"] for p in got] == list(range(2, 12))
    assert [p["step"] for p in got] == list(range(10))


def test_tags_merge_and_do_not_touch_desired(module_hub, registry_manager, device):
    did, _ = device
    rm = registry_manager(module_hub)
    t0 = rm.get_twin(did)
    t = rm.update_twin(did, desired_patch(tags={"site": "north", "loc": {"floor": 2}}))
    assert t.tags == {"site": "north", "loc": {"floor": 2}}
    assert t.properties.desired["$version"] == t0.properties.desired["$version"], \
        "a tags-only patch does not change desired $version"
    assert t.etag != t0.etag, "a tags patch changes the etag"
    t = rm.update_twin(did, desired_patch(tags={"site": None, "loc": {"room": "b"}}))
    assert t.tags == {"loc": {"floor": 2, "room": "b"}}
    assert rm.get_twin(did).tags == {"loc": {"floor": 2, "room": "b"}}


def test_replace_twin_replaces_tags_and_desired_not_reported(module_hub, registry_manager,
                                                             device, client_factory):
    did, cs = device
    rm = registry_manager(module_hub)
    c = client_factory(cs)
    bounded(c.connect, timeout=30, what="connect")
    bounded(c.patch_twin_reported_properties, {"kept": True}, timeout=20, what="report")

    t = rm.update_twin(did, desired_patch({"a": 1, "b": 2}, tags={"x": 1, "y": 2}))
    v = t.properties.desired["$version"]
    t = rm.replace_twin(did, desired_patch({"c": 3}, tags={"z": 3}), t.etag)
    assert t.tags == {"z": 3}
    assert user_props(t.properties.desired) == {"c": 3}
    assert t.properties.desired["$version"] == v + 1
    got = rm.get_twin(did)
    assert got.tags == {"z": 3}
    assert user_props(got.properties.desired) == {"c": 3}
    assert user_props(got.properties.reported) == {"kept": True}, "reported is untouched"
    assert got.properties.reported["$version"] == 2

    dev = bounded(c.get_twin, timeout=20, what="get_twin")
    assert user_props(dev["desired"]) == {"c": 3}
    assert dev["desired"]["$version"] == v + 1


def test_stale_etag_is_412(module_hub, registry_manager, device):
    did, _ = device
    rm = registry_manager(module_hub)
    t0 = rm.get_twin(did)
    t1 = rm.update_twin(did, desired_patch({"a": 1}), t0.etag)
    assert t1.etag and t1.etag != t0.etag

    with pytest.raises(HttpOperationError) as ei:
        rm.update_twin(did, desired_patch({"a": 2}), t0.etag)
    assert_hub_error(ei, 412, 412001, "PreconditionFailed")
    with pytest.raises(HttpOperationError) as ei:
        rm.replace_twin(did, desired_patch({"a": 3}), t0.etag)
    assert_hub_error(ei, 412, 412001, "PreconditionFailed")

    now = rm.get_twin(did)
    assert user_props(now.properties.desired) == {"a": 1}, "a refused patch changes nothing"
    assert now.properties.desired["$version"] == 2
    assert now.etag == t1.etag

    # The current etag (with or without quotes) and "*" are accepted.
    t2 = rm.update_twin(did, desired_patch({"a": 4}), t1.etag)
    quoted = t2.etag if t2.etag.startswith('"') else f'"{t2.etag}"'
    t3 = rm.update_twin(did, desired_patch({"a": 5}), quoted)
    t4 = rm.update_twin(did, desired_patch({"a": 6}), "*")
    assert t4.properties.desired["$version"] == 5 and t4.properties.desired["a"] == 6
    assert len({t1.etag, t2.etag, t3.etag, t4.etag}) == 4


def test_unknown_device_twin_is_404(module_hub, registry_manager):
    rm = registry_manager(module_hub)
    nosuch = unique("nosuch")
    with pytest.raises(HttpOperationError) as ei:
        rm.get_twin(nosuch)
    assert_hub_error(ei, 404, 404001, "DeviceNotFound")
    with pytest.raises(HttpOperationError) as ei:
        rm.update_twin(nosuch, desired_patch({"a": 1}))
    assert_hub_error(ei, 404, 404001, "DeviceNotFound")


def test_service_limits_are_400(module_hub, registry_manager, device):
    did, _ = device
    rm = registry_manager(module_hub)
    with pytest.raises(HttpOperationError) as ei:
        rm.update_twin(did, desired_patch({"big": "x" * (33 * 1024)}))
    assert_hub_error(ei, 400, 400004, "ArgumentInvalid")

    deep: dict = {"leaf": 1}
    for i in range(15):
        deep = {f"l{i}": deep}
    with pytest.raises(HttpOperationError) as ei:
        rm.update_twin(did, desired_patch(deep))
    assert_hub_error(ei, 400, 400004, "ArgumentInvalid")

    t = rm.get_twin(did)
    assert t.properties.desired["$version"] == 1 and user_props(t.properties.desired) == {}


# ---- wire level and unhappy device paths ---------------------------------------------------


def test_reported_patch_answers_on_the_wire(module_hub, device):
    did, cs = device
    p = twin_paho(module_hub, cs)
    try:
        assert p.patch_reported({"n": 1}) == (204, 2)
        assert p.patch_reported({"n": 2}) == (204, 3)
        status, twin = p.get_twin()
        assert status == 200
        assert twin["reported"]["$version"] == 3 and twin["reported"]["n"] == 2
        assert twin["desired"]["$version"] == 1
        assert set(twin) == {"desired", "reported"}, "a twin GET answers desired and reported"
    finally:
        p.close()


def test_invalid_reported_json_is_400(module_hub, registry_manager, device):
    did, cs = device
    p = twin_paho(module_hub, cs)
    try:
        status, version = p.patch_reported(b'{"n": 1,')
        assert status == 400
        status, _ = p.patch_reported(b'[1, 2]')
        assert status == 400, "a reported patch must be a JSON object"
        # The connection is still usable.
        assert p.patch_reported({"ok": True}) == (204, 2)
    finally:
        p.close()
    rep = registry_manager(module_hub).get_twin(did).properties.reported
    assert user_props(rep) == {"ok": True} and rep["$version"] == 2


def test_reported_patch_over_32_kib_is_refused(module_hub, registry_manager, device,
                                               client_factory):
    did, cs = device
    p = twin_paho(module_hub, cs)
    try:
        status, _ = p.patch_reported({"big": "x" * (33 * 1024)})
        assert status == 400
    finally:
        p.close()

    c = client_factory(cs)
    bounded(c.connect, timeout=30, what="connect")
    with pytest.raises(device_exceptions.ClientError) as ei:
        bounded(c.patch_twin_reported_properties, {"big": "y" * (33 * 1024)}, timeout=20,
                what="patch_twin_reported_properties")
    assert "400" in str(ei.value.__cause__), f"the SDK surfaces the 400: {ei.value.__cause__!r}"
    rep = registry_manager(module_hub).get_twin(did).properties.reported
    assert rep["$version"] == 1 and user_props(rep) == {}


# ---- connection state and reconnects -------------------------------------------------------


def test_connection_state_follows_the_client(module_hub, registry_manager, device,
                                             client_factory):
    did, cs = device
    rm = registry_manager(module_hub)
    assert rm.get_device(did).connection_state == "Disconnected"
    c = client_factory(cs)
    bounded(c.connect, timeout=30, what="connect")
    assert wait_for(lambda: rm.get_device(did).connection_state == "Connected", timeout=10), \
        rm.get_device(did).connection_state
    assert rm.get_twin(did).connection_state == "Connected"

    bounded(c.disconnect, timeout=20, what="disconnect")
    assert wait_for(lambda: rm.get_device(did).connection_state == "Disconnected",
                    timeout=10), rm.get_device(did).connection_state
    assert rm.get_twin(did).connection_state == "Disconnected"


def test_reconnected_device_catches_up_and_keeps_subscription(module_hub, registry_manager,
                                                              device, client_factory):
    did, cs = device
    rm = registry_manager(module_hub)
    c = client_factory(cs)
    patches = Inbox()
    set_handler(c, "on_twin_desired_properties_patch_received", patches.put)
    rm.update_twin(did, desired_patch({"v": 1}))
    assert patches.wait_for(lambda p: p.get("$version") == 2, timeout=10), patches.items

    bounded(c.disconnect, timeout=20, what="disconnect")
    assert wait_for(lambda: rm.get_device(did).connection_state == "Disconnected", timeout=10)
    rm.update_twin(did, desired_patch({"v": 7}))  # made while the device is away

    bounded(c.connect, timeout=30, what="reconnect")
    got = bounded(c.get_twin, timeout=20, what="get_twin")
    assert got["desired"]["$version"] == 3
    assert got["desired"]["v"] == 7

    # The SDK does not subscribe again after a reconnect (clean_session=False): the hub kept
    # the session's subscription, so a new patch still arrives.
    rm.update_twin(did, desired_patch({"v": 8}))
    p = patches.wait_for(lambda p: p.get("$version") == 4, timeout=10)
    assert p is not None, f"no patch after the reconnect: {patches.items}"
    assert p["v"] == 8


# ---- module twins --------------------------------------------------------------------------


def test_module_twin(module_hub, registry_manager, device, client_factory):
    did, dcs = device
    mid = "twinmod"
    mcs = module_hub.create_module(did, mid)
    rm = registry_manager(module_hub)

    t = rm.get_module_twin(did, mid)
    assert (t.device_id, t.module_id) == (did, mid)
    assert t.properties.desired["$version"] == 1 and t.properties.reported["$version"] == 1

    m = client_factory(mcs, module=True)
    patches = Inbox()
    set_handler(m, "on_twin_desired_properties_patch_received", patches.put)
    bounded(m.patch_twin_reported_properties, {"mod": "up"}, timeout=20, what="module report")
    t = rm.get_module_twin(did, mid)
    assert user_props(t.properties.reported) == {"mod": "up"}
    assert t.properties.reported["$version"] == 2

    t = rm.update_module_twin(did, mid, desired_patch({"rate": 5}, tags={"role": "m"}), t.etag)
    assert t.properties.desired["$version"] == 2 and t.tags == {"role": "m"}
    p = patches.wait_for(lambda p: p.get("$version") == 2, timeout=10)
    assert p is not None and p["rate"] == 5, patches.items

    with pytest.raises(HttpOperationError) as ei:
        rm.update_module_twin(did, mid, desired_patch({"rate": 6}), "\"stale-etag\"")
    assert_hub_error(ei, 412, 412001, "PreconditionFailed")

    t = rm.replace_module_twin(did, mid, desired_patch({"only": 1}, tags={}))
    assert user_props(t.properties.desired) == {"only": 1}
    assert not t.tags
    assert user_props(t.properties.reported) == {"mod": "up"}

    got = bounded(m.get_twin, timeout=20, what="module get_twin")
    assert user_props(got["desired"]) == {"only": 1}

    # The device twin is a separate document.
    dt = rm.get_twin(did)
    assert user_props(dt.properties.desired) == {} and user_props(dt.properties.reported) == {}

    with pytest.raises(HttpOperationError) as ei:
        rm.get_module_twin(did, "nosuchmodule")
    assert ei.value.response.status_code == 404


# ---- CLI -----------------------------------------------------------------------------------


def test_cli_twin_show_and_update(module_hub, registry_manager, device):
    did, _ = device
    rm = registry_manager(module_hub)

    cp = module_hub.cli("twin", "show", did, "--json")
    assert cp.returncode == 0, cp.stderr
    shown = json.loads(cp.stdout)
    assert shown["deviceId"] == did
    assert shown["etag"] == rm.get_twin(did).etag
    assert shown["properties"]["desired"]["$version"] == 1
    assert shown["properties"]["reported"]["$version"] == 1

    cp = module_hub.cli("twin", "show", did)
    assert cp.returncode == 0, cp.stderr
    assert shown["etag"] in cp.stdout, "the human view shows the etag"
    for word in ("desired", "reported"):
        assert word in cp.stdout.lower()

    cp = module_hub.cli("twin", "update", did, "--desired", '{"mode": "eco", "n": {"a": 1}}',
                        "--tags", '{"site": "s1"}', "--json")
    assert cp.returncode == 0, cp.stderr
    out = json.loads(cp.stdout)
    assert out["properties"]["desired"]["mode"] == "eco"
    assert out["properties"]["desired"]["$version"] == 2
    assert out["tags"] == {"site": "s1"}
    t = rm.get_twin(did)
    assert user_props(t.properties.desired) == {"mode": "eco", "n": {"a": 1}}
    assert t.tags == {"site": "s1"}

    # Without --json it prints the new version.
    cp = module_hub.cli("twin", "update", did, "--desired", '{"mode": null}')
    assert cp.returncode == 0, cp.stderr
    assert "3" in cp.stdout
    assert user_props(rm.get_twin(did).properties.desired) == {"n": {"a": 1}}

    # --etag: the current one works, a stale one is refused with the hub's reason.
    etag = rm.get_twin(did).etag
    cp = module_hub.cli("twin", "update", did, "--desired", '{"e": 1}', "--etag", etag)
    assert cp.returncode == 0, cp.stderr
    cp = module_hub.cli("twin", "update", did, "--desired", '{"e": 2}', "--etag", etag)
    cli_failed_with(cp, "412001", "PreconditionFailed")
    assert rm.get_twin(did).properties.desired["e"] == 1

    # --replace: tags and desired become exactly what is given.
    cp = module_hub.cli("twin", "update", did, "--replace", "--desired", '{"only": true}',
                        "--tags", '{}', "--json")
    assert cp.returncode == 0, cp.stderr
    t = rm.get_twin(did)
    assert user_props(t.properties.desired) == {"only": True}
    assert not t.tags


def test_cli_twin_errors(module_hub, registry_manager, device):
    did, _ = device
    rm = registry_manager(module_hub)
    cp = module_hub.cli("twin", "update", did, "--desired", "{not json")
    cli_failed_with(cp, "--desired")
    cp = module_hub.cli("twin", "update", did, "--tags", "[1,")
    cli_failed_with(cp, "--tags")
    assert rm.get_twin(did).properties.desired["$version"] == 1, "nothing was sent"

    nosuch = unique("nosuch")
    cli_failed_with(module_hub.cli("twin", "show", nosuch), "DeviceNotFound", "404001")
    cli_failed_with(module_hub.cli("twin", "update", nosuch, "--desired", '{"a": 1}'),
                    "DeviceNotFound", "404001")


def test_cli_module_twin(module_hub, registry_manager, device):
    did, _ = device
    module_hub.create_module(did, "clim")
    cp = module_hub.cli("twin", "update", did, "clim", "--desired", '{"m": 1}', "--json")
    assert cp.returncode == 0, cp.stderr
    cp = module_hub.cli("twin", "show", did, "clim", "--json")
    assert cp.returncode == 0, cp.stderr
    shown = json.loads(cp.stdout)
    assert (shown["deviceId"], shown["moduleId"]) == (did, "clim")
    assert shown["properties"]["desired"]["m"] == 1
    rm = registry_manager(module_hub)
    assert rm.get_module_twin(did, "clim").properties.desired["m"] == 1
    assert "m" not in rm.get_twin(did).properties.desired
