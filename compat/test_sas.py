"""Offline checks of the suite's own helpers against azure-iot-device (no hub needed)."""

import time

from azure.iot.device import Message
from azure.iot.device.common.auth import sastoken as st
from azure.iot.device.common.auth.signing_mechanism import SymmetricKeySigningMechanism
from azure.iot.device.iothub.pipeline import mqtt_topic_iothub

import sas
from outpost import random_key


def test_device_token_matches_sdk():
    key = random_key()
    for uri in ("127.0.0.9/devices/dev1", "h.example/devices/d 1/modules/m/1"):
        sdk = st.RenewableSasToken(uri, SymmetricKeySigningMechanism(key), ttl=600)
        assert sas.generate_sas_token(uri, key, expiry=sdk.expiry_time) == str(sdk)


def test_expired_token_is_still_well_formed():
    key = random_key()
    tok = sas.generate_sas_token("h/devices/d", key, expiry=int(time.time()) - 60)
    info = st.get_sastoken_info_from_string(tok)
    assert info["sr"] == "h%2Fdevices%2Fd"
    assert int(info["se"]) < time.time()


def test_connection_string_parsing_keeps_padding():
    cs = "HostName=127.0.0.5;DeviceId=d;ModuleId=m;SharedAccessKey=abc=="
    assert sas.parse_connection_string(cs) == {
        "HostName": "127.0.0.5", "DeviceId": "d", "ModuleId": "m", "SharedAccessKey": "abc=="}


def test_telemetry_topic_matches_sdk():
    m = Message("x", message_id="id 1", content_type="application/json",
                content_encoding="utf-8")
    m.custom_properties = {"k/1": "a b&c=d", "seq": "3"}
    sdk_topic = mqtt_topic_iothub.encode_message_properties_in_topic(
        m, mqtt_topic_iothub.get_telemetry_topic_for_publish("dev1", None))
    ours = sas.telemetry_topic(
        "dev1", system=[("$.mid", "id 1"), ("$.ct", "application/json"), ("$.ce", "utf-8")],
        props={"k/1": "a b&c=d", "seq": "3"})
    assert ours == sdk_topic
    # What the hub has to parse: "$" arrives percent-encoded, "/" inside values too.
    assert sdk_topic == ("devices/dev1/messages/events/%24.mid=id%201&%24.ct=application%2Fjson"
                         "&%24.ce=utf-8&k%2F1=a%20b%26c%3Dd&seq=3")


def test_username_shape():
    u = sas.mqtt_username("127.0.0.9", "dev1", "mod1", client_type="a/1 (b)")
    assert u == "127.0.0.9/dev1/mod1/?api-version=2019-10-01&DeviceClientType=a%2F1%20%28b%29"
