"""Direct methods: azure-iot-hub 2.7.0 `invoke_device_method` / `invoke_device_module_method`
against azure-iot-device 2.14.0 handlers (`on_method_request_received`), a silent paho device,
and `iothub method invoke`."""

from __future__ import annotations

import gc
import json
import threading
import time

import pytest
from azure.iot.device import MethodResponse
from azure.iot.hub.models import CloudToDeviceMethod
from msrest.exceptions import HttpOperationError

from devicekit import assert_hub_error, cli_failed_with, set_handler, twin_paho
from outpost import bounded, sdk_device_client, shutdown_quietly, unique


@pytest.fixture(scope="module", autouse=True)
def _release_http_connections(module_hub):
    """Collect garbage before the module's hub stops: msrest responses sit in reference cycles
    that keep their keep-alive sockets open, and the hub waits for open connections on stop."""
    yield
    gc.collect()


def echo_handler(client, status: int = 200, calls: list | None = None):
    """A handler that answers every request with `status` and
    {"method": name, "echo": payload}."""

    def handle(req):
        if calls is not None:
            calls.append((req.name, req.payload))
        client.send_method_response(MethodResponse.create_from_method_request(
            req, status, {"method": req.name, "echo": req.payload}))

    return handle


def method(name: str, payload=None, timeout: int = 10, connect_timeout: int | None = None
           ) -> CloudToDeviceMethod:
    return CloudToDeviceMethod(method_name=name, payload=payload,
                               response_timeout_in_seconds=timeout,
                               connect_timeout_in_seconds=connect_timeout)


@pytest.fixture
def clients():
    made = []
    yield made
    for c in made:
        shutdown_quietly(c)


def answering_device(hub, clients, status: int = 200, calls: list | None = None,
                     module: str | None = None):
    """(device id, connected SDK client whose handler echoes)."""
    did = unique("meth")
    cs = hub.create_device(did)
    if module:
        cs = hub.create_module(did, module)
    c = sdk_device_client(hub, cs, module=bool(module))
    clients.append(c)
    set_handler(c, "on_method_request_received", echo_handler(c, status, calls))
    return did, c


def test_round_trip_with_payload_and_status(module_hub, registry_manager, clients):
    rm = registry_manager(module_hub)
    calls: list = []
    did, _ = answering_device(module_hub, clients, status=200, calls=calls)

    payload = {"a": 1, "s": "text", "list": [1, 2, {"x": None}], "nested": {"b": True}}
    r = bounded(rm.invoke_device_method, did, method("reboot", payload), timeout=30,
                what="invoke_device_method")
    assert r.status == 200
    assert r.payload == {"method": "reboot", "echo": payload}
    assert calls == [("reboot", payload)]

    # Scalar payloads travel as JSON too.
    for p in ("just a string", 42, [1, "two"], True):
        r = bounded(rm.invoke_device_method, did, method("echo", p), timeout=30,
                    what="invoke_device_method")
        assert (r.status, r.payload) == (200, {"method": "echo", "echo": p})


def test_device_status_is_passed_through(module_hub, registry_manager, clients):
    """The device's own status (here 404 and 500) comes back in a 200 answer."""
    rm = registry_manager(module_hub)
    for status in (404, 500):
        did, c = answering_device(module_hub, clients, status=status)
        r = bounded(rm.invoke_device_method, did, method("fail", {"k": status}), timeout=30,
                    what="invoke_device_method")
        assert r.status == status
        assert r.payload == {"method": "fail", "echo": {"k": status}}


def test_offline_device_is_404103(module_hub, registry_manager):
    rm = registry_manager(module_hub)
    did = unique("offline")
    module_hub.create_device(did)
    started = time.monotonic()
    with pytest.raises(HttpOperationError) as ei:
        bounded(rm.invoke_device_method, did, method("any", {}, timeout=5), timeout=30,
                what="invoke_device_method")
    assert_hub_error(ei, 404, 404103, "DeviceNotOnline")
    assert time.monotonic() - started < 4, "with connectTimeout 0 an offline device fails at once"


def test_unknown_device_is_404001(module_hub, registry_manager):
    rm = registry_manager(module_hub)
    with pytest.raises(HttpOperationError) as ei:
        bounded(rm.invoke_device_method, unique("nosuch"), method("any", {}, timeout=5),
                timeout=30, what="invoke_device_method")
    assert_hub_error(ei, 404, 404001, "DeviceNotFound")


def test_connected_but_not_subscribed_is_404103(module_hub, registry_manager):
    """Connected without a `$iothub/methods/POST/#` subscription counts as not online."""
    rm = registry_manager(module_hub)
    did = unique("nosub")
    cs = module_hub.create_device(did)
    p = twin_paho(module_hub, cs, subscribe_twin=False)
    try:
        with pytest.raises(HttpOperationError) as ei:
            bounded(rm.invoke_device_method, did, method("any", {}, timeout=5), timeout=30,
                    what="invoke_device_method")
        assert_hub_error(ei, 404, 404103, "DeviceNotOnline")
    finally:
        p.close()


def test_silent_device_times_out_504101(module_hub, registry_manager):
    """A device subscribed to methods that never answers: 504101 after the response timeout.
    Its late answer is then ignored, and the next call is matched to its own answer."""
    rm = registry_manager(module_hub)
    did = unique("silent")
    cs = module_hub.create_device(did)
    p = twin_paho(module_hub, cs, subscribe_twin=False)
    try:
        assert p.subscribe("$iothub/methods/POST/#") == (1,)
        started = time.monotonic()
        with pytest.raises(HttpOperationError) as ei:
            bounded(rm.invoke_device_method, did, method("hang", {"q": 1}, timeout=5),
                    timeout=30, what="invoke_device_method")
        waited = time.monotonic() - started
        assert_hub_error(ei, 504, 504101, "GatewayTimeout")
        assert 4.5 <= waited <= 10, f"answered after {waited:.1f} s; the timeout was 5 s"

        # The request reached the device the way the SDK expects it.
        [(topic, payload)] = p.messages("$iothub/methods/POST/")
        assert topic.startswith("$iothub/methods/POST/hang/?$rid="), topic
        assert json.loads(payload) == {"q": 1}

        # A late answer is not a protocol error.
        rid = topic.split("$rid=")[1]
        info = p.publish(f"$iothub/methods/res/200/?$rid={rid}", b'{"late": true}')
        info.wait_for_publish(5)
        assert info.is_published()

        # Answer the next request in time, by hand.
        box: dict = {}

        def invoke():
            try:
                box["r"] = rm.invoke_device_method(did, method("quick", {"n": 2}, timeout=10))
            except BaseException as e:  # noqa: BLE001
                box["e"] = e

        t = threading.Thread(target=invoke, daemon=True)
        t.start()
        m = p.wait_message(lambda topic, _: topic.startswith("$iothub/methods/POST/quick/"),
                           timeout=10)
        assert m is not None, "the second request reached the device"
        rid2 = m[0].split("$rid=")[1]
        assert rid2 != rid, "request ids are not reused"
        p.publish(f"$iothub/methods/res/201/?$rid={rid2}", json.dumps({"done": 2}))
        t.join(15)
        assert not t.is_alive()
        assert "e" not in box, box.get("e")
        assert (box["r"].status, box["r"].payload) == (201, {"done": 2})
        assert not p.disconnected.is_set()
    finally:
        p.close()


def test_connect_timeout_waits_for_the_device(module_hub, registry_manager, clients):
    rm = registry_manager(module_hub)
    did = unique("latecomer")
    cs = module_hub.create_device(did)
    box: dict = {}

    def invoke():
        try:
            box["r"] = rm.invoke_device_method(
                did, method("hello", {"late": True}, timeout=10, connect_timeout=20))
        except BaseException as e:  # noqa: BLE001
            box["e"] = e

    t = threading.Thread(target=invoke, daemon=True)
    started = time.monotonic()
    t.start()
    time.sleep(2)
    assert t.is_alive(), f"the call ended before the device connected: {box}"
    c = sdk_device_client(module_hub, cs)
    clients.append(c)
    set_handler(c, "on_method_request_received", echo_handler(c, 200))
    t.join(30)
    assert not t.is_alive(), "invoke did not return"
    assert "e" not in box, box.get("e")
    assert box["r"].status == 200
    assert box["r"].payload == {"method": "hello", "echo": {"late": True}}
    assert time.monotonic() - started < 20


def test_connect_timeout_expires_is_404103(module_hub, registry_manager):
    rm = registry_manager(module_hub)
    did = unique("nocomer")
    module_hub.create_device(did)
    started = time.monotonic()
    with pytest.raises(HttpOperationError) as ei:
        bounded(rm.invoke_device_method, did, method("x", {}, timeout=5, connect_timeout=2),
                timeout=30, what="invoke_device_method")
    waited = time.monotonic() - started
    assert_hub_error(ei, 404, 404103, "DeviceNotOnline")
    assert 1.5 <= waited <= 8, f"answered after {waited:.1f} s; connectTimeout was 2 s"


def test_concurrent_invocations_are_matched(module_hub, registry_manager, clients):
    """Eight calls at once to one device: every answer goes back to its own caller."""
    did, _ = answering_device(module_hub, clients)
    rms = [registry_manager(module_hub) for _ in range(8)]
    results: dict[int, object] = {}

    def invoke(i: int):
        try:
            results[i] = rms[i].invoke_device_method(did, method(f"m{i}", {"i": i}))
        except BaseException as e:  # noqa: BLE001
            results[i] = e

    threads = [threading.Thread(target=invoke, args=(i,), daemon=True) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 8
    for i, r in results.items():
        assert not isinstance(r, BaseException), r
        assert (r.status, r.payload) == (200, {"method": f"m{i}", "echo": {"i": i}})


def test_module_method(module_hub, registry_manager, clients):
    rm = registry_manager(module_hub)
    did, _ = answering_device(module_hub, clients, status=202, module="mm")
    r = bounded(rm.invoke_device_module_method, did, "mm", method("mod", {"z": 1}), timeout=30,
                what="invoke_device_module_method")
    assert (r.status, r.payload) == (202, {"method": "mod", "echo": {"z": 1}})

    # The device itself is not the module: nobody answers methods for it.
    with pytest.raises(HttpOperationError) as ei:
        bounded(rm.invoke_device_method, did, method("mod", {}, timeout=5), timeout=30,
                what="invoke_device_method")
    assert_hub_error(ei, 404, 404103, "DeviceNotOnline")

    with pytest.raises(HttpOperationError) as ei:
        bounded(rm.invoke_device_module_method, did, "nosuchmod", method("mod", {}, timeout=5),
                timeout=30, what="invoke_device_module_method")
    assert ei.value.response.status_code == 404


def test_bad_requests_are_refused(module_hub, registry_manager, clients):
    rm = registry_manager(module_hub)
    calls: list = []
    did, _ = answering_device(module_hub, clients, calls=calls)
    for m in (method("x", {}, timeout=301), method("x", {}, timeout=3),
              method("x", {}, connect_timeout=301)):
        with pytest.raises(HttpOperationError) as ei:
            bounded(rm.invoke_device_method, did, m, timeout=30, what="invoke_device_method")
        assert_hub_error(ei, 400, 400004, "ArgumentInvalid")

    # A request payload over 128 KiB.
    with pytest.raises(HttpOperationError) as ei:
        bounded(rm.invoke_device_method, did, method("big", "x" * (129 * 1024)), timeout=30,
                what="invoke_device_method")
    assert ei.value.response.status_code in (400, 413), ei.value.response.text
    assert calls == [], "refused requests never reach the device"


# ---- CLI -----------------------------------------------------------------------------------


def test_cli_method_invoke(module_hub, clients):
    did, _ = answering_device(module_hub, clients, status=201)
    cp = module_hub.cli("method", "invoke", did, "ping", "--payload", '{"n": 1}', "--json")
    assert cp.returncode == 0, cp.stderr
    out = json.loads(cp.stdout)
    assert (out["status"], out["payload"]) == (201, {"method": "ping", "echo": {"n": 1}})

    cp = module_hub.cli("method", "invoke", did, "ping", "--payload", '{"n": 2}',
                        "--timeout", "10")
    assert cp.returncode == 0, cp.stderr
    assert "status: 201" in cp.stdout
    assert '"echo"' in cp.stdout

    # --payload is optional.
    cp = module_hub.cli("method", "invoke", did, "bare", "--json")
    assert cp.returncode == 0, cp.stderr
    assert json.loads(cp.stdout)["payload"]["method"] == "bare"


def test_cli_method_invoke_module(module_hub, clients):
    did, _ = answering_device(module_hub, clients, status=200, module="clim")
    cp = module_hub.cli("method", "invoke", did, "clim", "mping", "--payload", "[1, 2]",
                        "--json")
    assert cp.returncode == 0, cp.stderr
    out = json.loads(cp.stdout)
    assert (out["status"], out["payload"]) == (200, {"method": "mping", "echo": [1, 2]})


def test_cli_method_errors(module_hub):
    did = unique("climeth")
    cs = module_hub.create_device(did)
    cli_failed_with(module_hub.cli("method", "invoke", did, "x", "--timeout", "5"),
                    "404103", "DeviceNotOnline")
    cli_failed_with(module_hub.cli("method", "invoke", unique("nosuch"), "x", "--timeout", "5"),
                    "404001", "DeviceNotFound")
    cli_failed_with(module_hub.cli("method", "invoke", did, "x", "--payload", "{oops"),
                    "--payload")

    p = twin_paho(module_hub, cs, subscribe_twin=False)
    try:
        assert p.subscribe("$iothub/methods/POST/#") == (1,)
        cp = module_hub.cli("method", "invoke", did, "x", "--timeout", "5")
        cli_failed_with(cp, "504101", "GatewayTimeout")
    finally:
        p.close()
