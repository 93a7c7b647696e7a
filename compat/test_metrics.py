"""Metrics (issue 5): Azure's IoT Hub metric names through `GET /$outpost/metrics`,
`iothub metrics list|show` and Prometheus text on `http://<host>:<--metrics-port>/metrics`,
driven by real clients (paho, azure-iot-device, azure-iot-hub).

The module's hub is fresh and its tests run one after another, so the connected-device count is
what the running test connected; every test disconnects its devices."""

from __future__ import annotations

import gc
import time

import pytest
import requests
from azure.iot.device import Message, MethodResponse
from azure.iot.hub.models import CloudToDeviceMethod, Twin, TwinProperties
from msrest.exceptions import HttpOperationError

from devicekit import OutpostApi, cli_failed_with, cli_json, free_port, prometheus_samples, \
    running_hub, set_handler
from outpost import (PahoDevice, allocate_host, bounded, sdk_device_client, shutdown_quietly,
                     unique, wait_for)

METRIC_NAMES = [
    "connectedDeviceCount", "totalDeviceCount", "d2c.telemetry.ingress.allProtocol",
    "d2c.telemetry.ingress.success", "d2c.telemetry.ingress.failure", "d2c.twin.read.success",
    "d2c.twin.read.failure", "d2c.twin.update.success", "d2c.twin.update.failure",
    "c2d.twin.read.success", "c2d.twin.update.success", "c2d.twin.update.failure",
    "c2d.methods.success", "c2d.methods.failure", "c2d.commands.egress.complete.success",
    "c2d.commands.egress.expired", "twinQueries.success", "twinQueries.failure",
]


def prom_name(metric: str) -> str:
    """connectedDeviceCount -> iothub_connected_device_count; dots become underscores."""
    out = []
    for ch in metric:
        if ch.isupper():
            out.append("_" + ch.lower())
        elif ch == ".":
            out.append("_")
        else:
            out.append(ch)
    return "iothub_" + "".join(out).replace("__", "_")


@pytest.fixture(scope="module")
def mhub(tmp_path_factory):
    host = allocate_host()
    port = free_port(host)
    with running_hub(tmp_path_factory, "metrics", ("--metrics-port", str(port)), host=host) as h:
        h.metrics_port = port
        yield h
        gc.collect()


@pytest.fixture
def api(mhub):
    a = OutpostApi(mhub)
    yield a
    a.close()


@pytest.fixture
def clients():
    made: list = []
    yield made
    for c in made:
        if isinstance(c, PahoDevice):
            c.close()
        else:
            shutdown_quietly(c)


def prometheus(hub, port: int | None = None) -> tuple[str, dict[str, float]]:
    with requests.Session() as s:
        s.trust_env = False  # no proxy for a loopback address
        r = s.get(f"http://{hub.host}:{port or hub.metrics_port}/metrics", timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers.get("Content-Type", "").startswith("text/plain"), r.headers
    return r.text, prometheus_samples(r.text)


def prom_value(samples: dict[str, float], metric: str) -> float | None:
    """A counter may carry the `_total` suffix of the exposition format."""
    name = prom_name(metric)
    for key in (name, name + "_total"):
        if key in samples:
            return samples[key]
    return None


def wait_prom(hub, metric: str, want: float, timeout: float = 10.0) -> None:
    got = wait_for(lambda: prom_value(prometheus(hub)[1], metric) == want, timeout, 0.2)
    assert got, f"{prom_name(metric)} is {prom_value(prometheus(hub)[1], metric)}, want {want}"


def connect_paho(hub, made: list) -> PahoDevice:
    p = PahoDevice.from_connection_string(hub, hub.create_device(unique("m")))
    made.append(p)
    assert p.connect() == 0
    return p


def test_metrics_list(mhub, api):
    current = api.metrics()
    for name in METRIC_NAMES:
        assert name in current, f"{name} missing from GET /$outpost/metrics: {sorted(current)}"
        m = current[name]
        assert set(m) >= {"name", "unit", "description", "value"}, m
        assert m["description"], m
        assert isinstance(m["value"], (int, float)), m
    listed = cli_json(mhub, "metrics", "list")
    names = [m["name"] for m in listed] if isinstance(listed, list) else list(listed)
    assert set(METRIC_NAMES) <= set(names), names
    cp = mhub.cli("metrics", "list")
    assert cp.returncode == 0 and "connectedDeviceCount" in cp.stdout, cp.stderr


def test_connected_device_count(mhub, api, clients, registry_manager):
    # The module's tests leave no device connected.
    api.wait_metric("connectedDeviceCount", lambda v: v == 0)
    devices = [connect_paho(mhub, clients) for _ in range(3)]
    assert api.wait_metric("connectedDeviceCount", lambda v: v == 3) == 3
    wait_prom(mhub, "connectedDeviceCount", 3)
    text, _ = prometheus(mhub)
    assert f"# TYPE {prom_name('connectedDeviceCount')} gauge" in text, text[:2000]
    rm = registry_manager(mhub)
    assert rm.get_service_statistics().connected_device_count == 3

    shown = cli_json(mhub, "metrics", "show", "connectedDeviceCount", "--since", "10m")
    points = shown["points"] if isinstance(shown, dict) else shown
    assert points, shown
    assert max(p["maximum"] for p in points) == 3, points
    for p in points:
        assert set(p) >= {"time", "minimum", "maximum", "average", "total"}, p

    devices[0].close()
    devices[1].close()
    assert api.wait_metric("connectedDeviceCount", lambda v: v == 1) == 1
    wait_prom(mhub, "connectedDeviceCount", 1)
    devices[2].close()
    assert api.wait_metric("connectedDeviceCount", lambda v: v == 0) == 0

    r = api.get("metrics/connectedDeviceCount", params={"since": "10m", "interval": "1m"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["name"], body["interval"]) == ("connectedDeviceCount", "PT1M"), body
    assert max(p["maximum"] for p in body["points"]) == 3, body
    assert min(p["minimum"] for p in body["points"]) == 0, body


def test_total_device_count(mhub, api, registry_manager):
    rm = registry_manager(mhub)
    total = rm.get_device_registry_statistics().total_device_count
    # The registry count may be refreshed periodically rather than on every change.
    assert api.wait_metric("totalDeviceCount", lambda v: v == total, timeout=30) == total
    mhub.create_device(unique("extra"))
    assert api.wait_metric("totalDeviceCount", lambda v: v == total + 1, timeout=30) == total + 1
    wait_prom(mhub, "totalDeviceCount", total + 1)


def test_telemetry_ingress_counts(mhub, api, clients):
    before = {n: api.metric(n) for n in ("d2c.telemetry.ingress.success",
                                         "d2c.telemetry.ingress.allProtocol",
                                         "d2c.telemetry.ingress.failure")}
    c = sdk_device_client(mhub, mhub.create_device(unique("tele")))
    clients.append(c)
    bounded(c.connect, timeout=30, what="connect")
    sent = 7
    for i in range(sent):
        bounded(c.send_message, Message(f'{{"n": {i}}}'), timeout=20, what="send_message")
    p = connect_paho(mhub, clients)
    info = p.publish(f"devices/{p.device_id}/messages/events/", b"raw", qos=1)
    info.wait_for_publish(10)
    assert info.is_published()
    sent += 1

    success = api.wait_metric("d2c.telemetry.ingress.success",
                              lambda v: v >= before["d2c.telemetry.ingress.success"] + sent)
    time.sleep(1.0)
    assert api.metric("d2c.telemetry.ingress.success") == \
        before["d2c.telemetry.ingress.success"] + sent, "each message counts once"
    assert api.metric("d2c.telemetry.ingress.allProtocol") == \
        before["d2c.telemetry.ingress.allProtocol"] + sent
    assert api.metric("d2c.telemetry.ingress.failure") == before["d2c.telemetry.ingress.failure"]
    wait_prom(mhub, "d2c.telemetry.ingress.success", success)

    shown = cli_json(mhub, "metrics", "show", "d2c.telemetry.ingress.success", "--since", "10m")
    points = shown["points"] if isinstance(shown, dict) else shown
    assert sum(pt["total"] for pt in points) >= sent, points


def test_twin_and_method_counters(mhub, api, clients, registry_manager):
    rm = registry_manager(mhub)
    names = ("d2c.twin.read.success", "d2c.twin.update.success", "c2d.twin.read.success",
             "c2d.twin.update.success", "c2d.methods.success", "c2d.methods.failure",
             "twinQueries.success")
    before = {n: api.metric(n) for n in names}
    did = unique("counted")
    c = sdk_device_client(mhub, mhub.create_device(did))
    clients.append(c)

    def answer(req):
        c.send_method_response(MethodResponse.create_from_method_request(req, 200, {"ok": 1}))

    set_handler(c, "on_method_request_received", answer)
    bounded(c.get_twin, timeout=20, what="get_twin")
    bounded(c.patch_twin_reported_properties, {"a": 1}, timeout=20, what="patch")
    bounded(c.patch_twin_reported_properties, {"a": 2}, timeout=20, what="patch")
    rm.get_twin(did)
    rm.update_twin(did, Twin(properties=TwinProperties(desired={"d": 1})))
    bounded(rm.invoke_device_method, did,
            CloudToDeviceMethod(method_name="m", payload={}, response_timeout_in_seconds=10),
            timeout=30, what="invoke")
    offline = unique("offline")
    mhub.create_device(offline)
    with pytest.raises(HttpOperationError):
        bounded(rm.invoke_device_method, offline,
                CloudToDeviceMethod(method_name="m", payload={}, response_timeout_in_seconds=5),
                timeout=30, what="invoke offline")
    mhub.cli("query", "SELECT * FROM devices", check=True)

    want = {"d2c.twin.read.success": 1, "d2c.twin.update.success": 2,
            "c2d.twin.read.success": 1, "c2d.twin.update.success": 1,
            "c2d.methods.success": 1, "c2d.methods.failure": 1, "twinQueries.success": 1}
    for n, delta in want.items():
        assert api.wait_metric(n, lambda v, n=n, d=delta: v >= before[n] + d) == \
            before[n] + delta, n


def test_metrics_show_table_and_unknown_metric(mhub):
    cp = mhub.cli("metrics", "show", "connectedDeviceCount", "--since", "10m", "--interval", "1m")
    assert cp.returncode == 0, cp.stderr
    header = cp.stdout.splitlines()[0]
    for col in ("TIME", "MIN", "MAX", "AVG", "TOTAL"):
        assert col in header, cp.stdout
    assert "\x1b[" not in cp.stdout
    cli_failed_with(mhub.cli("metrics", "show", "noSuchMetric"), "noSuchMetric", "metric")
    cli_failed_with(mhub.cli("metrics", "show", "connectedDeviceCount", "--since", "soon"),
                    "--since", "duration")


def test_metrics_port_default_and_disabled(hub_factory):
    """Default port 9464 on the hub's address; 0 disables the Prometheus listener."""
    default = hub_factory("promdefault")
    text, samples = prometheus(default, 9464)
    assert prom_value(samples, "connectedDeviceCount") == 0, text[:2000]

    off = hub_factory("promoff", extra_args=("--metrics-port", "0"))
    with pytest.raises(requests.ConnectionError):
        with requests.Session() as s:
            s.trust_env = False
            s.get(f"http://{off.host}:9464/metrics", timeout=5)
    # The REST metrics still work.
    api = OutpostApi(off)
    try:
        assert api.metric("connectedDeviceCount") == 0
    finally:
        api.close()
