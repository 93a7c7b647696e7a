"""Device authentication and authorization on the MQTT endpoint.

CONNACK return code 5 ("not authorized") is what the hub answers to a bad credential. The SDK
maps CONNACK 4 and 5 to azure.iot.device.exceptions.CredentialError (mqtt_transport.py,
paho_connack_rc_to_error -> UnauthorizedError -> sync_clients.handle_result), so the SDK tests
check CredentialError and the paho tests check that the code on the wire is exactly 5.

Expired tokens: azure-iot-device 2.14.0 refuses an already expired token locally
(IoTHubDeviceClient.create_from_sastoken raises ValueError "Provided SasToken has already
expired" before any connection), and create_from_connection_string always mints a fresh token.
So the wire check uses paho-mqtt 1.6.1 with a hand-built expired SAS token. The SDK test uses a
token that is valid when the client is created and has expired by the time connect() is called
(the SDK only checks expiry at creation).
"""

from __future__ import annotations

import socket
import time

import pytest
from azure.iot.device import IoTHubDeviceClient, Message
from azure.iot.device.exceptions import CredentialError

import sas
from outpost import (MQTT_PORT, PahoDevice, bounded, client_ssl_context, random_key,
                     read_until_closed, sdk_device_client, shutdown_quietly, unique, wait_for)

NOT_AUTHORIZED = 5


def with_key(cs: str, key: str) -> str:
    p = sas.parse_connection_string(cs)
    p["SharedAccessKey"] = key
    return ";".join(f"{k}={v}" for k, v in p.items())


def expect_credential_error(client) -> None:
    try:
        with pytest.raises(CredentialError):
            bounded(client.connect, timeout=30, what="connect")
    finally:
        shutdown_quietly(client)


def assert_connects_and_sends(hub, cs: str, tag: str) -> None:
    did = sas.parse_connection_string(cs)["DeviceId"]
    client = sdk_device_client(hub, cs)
    try:
        bounded(client.connect, timeout=30, what="connect")
        bounded(client.send_message, Message("ok", message_id=tag), timeout=15,
                what="send_message")
    finally:
        shutdown_quietly(client)
    evs = hub.monitor(device=did, group=unique("cg"), from_sequence=1, timeout=3)
    assert tag in [e["systemProperties"]["message-id"] for e in evs]


# ---- SDK: CredentialError ------------------------------------------------------------------


def test_sdk_wrong_key(hub):
    cs = hub.create_device(unique("wk"))
    expect_credential_error(
        sdk_device_client(hub, with_key(cs, random_key()), connection_retry=False))


def test_sdk_unknown_device(hub):
    cs = f"HostName={hub.host};DeviceId={unique('ghost')};SharedAccessKey={random_key()}"
    expect_credential_error(sdk_device_client(hub, cs, connection_retry=False))


def test_sdk_disabled_device(hub):
    cs = hub.create_device(unique("dis"), status="disabled")
    expect_credential_error(sdk_device_client(hub, cs, connection_retry=False))


def test_sdk_device_disabled_after_creation(hub):
    did = unique("later")
    cs = hub.create_device(did)
    assert_connects_and_sends(hub, cs, "before-disable")
    hub.cli("device", "update", did, "--status", "disabled", check=True)
    expect_credential_error(sdk_device_client(hub, cs, connection_retry=False))
    hub.cli("device", "update", did, "--status", "enabled", check=True)
    assert_connects_and_sends(hub, cs, "after-enable")


def test_sdk_token_expired_before_connect(hub):
    cs = hub.create_device(unique("exp"))
    expiry = int(time.time()) + 3
    token = sas.device_token_from_connection_string(cs, expiry=expiry)
    client = IoTHubDeviceClient.create_from_sastoken(
        token, server_verification_cert=hub.ca_pem, connection_retry=False)
    wait_for(lambda: time.time() > expiry + 2, timeout=10)
    expect_credential_error(client)


def test_sdk_module_wrong_key(hub):
    did = unique("mwk")
    hub.create_device(did)
    cs = hub.create_module(did, "m1")
    expect_credential_error(
        sdk_device_client(hub, with_key(cs, random_key()), module=True,
                          connection_retry=False))


def test_sdk_device_key_does_not_open_module(hub):
    """A module connection signed with the device's key (not the module's) is refused."""
    did = unique("dkm")
    dcs = hub.create_device(did)
    hub.create_module(did, "m1")
    dkey = sas.parse_connection_string(dcs)["SharedAccessKey"]
    cs = f"HostName={hub.host};DeviceId={did};ModuleId=m1;SharedAccessKey={dkey}"
    expect_credential_error(sdk_device_client(hub, cs, module=True, connection_retry=False))


# ---- paho: CONNACK 5 on the wire -------------------------------------------------------------


def _paho_connack(hub, device_id: str, password: str) -> int | None:
    p = PahoDevice(hub, device_id=device_id, password=password)
    try:
        return p.connect(timeout=10)
    finally:
        p.close()


@pytest.mark.parametrize("case", ["expired", "wrong-key", "unknown", "disabled", "garbage"])
def test_connack_5(hub, case):
    did = unique(case)
    if case == "unknown":
        pw = sas.generate_sas_token(sas.resource_uri(hub.host, did), random_key())
    else:
        cs = hub.create_device(did, status="disabled" if case == "disabled" else None)
        if case == "expired":
            pw = sas.device_token_from_connection_string(cs, expiry=int(time.time()) - 60)
        elif case == "wrong-key":
            pw = sas.device_token_from_connection_string(with_key(cs, random_key()))
        elif case == "garbage":
            pw = "SharedAccessSignature this-is-not-a-token"
        else:
            pw = sas.device_token_from_connection_string(cs)
    assert _paho_connack(hub, did, pw) == NOT_AUTHORIZED


def test_token_for_another_device_is_refused(hub):
    a, b = unique("a"), unique("b")
    hub.create_device(a)
    bcs = hub.create_device(b)
    # A valid token for device b, presented by a client that says it is device a.
    assert _paho_connack(hub, a, sas.device_token_from_connection_string(bcs)) == NOT_AUTHORIZED


def test_paho_valid_token_is_accepted(hub):
    did = unique("ok")
    cs = hub.create_device(did)
    assert _paho_connack(hub, did, sas.device_token_from_connection_string(cs)) == 0


# ---- authorization of topics -----------------------------------------------------------------


def test_publish_to_other_device_topic_disconnects(hub):
    a, b = unique("pa"), unique("pb")
    acs = hub.create_device(a)
    hub.create_device(b)
    p = PahoDevice.from_connection_string(hub, acs)
    try:
        assert p.connect() == 0
        info = p.publish(sas.telemetry_topic(b, system=[("$.mid", "spoofed")]), b"spoof", qos=1)
        assert p.disconnected.wait(10), "the hub must drop a client publishing as another device"
        assert info.mid not in p.acked(), "no PUBACK for a refused publish"
    finally:
        p.close()
    assert hub.monitor(device=b, group=unique("cg"), from_sequence=1, timeout=3) == []
    assert all(e["deviceId"] != b
               for e in hub.monitor(group=unique("cg"), from_sequence=1, timeout=3))
    # a itself is not locked out.
    assert_connects_and_sends(hub, acs, "a-still-works")


def test_subscribe_to_other_device_topic_disconnects(hub):
    a, b = unique("sa"), unique("sb")
    acs = hub.create_device(a)
    hub.create_device(b)
    p = PahoDevice.from_connection_string(hub, acs)
    try:
        assert p.connect() == 0
        p.client.subscribe(f"devices/{b}/messages/devicebound/#", qos=1)
        assert p.disconnected.wait(10), "the hub must drop a client subscribing as another device"
    finally:
        p.close()


def test_module_cannot_publish_as_its_device(hub):
    did = unique("md")
    hub.create_device(did)
    mcs = hub.create_module(did, "m1")
    p = PahoDevice.from_connection_string(hub, mcs)
    try:
        assert p.connect() == 0
        p.publish(sas.telemetry_topic(did, system=[("$.mid", "as-device")]), b"x", qos=1)
        assert p.disconnected.wait(10)
    finally:
        p.close()
    assert hub.monitor(device=did, group=unique("cg"), from_sequence=1, timeout=3) == []


# ---- malformed input -------------------------------------------------------------------------

MALFORMED = {
    # remaining length with a fifth continuation byte (max is four)
    "bad-remaining-length": b"\x10\xff\xff\xff\xff\x01",
    # packet type 0 is reserved
    "reserved-type": b"\x00\x00",
    # first packet is not CONNECT
    "publish-before-connect": b"\x30\x07\x00\x03a/bxy",
    # CONNECT with protocol name "MQXX"
    "bad-protocol-name": b"\x10\x10\x00\x04MQXX\x04\x02\x00\x3c\x00\x04abcd",
    # CONNECT with reserved flag bit 0 set
    "connect-reserved-flag": b"\x10\x10\x00\x04MQTT\x04\x03\x00\x3c\x00\x04abcd",
    # Not MQTT at all ("G" reads as a PUBACK with reserved flags set, "E" as length 69; the
    # request is long enough that the whole would-be packet arrives)
    "http-request": b"GET /$iothub/websocket HTTP/1.1\r\nHost: x\r\nUser-Agent: compat\r\n"
                    + b"X-Pad: " + b"p" * 100 + b"\r\n\r\n",
    # CONNECT whose client-id length runs past the packet
    "truncated-string": b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\xff",
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_packet_closes_only_that_connection(hub, name):
    good = unique("good")
    good_cs = hub.create_device(good)

    # A healthy client, already connected before the garbage arrives, must survive it.
    bystander = PahoDevice.from_connection_string(hub, good_cs)
    try:
        assert bystander.connect() == 0

        raw = socket.create_connection((hub.host, MQTT_PORT), timeout=10)
        tls = client_ssl_context(hub.ca_pem).wrap_socket(raw, server_hostname=hub.host)
        try:
            tls.sendall(MALFORMED[name])
            closed, data = read_until_closed(tls, timeout=10)
            assert closed, f"the hub kept the connection open after {name!r}"
            # A CONNACK with a refusal code before closing is allowed (MQTT 3.1.1 3.1.4).
            assert data in (b"",) or data[:1] == b"\x20", data
        finally:
            tls.close()

        info = bystander.publish(sas.telemetry_topic(good, system=[("$.mid", "bystander")]),
                                 b"still here", qos=1)
        assert wait_for(lambda: info.mid in bystander.acked(), timeout=10), \
            "an existing connection is unaffected"
        assert not bystander.disconnected.is_set()
    finally:
        bystander.close()

    # And a new device connects and sends afterwards.
    assert_connects_and_sends(hub, good_cs, f"after-{name}")
    assert hub.running


def test_non_tls_bytes_on_8883(hub):
    raw = socket.create_connection((hub.host, MQTT_PORT), timeout=10)
    try:
        raw.sendall(b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00" * 4)
        closed, _ = read_until_closed(raw, timeout=10)
        assert closed
    finally:
        raw.close()
    cs = hub.create_device(unique("after"))
    assert_connects_and_sends(hub, cs, "after-plain")
