"""MQTT session rules with real clients: persistent sessions, keep-alive, takeover by a second
connection with the same client id, the 256 KiB limit, and telemetry retention."""
import json
import socket
import struct
import time

import outpost
import sas
from outpost import MQTT_PORT, PahoDevice, client_ssl_context, read_until_closed, unique, wait_for


def _connect_packet(client_id: str, username: str, password: str, keepalive: int) -> bytes:
    def s(x: str) -> bytes:
        b = x.encode()
        return struct.pack("!H", len(b)) + b
    body = s("MQTT") + bytes([4, 0xC0]) + struct.pack("!H", keepalive) + s(client_id) + s(username) + s(password)
    assert len(body) < 16384
    length = bytes([len(body) & 0x7F | 0x80, len(body) >> 7]) if len(body) > 127 else bytes([len(body)])
    return b"\x10" + length + body


def test_persistent_session_survives_reconnect_and_restart(hub):
    cs = hub.create_device(unique("sess"))
    did = sas.parse_connection_string(cs)["DeviceId"]
    first = PahoDevice.from_connection_string(hub, cs)
    try:
        assert first.connect() == 0
        result, mid = first.client.subscribe(f"devices/{did}/messages/devicebound/#", qos=1)
        assert result == 0
        assert wait_for(lambda: mid in first.suback, timeout=10)
        assert first.suback[mid] == (1,)
    finally:
        first.close()

    flags = {}

    def reconnect_session_present():
        p = PahoDevice.from_connection_string(hub, cs)

        def on_connect(client, userdata, f, rc):
            flags.update(f)
            p.connack_rc = rc
            p.connack.set()

        p.client.on_connect = on_connect
        try:
            assert p.connect() == 0
            return flags.get("session present")
        finally:
            p.close()

    assert reconnect_session_present() == 1, "clean_session=0 keeps the session"
    assert hub.stop() == 0
    hub.start()
    assert reconnect_session_present() == 1, "the session survives a hub restart"


def test_keepalive_enforced_at_one_and_a_half_times(hub):
    cs = hub.create_device(unique("ka"))
    p = sas.parse_connection_string(cs)
    token = sas.device_token_from_connection_string(cs)
    raw = socket.create_connection((hub.host, MQTT_PORT), timeout=10)
    tls = client_ssl_context(hub.ca_pem).wrap_socket(raw, server_hostname=hub.host)
    try:
        tls.sendall(_connect_packet(p["DeviceId"], sas.mqtt_username(hub.host, p["DeviceId"]), token, keepalive=2))
        assert tls.recv(4) == b"\x20\x02\x00\x00"
        started = time.monotonic()
        closed, _ = read_until_closed(tls, timeout=10)
        waited = time.monotonic() - started
        assert closed, "a silent client is disconnected"
        assert 2.5 <= waited <= 6, f"closed after {waited:.1f} s; keep-alive 2 s allows 3 s"
    finally:
        tls.close()


def test_second_connection_replaces_first(hub):
    cs = hub.create_device(unique("dup"))
    first = PahoDevice.from_connection_string(hub, cs)
    second = PahoDevice.from_connection_string(hub, cs)
    try:
        assert first.connect() == 0
        assert second.connect() == 0
        assert first.disconnected.wait(10), "the older connection is closed"
        assert not second.disconnected.is_set()
        did = sas.parse_connection_string(cs)["DeviceId"]
        info = second.publish(sas.telemetry_topic(did), b"from the newer connection", qos=1)
        assert wait_for(lambda: info.mid in second.acked(), timeout=10)
    finally:
        first.close()
        second.close()


def test_packet_over_256_kib_ends_connection_and_is_not_stored(hub):
    cs = hub.create_device(unique("big"))
    did = sas.parse_connection_string(cs)["DeviceId"]
    dev = PahoDevice.from_connection_string(hub, cs)
    try:
        assert dev.connect() == 0
        dev.publish(sas.telemetry_topic(did), b"x" * (300 * 1024), qos=1)
        assert dev.disconnected.wait(10)
    finally:
        dev.close()
    assert hub.monitor(device=did, group=unique("cg"), from_sequence=1, timeout=2) == []
    assert "exceeds the limit" in hub.log_text()


def test_retention_removes_old_telemetry(hub_factory):
    hub = hub_factory("retention", extra_args=("--retention", "3s"))
    cs = hub.create_device(unique("ret"))
    did = sas.parse_connection_string(cs)["DeviceId"]
    dev = PahoDevice.from_connection_string(hub, cs)
    try:
        assert dev.connect() == 0
        infos = [dev.publish(sas.telemetry_topic(did), f"m{i}".encode(), qos=1) for i in range(5)]
        assert wait_for(lambda: all(i.mid in dev.acked() for i in infos), timeout=10)
    finally:
        dev.close()

    def stats():
        cp = hub.cli("telemetry", "stats", "--output", "json", check=True)
        return json.loads(cp.stdout)

    first = stats()
    assert first["messageCount"] == 5 and first["retentionSeconds"] == 3
    assert wait_for(lambda: stats()["messageCount"] == 0, timeout=15), "old telemetry is removed"
    assert stats()["lastSequenceNumber"] is None
