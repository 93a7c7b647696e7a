"""Cloud-to-device messages: queued with `iothub c2d send` (or Outpost's REST endpoint
`POST /$outpost/devices/{d}/messages/devicebound`; IoT Hub's own AMQP path, `send_c2d_message`,
is not supported) and received by azure-iot-device 2.14.0 (`on_message_received`,
`receive_message`), or by a raw MQTT client that withholds its PUBACK."""

from __future__ import annotations

import gc
import json
import time

import pytest
import requests

import sas
from devicekit import Inbox, RawMqtt, cli_failed_with, set_handler
from outpost import bounded, sdk_device_client, shutdown_quietly, unique, wait_for


@pytest.fixture(scope="module", autouse=True)
def _release_http_connections(module_hub):
    """Collect garbage before the module's hub stops: msrest responses sit in reference cycles
    that keep their keep-alive sockets open, and the hub waits for open connections on stop."""
    yield
    gc.collect()

API = "api-version=2021-04-12"
ODD = "a b&c/d?e%f ü"  # survives the property bag's percent-encoding


@pytest.fixture
def clients():
    made = []
    yield made
    for c in made:
        shutdown_quietly(c)


@pytest.fixture
def rest(module_hub):
    """post(device_id, body, headers) -> requests.Response, on Outpost's C2D endpoint."""
    session = requests.Session()
    p = sas.parse_connection_string(module_hub.service_cs)
    token = sas.generate_sas_token(p["HostName"], p["SharedAccessKey"],
                                   policy_name=p["SharedAccessKeyName"])
    session.headers["Authorization"] = token
    # Per request: a session's verify loses to REQUESTS_CA_BUNDLE, which other tests point at
    # their own hub's CA.
    ca = str(module_hub.ca_path)

    def url(did: str) -> str:
        return f"https://{module_hub.host}/$outpost/devices/{did}/messages/devicebound?{API}"

    class Rest:
        @staticmethod
        def post(did: str, body: bytes | str, headers: dict | None = None) -> requests.Response:
            return session.post(url(did), data=body, headers=headers or {}, timeout=10, verify=ca)

        @staticmethod
        def get(did: str) -> requests.Response:
            return session.get(url(did), timeout=10, verify=ca)

    yield Rest
    session.close()


def send(hub, did: str, *args: str) -> dict:
    """`iothub c2d send DID ARGS --json` -> its JSON output."""
    cp = hub.cli("c2d", "send", did, *args, "--json")
    assert cp.returncode == 0, cp.stderr
    return json.loads(cp.stdout)


def receiving_client(hub, cs: str, clients: list, inbox: Inbox):
    c = sdk_device_client(hub, cs)
    clients.append(c)
    set_handler(c, "on_message_received", inbox.put)
    return c


def pending(rm, did: str) -> int:
    return rm.get_device(did).cloud_to_device_message_count


def test_offline_message_arrives_with_properties(module_hub, registry_manager, clients):
    rm = registry_manager(module_hub)
    did = unique("c2d")
    cs = module_hub.create_device(did)
    out = send(module_hub, did, "--payload", "hello device", "--property", "color=blue",
               "--property", f"odd={ODD}", "--message-id", "mid-1", "--correlation-id",
               "cid-1", "--content-type", "text/plain", "--content-encoding", "utf-8",
               "--ack", "full")
    assert out["messageId"] == "mid-1"
    assert out["queueDepth"] == 1
    assert pending(rm, did) == 1

    inbox = Inbox()
    receiving_client(module_hub, cs, clients, inbox)
    [m] = inbox.wait_count(1, timeout=15)
    assert m.data == b"hello device"
    assert m.custom_properties == {"color": "blue", "odd": ODD}
    assert m.message_id == "mid-1"
    assert m.correlation_id == "cid-1"
    assert m.content_type == "text/plain"
    assert m.content_encoding == "utf-8"
    assert m.ack == "full"
    assert wait_for(lambda: pending(rm, did) == 0, timeout=10), \
        "an acknowledged message leaves the queue"


def test_receive_message_api(module_hub, clients):
    """The older pull API, `receive_message(timeout=...)`."""
    did = unique("c2dpull")
    cs = module_hub.create_device(did)
    out = send(module_hub, did, "--payload", "pulled")
    assert out["messageId"], "a message id is generated when none is given"
    c = sdk_device_client(module_hub, cs)
    clients.append(c)
    bounded(c.connect, timeout=30, what="connect")
    m = bounded(lambda: c.receive_message(timeout=10), timeout=20, what="receive_message")
    assert m is not None, "no message within 10 s"
    assert m.data == b"pulled"
    assert m.message_id == out["messageId"]


def test_several_messages_arrive_in_order(module_hub, clients):
    did = unique("c2dord")
    cs = module_hub.create_device(did)
    for i in range(5):
        assert send(module_hub, did, "--payload", f"m{i}", "--message-id",
                    f"ord-{i}")["queueDepth"] == i + 1
    inbox = Inbox()
    receiving_client(module_hub, cs, clients, inbox)
    got = inbox.wait_count(5, timeout=15)
    assert [m.message_id for m in got] == [f"ord-{i}" for i in range(5)]
    assert [m.data for m in got] == [f"m{i}".encode() for i in range(5)]


def test_live_delivery_to_a_connected_device(module_hub, clients):
    did = unique("c2dlive")
    cs = module_hub.create_device(did)
    inbox = Inbox()
    receiving_client(module_hub, cs, clients, inbox)
    started = time.monotonic()
    send(module_hub, did, "--payload", "now", "--message-id", "live-1")
    m = inbox.wait_for(lambda m: m.message_id == "live-1", timeout=10)
    assert m is not None and m.data == b"now"
    assert time.monotonic() - started < 5


def test_expired_message_is_never_delivered(module_hub, registry_manager, clients):
    did = unique("c2dttl")
    cs = module_hub.create_device(did)
    send(module_hub, did, "--payload", "stale", "--message-id", "old", "--ttl", "1")
    time.sleep(2)
    send(module_hub, did, "--payload", "fresh", "--message-id", "new")
    inbox = Inbox()
    receiving_client(module_hub, cs, clients, inbox)
    # Delivery is in order, so once "new" is here "old" would have come first.
    assert inbox.wait_for(lambda m: m.message_id == "new", timeout=15) is not None
    time.sleep(0.5)
    assert [m.message_id for m in inbox.snapshot()] == ["new"]

    cp = module_hub.cli("c2d", "list", did, "--json")
    assert cp.returncode == 0, cp.stderr
    assert "old" not in [m["messageId"] for m in json.loads(cp.stdout)]


def test_unacknowledged_message_is_redelivered(module_hub, registry_manager, clients):
    rm = registry_manager(module_hub)
    did = unique("c2dack")
    cs = module_hub.create_device(did)
    send(module_hub, did, "--payload", "ack me", "--message-id", "unacked-1",
         "--property", "try=1")

    raw = RawMqtt(module_hub, cs)
    try:
        assert raw.connect() == 0
        assert raw.subscribe(f"devices/{did}/messages/devicebound/#") == 1
        first = raw.next_publish(timeout=10)
        assert first is not None, "the queued message is delivered on subscribe"
        assert first["qos"] == 1
        assert first["payload"] == b"ack me"
        assert first["topic"].startswith(f"devices/{did}/messages/devicebound/")
        assert "unacked-1" in first["topic"]
    finally:
        raw.close()  # dropped without PUBACK (and without DISCONNECT)

    cp = module_hub.cli("c2d", "list", did, "--json")
    assert cp.returncode == 0, cp.stderr
    [listed] = json.loads(cp.stdout)
    assert listed["messageId"] == "unacked-1"
    assert listed["deliveryCount"] >= 1
    assert pending(rm, did) == 1, "an unacknowledged message stays queued"

    inbox = Inbox()
    receiving_client(module_hub, cs, clients, inbox)
    m = inbox.wait_for(lambda m: m.message_id == "unacked-1", timeout=15)
    assert m is not None, "the SDK gets the message again after the reconnect"
    assert m.data == b"ack me" and m.custom_properties == {"try": "1"}
    assert wait_for(lambda: pending(rm, did) == 0, timeout=10)
    time.sleep(0.5)
    assert len(inbox.snapshot()) == 1, "delivered once to the SDK"


def test_acknowledged_message_is_not_redelivered(module_hub, registry_manager):
    rm = registry_manager(module_hub)
    did = unique("c2dacked")
    cs = module_hub.create_device(did)
    send(module_hub, did, "--payload", "once")
    raw = RawMqtt(module_hub, cs)
    try:
        assert raw.connect() == 0
        assert raw.subscribe(f"devices/{did}/messages/devicebound/#") == 1
        m = raw.next_publish(timeout=10)
        assert m is not None and m["payload"] == b"once"
        raw.puback(m["pid"])
        assert wait_for(lambda: pending(rm, did) == 0, timeout=10)
    finally:
        raw.disconnect()
    raw = RawMqtt(module_hub, cs)
    try:
        assert raw.connect() == 0
        assert raw.next_publish(timeout=1.5) is None, "nothing is delivered twice"
    finally:
        raw.disconnect()


def test_device_cannot_receive_another_devices_messages(module_hub, clients):
    a, b = unique("c2da"), unique("c2db")
    cs_a = module_hub.create_device(a)
    cs_b = module_hub.create_device(b)
    send(module_hub, a, "--payload", "for a only", "--message-id", "private")

    raw = RawMqtt(module_hub, cs_b)
    try:
        assert raw.connect() == 0
        # The hub may refuse the subscription (SUBACK 0x80) or close the connection (IoT Hub
        # does); either way nothing of a's may arrive.
        try:
            raw.subscribe(f"devices/{a}/messages/devicebound/#", timeout=5)
            raw.next_publish(timeout=1.5)
        except (ConnectionError, OSError, TimeoutError):
            pass
        leaked = list(raw.publishes)  # b has nothing queued: anything here is a's
    finally:
        raw.close()
    assert not leaked, f"device {b} received {a}'s message: {leaked}"

    inbox = Inbox()
    receiving_client(module_hub, cs_a, clients, inbox)
    m = inbox.wait_for(lambda m: m.message_id == "private", timeout=15)
    assert m is not None and m.data == b"for a only", "the owner still gets it"


def test_queue_depth_limit_count_list_and_purge(module_hub, registry_manager, rest):
    rm = registry_manager(module_hub)
    did = unique("c2dfull")
    module_hub.create_device(did)

    r = rest.post(did, b'{"n": 0}', {"iothub-messageid": "rest-0", "iothub-correlationid": "c0",
                                     "iothub-app-kind": "rest", "iothub-expiry": "600",
                                     "iothub-contenttype": "application/json"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["messageId"] == "rest-0" and body["queueDepth"] == 1 and body["expiryTime"]
    for i in range(1, 50):
        r = rest.post(did, f"m{i}")
        assert r.status_code == 200, (i, r.text)
        assert r.json()["queueDepth"] == i + 1
    assert pending(rm, did) == 50

    r = rest.post(did, b"one too many")
    assert r.status_code == 403, r.text
    assert "403004" in r.text or "DeviceMaximumQueueDepthExceeded" in r.text, r.text
    cp = module_hub.cli("c2d", "send", did, "--payload", "one too many")
    cli_failed_with(cp, "403004", "DeviceMaximumQueueDepthExceeded")
    assert pending(rm, did) == 50

    cp = module_hub.cli("c2d", "list", did, "--json")
    assert cp.returncode == 0, cp.stderr
    listed = json.loads(cp.stdout)
    assert len(listed) == 50
    first = listed[0]
    assert {"messageId", "enqueuedTime", "expiryTime", "deliveryCount", "properties",
            "size"} <= set(first)
    assert first["messageId"] == "rest-0"
    assert first["properties"].get("kind") == "rest"
    assert first["size"] == len(b'{"n": 0}')
    assert first["deliveryCount"] == 0
    r = rest.get(did)
    assert r.status_code == 200 and len(r.json()) == 50

    cp = module_hub.cli("c2d", "list", did)
    assert cp.returncode == 0, cp.stderr
    assert "rest-0" in cp.stdout

    cp = module_hub.cli("c2d", "purge", did, "--json")
    assert cp.returncode == 0, cp.stderr
    assert json.loads(cp.stdout)["totalMessagesPurged"] == 50
    assert pending(rm, did) == 0
    cp = module_hub.cli("c2d", "list", did, "--json")
    assert cp.returncode == 0 and json.loads(cp.stdout) == []
    assert send(module_hub, did, "--payload", "room again")["queueDepth"] == 1


def test_cli_c2d_payload_file_and_errors(module_hub, rest, tmp_path, clients):
    did = unique("c2dcli")
    cs = module_hub.create_device(did)
    f = tmp_path / "payload.bin"
    data = bytes(range(256))
    f.write_bytes(data)
    out = send(module_hub, did, "--payload-file", str(f), "--message-id", "file-1")
    assert out["messageId"] == "file-1"

    cp = module_hub.cli("c2d", "send", did, "--payload", "plain")
    assert cp.returncode == 0, cp.stderr
    assert "2" in cp.stdout, "the human output shows the queue depth"

    nosuch = unique("nosuch")
    for args in (("send", nosuch, "--payload", "x"), ("list", nosuch), ("purge", nosuch)):
        cli_failed_with(module_hub.cli("c2d", *args), "404001", "DeviceNotFound")
    r = rest.post(nosuch, b"x")
    assert r.status_code == 404 and "404001" in r.text

    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * (65 * 1024))
    cli_failed_with(module_hub.cli("c2d", "send", did, "--payload-file", str(big)),
                    "400004", "ArgumentInvalid", "64", "65536")
    assert rest.post(did, b"x" * (65 * 1024)).status_code == 400

    cp = module_hub.cli("c2d", "send", did, "--payload", "x", "--ack", "sometimes")
    assert cp.returncode != 0 and cp.stderr.strip()
    cp = module_hub.cli("c2d", "send", did, "--payload", "x", "--ttl", "172801")
    assert cp.returncode != 0 and cp.stderr.strip()

    # Only the two good messages are queued; the binary payload arrives intact.
    inbox = Inbox()
    receiving_client(module_hub, cs, clients, inbox)
    got = inbox.wait_count(2, timeout=15)
    assert [m.data for m in got] == [data, b"plain"]
