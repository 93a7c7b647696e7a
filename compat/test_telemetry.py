"""Device-to-cloud telemetry from azure-iot-device 2.14.0 (MQTT and MQTT over WebSocket),
read back with `iothub monitor-events --output json`."""

from __future__ import annotations

import base64
import json
from datetime import datetime

import pytest
from azure.iot.device import Message

from outpost import bounded, sdk_device_client, shutdown_quietly, unique

N = 200
# Property values that exercise the property-bag encoding ("$" -> %24, "/" "&" "=" " " quoted).
ODD_VALUE = "a b&c=d/e?f%g ü"


def make_message(i: int, tag: str) -> Message:
    m = Message(json.dumps({"i": i, "tag": tag}),
                message_id=f"{tag}-{i}", content_encoding="utf-8",
                content_type="application/json")
    m.correlation_id = f"corr-{i}"
    m.custom_properties = {"seq": str(i), "tag": tag, "odd": ODD_VALUE}
    return m


def send_all(client, messages, per_message_timeout: float = 15.0) -> None:
    bounded(client.connect, timeout=30, what="connect")
    for m in messages:
        bounded(client.send_message, m, timeout=per_message_timeout,
                what=f"send_message({m.message_id})")


def parse_time(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def check_event(ev: dict, i: int, tag: str, device_id: str, module_id: str | None) -> None:
    assert ev["deviceId"] == device_id
    assert ev.get("moduleId") == module_id
    assert ev["body"] == json.dumps({"i": i, "tag": tag})
    assert ev.get("bodyEncoding") in (None, "utf-8", "utf8")
    assert ev["properties"] == {"seq": str(i), "tag": tag, "odd": ODD_VALUE}, \
        "application properties only, decoded, system keys ($.mid ...) not among them"
    sp = ev["systemProperties"]
    assert sp["message-id"] == f"{tag}-{i}"
    assert sp["correlation-id"] == f"corr-{i}"
    assert sp["content-type"] == "application/json"
    assert sp["content-encoding"] == "utf-8"
    assert sp["iothub-connection-device-id"] == device_id
    if module_id:
        assert sp["iothub-connection-module-id"] == module_id
    else:
        assert sp.get("iothub-connection-module-id") in (None, "")
    assert sp["iothub-message-source"] == "Telemetry"
    assert isinstance(ev["sequenceNumber"], int) and ev["sequenceNumber"] >= 1
    parse_time(ev["enqueuedTime"])
    parse_time(sp["iothub-enqueuedtime"])


@pytest.mark.parametrize("transport", ["mqtt", "websockets"])
def test_200_messages_round_trip(hub, transport):
    did = unique("tel")
    cs = hub.create_device(did)
    client = sdk_device_client(hub, cs, websockets=(transport == "websockets"))
    try:
        send_all(client, [make_message(i, transport) for i in range(N)])
    finally:
        shutdown_quietly(client)

    events = hub.monitor(device=did, group=unique("cg"), from_sequence=1, count=N, timeout=10)
    assert len(events) == N, f"expected {N} events, got {len(events)}"
    for i, ev in enumerate(events):
        check_event(ev, i, transport, did, None)
    seqs = [ev["sequenceNumber"] for ev in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == N, "sequence numbers strictly increase"
    times = [parse_time(ev["enqueuedTime"]) for ev in events]
    assert times == sorted(times), "enqueued times do not go backwards"


def test_module_identity_sends(hub):
    did, mid = unique("moddev"), "sensor"
    hub.create_device(did)
    cs = hub.create_module(did, mid)
    client = sdk_device_client(hub, cs, module=True)
    try:
        send_all(client, [make_message(i, "module") for i in range(5)])
    finally:
        shutdown_quietly(client)
    events = hub.monitor(device=did, group=unique("cg"), from_sequence=1, count=5, timeout=10)
    assert len(events) == 5
    for i, ev in enumerate(events):
        check_event(ev, i, "module", did, mid)


def test_device_and_module_streams_are_distinguished(hub):
    did = unique("mix")
    dcs = hub.create_device(did)
    mcs = hub.create_module(did, "m1")
    dev = sdk_device_client(hub, dcs)
    mod = sdk_device_client(hub, mcs, module=True)
    try:
        send_all(dev, [make_message(0, "dev")])
        send_all(mod, [make_message(1, "mod")])
    finally:
        shutdown_quietly(dev)
        shutdown_quietly(mod)
    events = hub.monitor(device=did, group=unique("cg"), from_sequence=1, count=2, timeout=10)
    assert [(e["deviceId"], e["moduleId"]) for e in events] == [(did, None), (did, "m1")]


def test_binary_body_is_base64(hub):
    did = unique("bin")
    cs = hub.create_device(did)
    payload = bytes([0xff, 0xfe, 0x00, 0x80, 0x41])
    client = sdk_device_client(hub, cs)
    try:
        send_all(client, [Message(payload, message_id="bin-0")])
    finally:
        shutdown_quietly(client)
    [ev] = hub.monitor(device=did, group=unique("cg"), from_sequence=1, count=1, timeout=10)
    assert ev["bodyEncoding"] == "base64"
    assert base64.b64decode(ev["body"]) == payload
    assert ev["systemProperties"]["message-id"] == "bin-0"


def test_device_filter(hub):
    a, b = unique("fa"), unique("fb")
    ca, cb = hub.create_device(a), hub.create_device(b)
    for did, cs in ((a, ca), (b, cb)):
        c = sdk_device_client(hub, cs)
        try:
            send_all(c, [make_message(i, did) for i in range(3)])
        finally:
            shutdown_quietly(c)
    only_b = hub.monitor(device=b, group=unique("cg"), from_sequence=1, count=3, timeout=5)
    assert [e["deviceId"] for e in only_b] == [b] * 3
    both = hub.monitor(group=unique("cg"), from_sequence=1, count=6, timeout=5)
    assert sorted(e["deviceId"] for e in both) == sorted([a] * 3 + [b] * 3)


def test_consumer_group_resumes(hub):
    did = unique("cg")
    cs = hub.create_device(did)
    client = sdk_device_client(hub, cs)
    try:
        send_all(client, [make_message(i, "cg") for i in range(100)])
    finally:
        shutdown_quietly(client)

    ids = lambda evs: [e["systemProperties"]["message-id"] for e in evs]  # noqa: E731

    # A new consumer group starts at the first retained message, and the hub remembers
    # where a reader stopped.
    first = hub.monitor(group="compat-a", count=50, timeout=10)
    assert ids(first) == [f"cg-{i}" for i in range(50)]
    second = hub.monitor(group="compat-a", count=50, timeout=10)
    assert ids(second) == [f"cg-{i}" for i in range(50, 100)], "resumes at the 51st message"
    assert second[0]["sequenceNumber"] > first[-1]["sequenceNumber"]

    # Another group has its own position.
    other = hub.monitor(group="compat-b", count=10, timeout=10)
    assert ids(other) == [f"cg-{i}" for i in range(10)]

    # Nothing left for compat-a: it times out with no output and exit 0.
    assert hub.monitor(group="compat-a", timeout=2) == []

    # --from-sequence overrides the stored position.
    start = first[10]["sequenceNumber"]
    again = hub.monitor(group="compat-a", from_sequence=start, count=1, timeout=10)
    assert ids(again) == ["cg-10"]


def test_default_consumer_group_resumes(hub):
    did = unique("dflt")
    cs = hub.create_device(did)
    client = sdk_device_client(hub, cs)
    try:
        send_all(client, [make_message(i, "d") for i in range(20)])
    finally:
        shutdown_quietly(client)
    first = hub.monitor(count=10, timeout=10)
    second = hub.monitor(count=10, timeout=10)
    assert [e["systemProperties"]["message-id"] for e in first + second] == \
        [f"d-{i}" for i in range(20)]


def test_messages_sent_while_monitoring_arrive(hub):
    """monitor-events started before the device sends sees the messages live."""
    import subprocess
    import outpost

    did = unique("live")
    cs = hub.create_device(did)
    proc = subprocess.Popen(
        [str(outpost.IOTHUB), "monitor-events", "--output", "json", "--device", did,
         "--consumer-group", unique("live"), "--count", "5", "--timeout", "30",
         "--data-dir", str(hub.data_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        client = sdk_device_client(hub, cs)
        try:
            send_all(client, [make_message(i, "live") for i in range(5)])
        finally:
            shutdown_quietly(client)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    events = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert [e["systemProperties"]["message-id"] for e in events] == \
        [f"live-{i}" for i in range(5)]
